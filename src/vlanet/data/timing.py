"""How feature rows map to seconds (``data.time_convention``).

* ``fps``: a row covers ``frames_per_row`` frames at ``fps`` (TGA/VLANet C3D: 16 frames, 24 fps);
* ``uniform``: the T rows are spread evenly over the video's duration (I3D releases);
* ``seconds``: every row covers ``seconds_per_row`` seconds;
* ``auto``: the feature file's attributes (``time_convention``, ``fps``, ``frames_per_row``,
  ``seconds_per_row``) decide, falling back to ``fps``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class TimeConvention:
    kind: str = "fps"  # fps | uniform | seconds
    fps: float = 24.0
    frames_per_row: int = 16
    seconds_per_row: float = 0.0

    def row_seconds(self, n_rows: int, duration: float) -> float:
        """Seconds covered by one feature row of a video with ``n_rows`` rows."""
        if self.kind == "uniform":
            return duration / n_rows
        if self.kind == "seconds":
            return self.seconds_per_row
        return self.frames_per_row / self.fps

    def to_rows(self, windows_s: np.ndarray, n_rows: int, duration: float) -> np.ndarray:
        """Window edges in seconds -> row coordinates (fractional rows) of a video of ``n_rows``
        rows lasting ``duration`` seconds: what the model's pooling (Eq. 2) reads."""
        return np.asarray(windows_s, dtype=np.float64) / self.row_seconds(n_rows, duration)

    def attrs(self) -> dict[str, Any]:
        return {"time_convention": self.kind, "fps": self.fps, "frames_per_row": self.frames_per_row,
                "seconds_per_row": self.seconds_per_row}


def convention_from(cfg_data: Any, file_attrs: dict[str, Any]) -> TimeConvention:
    """Resolve the time convention from the data config, falling back to file attributes for 'auto'."""
    kind = cfg_data.time_convention
    fps, fpr, spr = cfg_data.fps, cfg_data.frames_per_row, cfg_data.seconds_per_row
    if kind == "auto":
        kind = str(file_attrs.get("time_convention", "fps"))
        fps = float(file_attrs.get("fps", fps))
        fpr = int(file_attrs.get("frames_per_row", fpr))
        spr = float(file_attrs.get("seconds_per_row", spr))
    return TimeConvention(kind, fps, fpr, spr)
