"""Pure metrics: R@n,IoU=m and mIoU (Charades-STA / ActivityNet protocol, TALL's definition).

* IoU in seconds, no "+1"; zero-length or reversed segments have IoU 0 (vlanet.spans).
* A query is a hit at (n, m) when one of its top-n windows has IoU >= m (``hit_rule='>='``,
  TALL/TGA) or > m (``'>'``, 2D-TAN) with any of its ground-truth windows.
* Fewer than n predictions: whatever exists is used; an empty list is a miss.
* mIoU: mean over queries of the best IoU between the top-1 window and the ground truth
  (0 for an empty list).
* NMS before top-n: ``None`` (the windows as given), a fixed threshold, or ``'tall'``
  (threshold m - 0.05, separately for each m).
All values are percentages.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from vlanet.spans import iou_matrix, nms


def metric_key(n: int, m: float) -> str:
    return f"R@{n},IoU={m:g}"


def recall_metrics(
    preds: Sequence[Sequence[Sequence[float]]],
    gts: Sequence[Sequence[Sequence[float]]],
    recall_at: Sequence[int] = (1, 5),
    ious: Sequence[float] = (0.3, 0.5, 0.7),
    nms_mode: float | str | None = None,
    hit_rule: str = ">=",
) -> dict[str, float]:
    """preds[i] = ranked [[s, e, score], ...] of query i; gts[i] = [[s, e], ...]."""
    if hit_rule not in (">=", ">"):
        raise ValueError(f"hit_rule must be '>=' or '>', got {hit_rule!r}")
    n_q = len(gts)
    hits = {(n, m): 0 for n in recall_at for m in ious}
    miou = 0.0
    for pred, gt in zip(preds, gts):
        pw = np.asarray([p[:2] for p in pred], dtype=np.float64).reshape(-1, 2)
        ps = np.asarray([p[2] if len(p) > 2 else 0.0 for p in pred], dtype=np.float64)
        gw = np.asarray(gt, dtype=np.float64).reshape(-1, 2)
        if len(pw) == 0 or len(gw) == 0:
            continue
        best = iou_matrix(pw, gw).max(1)  # (N,) best IoU of each predicted window
        miou += best[0]
        for m in ious:
            if nms_mode == "tall":
                order = nms(pw, ps, m - 0.05, max(recall_at))
            elif nms_mode is None:
                order = np.arange(len(pw))
            else:
                order = nms(pw, ps, float(nms_mode), max(recall_at))
            ok = best[order] >= m if hit_rule == ">=" else best[order] > m
            for n in recall_at:
                hits[(n, m)] += bool(ok[:n].any())
    out = {metric_key(n, m): 100.0 * hits[(n, m)] / max(n_q, 1) for n in recall_at for m in ious}
    out["mIoU"] = 100.0 * float(miou) / max(n_q, 1)
    return out
