"""Pure metrics: R@n,IoU=m and mIoU (Charades-STA / ActivityNet protocol, TALL's definition).

* IoU in seconds, no "+1"; zero-length or reversed segments have IoU 0 (vlanet.utils.spans).
* A query is a hit at (n, m) when one of its top-n windows has IoU >= m (``hit_rule='>='``,
  TALL/TGA) or > m (``'>'``, 2D-TAN) with any of its ground-truth windows.
* Fewer than n predictions: whatever exists is used; an empty list is a miss.
* mIoU: mean over queries of the best IoU between the top-1 window and the ground truth
  (0 for an empty list).
* mAP (``map_metrics``): moment_detr's detection mAP over IoU 0.5:0.05:0.95, with mAP@0.5 and
  mAP@0.75, from each query's top-10 windows by score (what lighthouse reports beside R1).
* NMS before top-n: ``None`` (the windows as given), a fixed threshold, or ``'tall'``
  (threshold m - 0.05, separately for each m).
All values are percentages.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from vlanet.utils.spans import iou_matrix, nms


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


# -- mAP (moment_detr / QVHighlights, as lighthouse reports it) -----------------------------------
MAP_IOUS = tuple(round(0.5 + 0.05 * i, 2) for i in range(10))  # 0.5:0.05:0.95
MAP_MAX_WINDOWS = 10  # the top-10 windows of a query count, as in moment_detr's evaluator


def average_precision(pred: Sequence[Sequence[float]], gt: Sequence[Sequence[float]], t: float) -> float:
    """Detection AP of one query at IoU threshold ``t`` (ActivityNet's rule): windows by score,
    each a true positive when it overlaps a not yet matched ground-truth window at IoU >= t (the
    best-overlapping free one; among equal overlaps the last listed, as moment_detr's and
    lighthouse's evaluators break the tie); precision interpolated over recall."""
    pw = np.asarray([p[:2] for p in pred], dtype=np.float64).reshape(-1, 2)
    ps = np.asarray([p[2] if len(p) > 2 else 0.0 for p in pred], dtype=np.float64)
    gw = np.asarray(gt, dtype=np.float64).reshape(-1, 2)
    if len(gw) == 0 or len(pw) == 0:
        return 0.0
    order = np.argsort(-ps, kind="stable")
    iou = iou_matrix(pw[order], gw)
    used = np.zeros(len(gw), dtype=bool)
    tp = np.zeros(len(pw))
    for i in range(len(pw)):
        for j in np.argsort(iou[i])[::-1]:  # numpy's default sort, reversed: their exact order
            if iou[i, j] < t:
                break
            if not used[j]:
                used[j], tp[i] = True, 1.0
                break
    ctp, cfp = np.cumsum(tp), np.cumsum(1.0 - tp)
    recall, precision = ctp / len(gw), ctp / (ctp + cfp)
    mprec = np.concatenate([[0.0], precision, [0.0]])
    mrec = np.concatenate([[0.0], recall, [1.0]])
    for i in range(len(mprec) - 2, -1, -1):
        mprec[i] = max(mprec[i], mprec[i + 1])
    idx = np.where(mrec[1:] != mrec[:-1])[0] + 1
    return float(np.sum((mrec[idx] - mrec[idx - 1]) * mprec[idx]))


def map_metrics(preds: Sequence[Sequence[Sequence[float]]], gts: Sequence[Sequence[Sequence[float]]],
                ious: Sequence[float] = MAP_IOUS, max_windows: int = MAP_MAX_WINDOWS) -> dict[str, float]:
    """mAP averaged over IoU 0.5:0.05:0.95, and mAP@0.5, mAP@0.75 (percentages): the mean over
    queries of each query's AP, then over thresholds, from its top ``max_windows`` windows by score."""
    def top(pred):
        return sorted(pred, key=lambda w: -(w[2] if len(w) > 2 else 0.0))[:max_windows]

    per_t = {t: float(np.mean([average_precision(top(p), g, t) for p, g in zip(preds, gts)])) if gts else 0.0
             for t in ious}
    out = {"mAP": 100.0 * float(np.mean(list(per_t.values())))}
    for t in (0.5, 0.75):
        if t in per_t:
            out[f"mAP@{t:g}"] = 100.0 * per_t[t]
    return out


# -- DiDeMo (Hendricks et al., ICCV 2017) -------------------------------------------------------
DIDEMO_MOMENTS: list[tuple[int, int]] = [(i, i) for i in range(6)] + [(i, j) for i in range(6) for j in range(i + 1, 6)]


def didemo_iou(a: tuple[int, int], b: tuple[int, int]) -> float:
    """IoU on inclusive chunk indices, with the official "+1"."""
    inter = max(0, min(a[1], b[1]) + 1 - max(a[0], b[0]))
    union = max(a[1], b[1]) + 1 - min(a[0], b[0])
    return inter / union


def didemo_metrics(ranked: Sequence[Sequence[tuple[int, int]]], annotators: Sequence[Sequence[tuple[int, int]]]) -> dict[str, float]:
    """ranked[i]: predicted chunk pairs, best first; annotators[i]: the annotators' pairs.

    rank(t) = 1-based position of annotator moment t in the ranking (missing = 22, i.e. beyond the
    21 candidates); avg_rank = mean of the 3 smallest ranks; R@1 = avg_rank <= 1, R@5 = avg_rank <= 5;
    avg_iou = mean of the 3 largest IoUs between the top-1 moment and each annotator moment.
    Fewer than 3 annotations: what there is.  Percentages.
    """
    r1 = r5 = miou = 0.0
    for pred, gts in zip(ranked, annotators):
        pos = {tuple(m): i + 1 for i, m in reversed(list(enumerate(pred)))}
        ranks = sorted(pos.get(tuple(t), 22) for t in gts)[:3]
        avg_rank = sum(ranks) / len(ranks)
        r1 += avg_rank <= 1
        r5 += avg_rank <= 5
        if pred:
            ious = sorted((didemo_iou(tuple(pred[0]), tuple(t)) for t in gts), reverse=True)[:3]
            miou += sum(ious) / len(ious)
    n = max(len(annotators), 1)
    return {"R@1": 100.0 * r1 / n, "R@5": 100.0 * r5 / n, "mIoU": 100.0 * miou / n}
