"""Pure span utilities: temporal IoU, greedy NMS and the VLANet proposal grid.

Everything here works in **seconds** and on plain numpy arrays, so that the evaluator,
the baselines and the model's data pipeline share one definition of each rule.

Worked examples
---------------
>>> temporal_iou((0.0, 10.0), (5.0, 15.0))
0.3333333333333333
>>> temporal_iou((3.0, 3.0), (0.0, 10.0))   # zero-length segment
0.0
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def temporal_iou(a: Sequence[float], b: Sequence[float]) -> float:
    """IoU of two segments [s, e] in seconds. No "+1"; zero-length or reversed segments give 0."""
    return float(iou_matrix(np.asarray(a[:2], dtype=np.float64), np.asarray(b[:2], dtype=np.float64))[0, 0])


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise IoU between segments a (N, 2) and b (M, 2) -> (N, M), the rules of temporal_iou."""
    a = np.asarray(a, dtype=np.float64).reshape(-1, 2)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 2)
    if max(np.abs(a).max(initial=0.0), np.abs(b).max(initial=0.0)) > 1e300:
        a, b = a / 2, b / 2  # IoU is scale-free: no overflow at +-1e308 (tiny values stay, halving would zero them)
    inter = np.minimum(a[:, None, 1], b[None, :, 1]) - np.maximum(a[:, None, 0], b[None, :, 0])
    union = np.maximum(a[:, None, 1], b[None, :, 1]) - np.minimum(a[:, None, 0], b[None, :, 0])
    valid = (a[:, None, 1] > a[:, None, 0]) & (b[None, :, 1] > b[None, :, 0]) & (inter > 0)
    out = np.zeros(inter.shape, dtype=np.float64)
    np.divide(inter, union, out=out, where=valid)
    return out


def nms(windows: np.ndarray, scores: np.ndarray, threshold: float | None, topk: int | None = None) -> np.ndarray:
    """Greedy temporal NMS. Returns indices into ``windows``, best score first.

    A window is suppressed when its IoU with an already kept window is **> threshold**.
    ``threshold=None`` disables suppression (plain sort). Ties in score keep input order.
    """
    windows = np.asarray(windows, dtype=np.float64).reshape(-1, 2)
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")
    if threshold is None:
        return order[:topk] if topk is not None else order
    keep: list[int] = []  # IoUs are computed one kept row at a time: O(N) memory, not O(N^2)
    suppressed = np.zeros(len(order), dtype=bool)
    for i in order:
        if suppressed[i]:
            continue
        keep.append(int(i))
        if topk is not None and len(keep) >= topk:
            break
        suppressed |= iou_matrix(windows[i:i + 1], windows)[0] > threshold
    return np.asarray(keep, dtype=np.int64)


def proposal_grid(
    duration: float, stride_s: float, windows_s: Sequence[float], overflow: str = "clip"
) -> tuple[np.ndarray, np.ndarray]:
    """The segment groups of Eq. (2), in seconds.

    Group k starts at ``k * stride_s``; it holds one window per scale in ``windows_s``.
    Groups are created while the *smallest* window still fits inside the video.  A larger
    window of such a group that runs past the end is clipped to the end (``overflow='clip'``)
    or masked out (``overflow='drop'``).  A video shorter than the smallest window still gets
    one group at t=0 whose windows all cover the whole video, so every video has proposals.

    Returns ``(win, mask)``: win (K, L, 2) start/end seconds, mask (K, L) True = valid.
    """
    if overflow not in ("clip", "drop"):
        raise ValueError(f"overflow must be 'clip' or 'drop', got {overflow!r}")
    widths = np.asarray(windows_s, dtype=np.float64)
    eps = 1e-6
    n_groups = int(np.floor((duration - widths.min()) / stride_s + eps)) + 1 if duration >= widths.min() - eps else 0
    if n_groups <= 0:
        win = np.zeros((1, len(widths), 2))
        win[..., 1] = duration
        return win, np.ones((1, len(widths)), dtype=bool)
    starts = np.arange(n_groups, dtype=np.float64) * stride_s
    ends = starts[:, None] + widths[None, :]
    mask = ends <= duration + eps
    if overflow == "clip":
        mask[:] = True
    ends = np.minimum(ends, duration)
    win = np.stack([np.broadcast_to(starts[:, None], ends.shape), ends], axis=-1)
    return win, mask
