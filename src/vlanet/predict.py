"""From a trained model to ranked windows in seconds: the one prediction path.

For each query the CCA ranking scores of the video elements (surrogates, or all proposals in
the "w/o surrogate" ablation) are mapped back to their windows in seconds (CNM's and CPL's
Gaussian proposals are spans in fractions of the video, times its duration), then temporal NMS
(``eval.nms_threshold``) keeps the top ``eval.topk``.  Output rows follow the moment_detr
prediction format.  The random baseline uses the same proposals and the same NMS.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from vlanet.config import EvalConfig
from vlanet.data.annotations import Query
from vlanet.data.dataset import MomentDataset, batch_loader
from vlanet.utils.errors import InputError
from vlanet.utils.spans import nms


def prediction_row(q: Query, windows: np.ndarray, scores: np.ndarray, nms_threshold: float | None,
                   topk: int | None) -> dict[str, Any]:
    """A moment_detr prediction row: windows ranked by score after temporal NMS, top-k kept.
    A window listed twice (e.g. clipped at the video's end in two scales) counts once, with its
    best score, so it never takes two of the top-k places."""
    windows = np.asarray(windows, dtype=np.float64).reshape(-1, 2)
    scores = np.asarray(scores, dtype=np.float64)
    rounded = [(round(s, 4), round(e, 4)) for s, e in windows.tolist()]  # as written, and the duplicate key
    seen: set[tuple[float, float]] = set()
    first = []
    for j in np.argsort(-scores, kind="stable"):
        if rounded[j] not in seen:
            seen.add(rounded[j])
            first.append(j)
    first = np.asarray(first, dtype=np.int64)
    keep = first[nms(windows[first], scores[first], nms_threshold, topk)] if len(first) else first
    wins = [[*rounded[j], float(scores[j])] for j in keep]
    return {"qid": q.qid, "query": q.query, "vid": q.vid, "duration": q.duration, "pred_relevant_windows": wins}



@dataclass
class PredictOutput:
    rows: dict[Any, dict[str, Any]]  # qid -> moment_detr prediction row
    pos_score: float  # mean c over the positive pairs (Fig. 4)
    neg_score: float  # mean c over one mismatched (other video) pair per query; nan unless asked


def complete_order(group_scores: np.ndarray, window_scores: np.ndarray, mask: np.ndarray,
                   order: str = "groups") -> tuple[np.ndarray, np.ndarray]:
    """Rank all K*L proposals from the CCA score of each group and the Eq. (3) score of each window.

    group_scores (K,) (-inf = no group), window_scores (K, L), mask (K, L).  ``order``:
    'groups': every window of the best group (by Eq. 3), then every window of the next group;
    'rounds': the K surrogates (each group's Eq. 3 best) in CCA order, then each group's
    second-best window in CCA order, and so on.  Returns the flat window indices in rank order
    and a score for each, decreasing along the ranking (the group's score, lowered by whole
    multiples of the score range per round with 'rounds').
    """
    n_scales = window_scores.shape[1]
    groups = [k for k in np.argsort(-group_scores, kind="stable") if np.isfinite(group_scores[k])]
    ranked = {}  # group -> its windows, best first
    for k in groups:
        valid = np.flatnonzero(mask[k])
        ranked[k] = valid[np.argsort(-window_scores[k, valid], kind="stable")]
    idx, sc = [], []
    if order == "groups":
        for k in groups:
            idx += [k * n_scales + l for l in ranked[k]]
            sc += [group_scores[k]] * len(ranked[k])
    elif order == "rounds":
        finite = group_scores[np.isfinite(group_scores)]
        step = float(finite.max() - finite.min()) + 1.0 if len(finite) else 1.0
        for r in range(n_scales):
            for k in groups:
                if r < len(ranked[k]):
                    idx.append(k * n_scales + ranked[k][r])
                    sc.append(group_scores[k] - r * step)
    else:
        raise ValueError(f"complete ranking order {order!r}")
    return np.asarray(idx, dtype=np.int64), np.asarray(sc, dtype=np.float64)


class PairRanker:
    """Windows in seconds, ranked, for the positive pairs (j, j) of a scored batch: the CCA
    ranking of the video elements mapped back to their windows (Sec. 3.1, test time), or with
    ``complete`` every proposal (see ``complete_order``)."""

    def __init__(self, video, query, out, complete: bool, video_of: torch.Tensor | None = None,
                 order: str = "groups"):
        """``video_of[j]``: index into ``video`` of query j's video (default: j)."""
        b = query.mask.shape[0]
        if video_of is None:
            video_of = torch.arange(b, device=query.mask.device)
        self.scores = out.element_scores[:b].float().masked_fill(~out.element_mask[:b], float("-inf")).cpu().numpy()
        self.win_idx = out.element_window[:b].cpu().numpy()
        # models whose elements are free spans (CNM, CPL): fractions of the video, not grid windows
        self.spans = None if out.element_span is None else out.element_span[:b].float().cpu().numpy()
        # complete ranking applies when the elements are the K surrogates (not all K*L proposals)
        self.order = order
        self.complete = (complete and self.spans is None and out.element_scores.shape[1] == video.proposals.shape[1]
                         and video.proposals.shape[2] > 1)
        if self.complete:  # Eq. (3) score of every proposal orders the windows inside each group
            self.eq3 = torch.einsum("bkld,bd->bkl", video.proposals[video_of], query.last).float().cpu().numpy()
            self.mask = video.mask[video_of].cpu().numpy()

    def windows(self, j: int, grid: np.ndarray, duration: float) -> tuple[np.ndarray, np.ndarray]:
        """grid (K, L, 2): the pair's proposal windows in seconds, ``duration`` its video's length
        -> (windows (N, 2), scores (N,))."""
        if self.spans is not None:
            ok = np.isfinite(self.scores[j])
            return self.spans[j][ok].astype(np.float64) * duration, self.scores[j][ok]
        flat = grid.reshape(-1, 2)
        if self.complete:
            kk = grid.shape[0]
            order, sc = complete_order(self.scores[j][:kk], self.eq3[j, :kk], self.mask[j, :kk], self.order)
            return flat[order], sc
        ok = np.isfinite(self.scores[j])
        return flat[self.win_idx[j][ok]], self.scores[j][ok]


def length_sorted_batches(ds: MomentDataset, size: int) -> list[list[int]]:
    """Batches of queries sorted by video duration (stable), so padding is small; the output
    does not depend on batching."""
    order = sorted(range(len(ds)), key=lambda i: ds.queries[i].duration)
    return [order[s:s + size] for s in range(0, len(order), size)]


def mismatched(video_code: torch.Tensor) -> torch.Tensor:
    """For each position, the nearest later position (cyclic) whose video differs; itself if none."""
    b = len(video_code)
    out = torch.arange(b)
    for shift in range(1, b):
        j = (torch.arange(b) + shift) % b
        take = (out == torch.arange(b)) & (video_code[j] != video_code)
        out = torch.where(take, j, out)
    return out


@torch.no_grad()
def predict_dataset(model: torch.nn.Module, ds: MomentDataset, cfg: EvalConfig,
                    device: str | torch.device = "cpu", progress: bool = False,
                    num_workers: int = 0, negatives: bool = False) -> PredictOutput:
    """Every query's prediction row.  ``negatives``: also score one mismatched pair per query
    (the query with another video's) for ``neg_score``, Fig. 4's negative curve; that doubles
    the scoring, so only validation during training asks for it (``neg_score`` is nan without)."""
    from vlanet.utils.progress import bar

    model.eval()
    rows: dict[Any, dict[str, Any]] = {}
    pos, neg, n_neg = 0.0, 0.0, 0
    batches = length_sorted_batches(ds, cfg.batch_size)
    for batch in bar(batch_loader(ds, batches, num_workers), total=len(batches), desc="predict", enabled=progress):
        batch = batch.to(device)
        # queries of one video share its encoding: encode each distinct video once
        codes = batch.video_code.cpu()
        uniq, vid_of = torch.unique(codes, return_inverse=True)
        first = torch.zeros(len(uniq), dtype=torch.long).scatter_reduce(
            0, vid_of, torch.arange(len(codes)), reduce="amin", include_self=False).to(device)
        video = model.encode_video(batch.feats[first], batch.row_mask[first], batch.windows[first], batch.win_mask[first])
        query = model.encode_query(batch.words, batch.word_mask)
        idx = torch.arange(len(batch.index), device=device)
        vid_of = vid_of.to(device)
        other = mismatched(codes).to(device)
        valid = (other != idx) & negatives
        out = model.score_pairs(video, query, torch.cat([vid_of, vid_of[valid]]), torch.cat([idx, other[valid]]))
        b = len(idx)
        pos += float(out.score[:b].sum())
        neg += float(out.score[b:].sum())
        n_neg += int(valid.sum())
        ranker = PairRanker(video, query, out, cfg.complete_ranking, vid_of, cfg.complete_order)
        for j, i in enumerate(batch.index):
            wins, sc = ranker.windows(j, ds.video(i).windows, ds.queries[i].duration)
            rows[ds.queries[i].qid] = prediction_row(ds.queries[i], wins, sc, cfg.nms, cfg.topk)
    return PredictOutput(rows, pos / max(len(ds), 1), neg / n_neg if n_neg else float("nan"))


def check_compatible(trained_time: dict[str, Any] | None, time_attrs: dict[str, Any], feature_dim: int | None,
                     expected_dim: int, source: str, hint: str = "") -> None:
    """Features a checkpoint can read: its feature width and its time convention (rows to
    seconds), checked before any work; one InputError naming what differs."""
    if feature_dim is not None and feature_dim != expected_dim:
        raise InputError(f"{source}: features have dim {feature_dim}, the checkpoint expects {expected_dim}")
    if trained_time and trained_time != time_attrs:
        keys = sorted(set(time_attrs) | set(trained_time))
        diff = ", ".join(f"{k} {time_attrs.get(k)!r} (checkpoint: {trained_time.get(k)!r})"
                         for k in keys if time_attrs.get(k) != trained_time.get(k))
        raise InputError(f"{source}: time convention differs from the checkpoint's: {diff}"
                         + (f" ({hint})" if hint else ""))

