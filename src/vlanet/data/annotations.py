"""Ground-truth and prediction files in the moment_detr / lighthouse JSONL format.

Ground truth:  {"qid", "query", "vid", "duration", "relevant_windows": [[s, e], ...]}
Predictions:   {"qid", "query", "vid", "duration", "pred_relevant_windows": [[s, e, score], ...]}

Readers validate every line and raise InputError naming the file, line and field.
Writers are atomic (temporary file, then rename).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vlanet.utils.errors import InputError
from vlanet.utils.io import atomic_write_text
from vlanet.utils.readers import parse_json, read_text


@dataclass
class Query:
    qid: Any
    vid: str
    query: str
    duration: float
    windows: list[list[float]] = field(default_factory=list)  # ground-truth windows (seconds)
    extra: dict[str, Any] = field(default_factory=dict)  # other keys (e.g. didemo_times), kept as-is

    def to_json(self) -> dict[str, Any]:
        row = {"qid": self.qid, "query": self.query, "duration": self.duration, "vid": self.vid,
               "relevant_windows": self.windows}
        row.update(self.extra)
        return row


MAX_SECONDS = 1e7  # about 116 days: longer "videos" are corrupt rows (1e308 overflows the row count)


def _num(v: Any, path: Path, line: int, name: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise InputError(f"{path}:{line}: field '{name}' must be a finite number, got {v!r}")
    return float(v)


def window_list(wins: Any, path: Path, line: int, name: str, width: int) -> list[list[float]]:
    """A JSON list of windows, each [start, end] (``width`` 2) or [start, end, score] (3, the
    score optional), finite with start <= end, as lists of floats: the ground-truth and the
    prediction readers share it."""
    shape = "[start, end]" if width == 2 else "[start, end, score]"
    if not isinstance(wins, list):
        raise InputError(f"{path}:{line}: field '{name}' must be a list of {shape}")
    out = []
    for w in wins:
        if not isinstance(w, list) or len(w) < 2:
            raise InputError(f"{path}:{line}: field '{name}' must hold {shape} entries, got {w!r}")
        vals = [_num(x, path, line, name) for x in w[:width]]
        if max(abs(vals[0]), abs(vals[1])) > MAX_SECONDS:
            raise InputError(f"{path}:{line}: field '{name}' has a time beyond {MAX_SECONDS:g} s: {w!r}")
        if vals[1] < vals[0]:
            raise InputError(f"{path}:{line}: field '{name}' has end {vals[1]} before start {vals[0]}")
        out.append(vals)
    return out


def read_jsonl(path: str | Path) -> list[tuple[int, dict[str, Any]]]:
    """Read a JSONL file into (line number, object) pairs; blank lines are skipped."""
    p = Path(path)
    rows = []
    for i, line in enumerate(read_text(p).splitlines(), 1):
        if not line.strip():
            continue
        obj = parse_json(line, f"{p}:{i}")
        if not isinstance(obj, dict):
            raise InputError(f"{p}:{i}: expected a JSON object")
        rows.append((i, obj))
    if not rows:
        raise InputError(f"{p}: empty file, no JSON lines")
    return rows


def read_ground_truth(path: str | Path) -> list[Query]:
    p = Path(path)
    out: list[Query] = []
    seen: dict[Any, int] = {}
    for line, obj in read_jsonl(p):
        for key in ("qid", "vid", "query", "duration", "relevant_windows"):
            if key not in obj:
                raise InputError(f"{p}:{line}: missing field '{key}'")
        qid = obj["qid"]
        if not isinstance(qid, (int, str)) or isinstance(qid, bool):
            raise InputError(f"{p}:{line}: field 'qid' must be an integer or string")
        if qid in seen:
            raise InputError(f"{p}:{line}: duplicate qid {qid!r} (first on line {seen[qid]})")
        seen[qid] = line
        if not isinstance(obj["vid"], (str, int)) or isinstance(obj["vid"], bool) or str(obj["vid"]) == "":
            raise InputError(f"{p}:{line}: field 'vid' must be a non-empty string")
        if not isinstance(obj["query"], str) or not obj["query"].strip():
            raise InputError(f"{p}:{line}: field 'query' must be a non-empty string")
        duration = _num(obj["duration"], p, line, "duration")
        if not 0 < duration <= MAX_SECONDS:
            raise InputError(f"{p}:{line}: field 'duration' must be > 0 and at most {MAX_SECONDS:g} s, got {duration:g}")
        windows = window_list(obj["relevant_windows"], p, line, "relevant_windows", 2)
        extra = {k: v for k, v in obj.items() if k not in ("qid", "vid", "query", "duration", "relevant_windows")}
        out.append(Query(qid, str(obj["vid"]), obj["query"], duration, windows, extra))
    return out


def write_jsonl(path: str | Path, rows: Iterable[dict[str, Any]]) -> None:
    atomic_write_text(path, "".join(json.dumps(r) + "\n" for r in rows))


def write_ground_truth(path: str | Path, queries: Iterable[Query]) -> None:
    write_jsonl(path, (q.to_json() for q in queries))


def read_predictions(path: str | Path) -> dict[Any, dict[str, Any]]:
    """qid -> prediction row; windows validated (finite, start <= end, score finite)."""
    p = Path(path)
    out: dict[Any, dict[str, Any]] = {}
    for line, obj in read_jsonl(p):
        if "qid" not in obj:
            raise InputError(f"{p}:{line}: missing field 'qid'")
        if "pred_relevant_windows" not in obj:
            raise InputError(f"{p}:{line}: missing field 'pred_relevant_windows'")
        if not isinstance(obj["qid"], (int, str)) or isinstance(obj["qid"], bool):
            raise InputError(f"{p}:{line}: field 'qid' must be an integer or string")
        if obj["qid"] in out:
            raise InputError(f"{p}:{line}: duplicate qid {obj['qid']!r}")
        clean = []
        for vals in window_list(obj["pred_relevant_windows"], p, line, "pred_relevant_windows", 3):
            if len(vals) == 3 and clean and vals[2] > clean[-1][2]:
                raise InputError(f"{p}:{line}: field 'pred_relevant_windows' is not ranked: window {len(clean) + 1} "
                                 f"has score {vals[2]:g} after {clean[-1][2]:g} (list windows best first)")
            clean.append(vals if len(vals) == 3 else vals + [0.0])
        obj["pred_relevant_windows"] = clean
        out[obj["qid"]] = obj
    return out
