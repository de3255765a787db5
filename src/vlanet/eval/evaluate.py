"""Evaluate a predictions file against a ground-truth file: the one evaluator every command uses.

``evaluate_rows`` works on in-memory rows (what training validates with); ``evaluate_files``
reads the JSONL files (what ``vlanet evaluate`` runs).  Both go through ``evaluate_rows``, so a
training run's numbers and predict+evaluate of the same checkpoint are the same computation.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vlanet.data.annotations import Query, read_ground_truth, read_predictions
from vlanet.eval.metrics import didemo_metrics, map_metrics, recall_metrics
from vlanet.utils.errors import InputError

PROTOCOLS = ("charades", "didemo", "anet")


@dataclass
class Protocol:
    name: str = "charades"
    nms: float | str | None = None  # None | threshold | "tall"
    hit_rule: str = ">="
    recall_at: list[int] = field(default_factory=lambda: [1, 5])
    ious: list[float] = field(default_factory=lambda: [0.3, 0.5, 0.7])

    def describe(self) -> str:
        if self.name == "didemo":
            return ("protocol=didemo candidates=21 R@n: mean of the best 3 annotator ranks <= n; "
                    "mIoU: mean of the top-3 IoUs of the top-1 moment (chunks, +1)")
        nms = "none" if self.nms is None else "TALL (m-0.05)" if self.nms == "tall" else f"fixed {self.nms:g}"
        return f"protocol={self.name} nms={nms} hit=IoU{self.hit_rule}m iou=seconds(no +1)"


def window_to_chunks(w: Sequence[float], duration: float, where: str) -> tuple[int, int]:
    """A DiDeMo window in seconds on the 5-s grid -> inclusive chunk pair (s, e).

    [5s, 5(e+1)] maps to (s, e); an end at the video's true end maps to the chunk containing it.
    Anything else is off the grid: an InputError.
    """
    s = round(w[0] / 5.0)
    if abs(w[0] - 5.0 * s) > 1e-3:
        raise InputError(f"{where}: window {list(w[:2])} does not start on the 5-second DiDeMo grid")
    if abs(w[1] - 5.0 * round(w[1] / 5.0)) <= 1e-3:
        e = round(w[1] / 5.0) - 1
    elif abs(w[1] - duration) <= 1e-3:
        e = math.ceil(w[1] / 5.0) - 1
    else:
        raise InputError(f"{where}: window {list(w[:2])} does not end on the 5-second DiDeMo grid or the video end")
    if not 0 <= s <= e <= 5:
        raise InputError(f"{where}: window {list(w[:2])} is not one of the 21 DiDeMo moments")
    return s, e


def model_protocol(cfg: Any) -> Protocol:
    """How training, experiments and controls score a config's predictions: windows as written
    (model-side NMS already applied), hits at IoU >= m."""
    return Protocol(cfg.eval.protocol, None, ">=", list(cfg.eval.recall_at), list(cfg.eval.iou_thresholds))


def evaluate_rows(preds: dict[Any, dict[str, Any]], gts: list[Query], protocol: Protocol,
                  source: str = "predictions") -> dict[str, float]:
    missing = [q.qid for q in gts if q.qid not in preds]
    if missing:
        raise InputError(f"{source}: no prediction for {len(missing)} ground-truth qid(s), first {missing[0]!r}")
    if protocol.name == "didemo":
        ranked, annot = [], []
        for q in gts:
            if "didemo_times" not in q.extra:
                raise InputError(f"ground truth qid {q.qid!r}: missing field 'didemo_times' (prepare it with 'vlanet data prepare didemo')")
            where = f"{source}: qid {q.qid!r}"
            ranked.append([window_to_chunks(w, q.duration, where) for w in preds[q.qid]["pred_relevant_windows"]])
            annot.append([tuple(t) for t in q.extra["didemo_times"]])
        return didemo_metrics(ranked, annot)
    ranked, windows = [preds[q.qid]["pred_relevant_windows"] for q in gts], [q.windows for q in gts]
    return {**recall_metrics(ranked, windows, protocol.recall_at, protocol.ious, protocol.nms, protocol.hit_rule),
            **map_metrics(ranked, windows)}


def evaluate_files(pred_path: str | Path, gt_path: str | Path, protocol: Protocol) -> dict[str, float]:
    gts = read_ground_truth(gt_path)
    preds = read_predictions(pred_path)
    return evaluate_rows(preds, gts, protocol, str(pred_path))


def format_table(rows: dict[str, dict[str, float]], keys: list[str] | None = None) -> str:
    """A Markdown table: one row per method, one column per metric."""
    first = next(iter(rows.values()))
    keys = keys or list(first.keys())
    lines = ["| method | " + " | ".join(keys) + " |", "|---|" + "---:|" * len(keys)]
    for name, m in rows.items():
        lines.append(f"| {name} | " + " | ".join(f"{m[k]:.2f}" for k in keys) + " |")
    return "\n".join(lines)
