"""From a trained model to ranked windows in seconds: the one prediction path.

For each query the CCA ranking scores of the video elements (surrogates, or all proposals in
the "w/o surrogate" ablation) are mapped back to their windows in seconds, then temporal NMS
(``eval.nms_threshold``) keeps the top ``eval.topk``.  Output rows follow the moment_detr
prediction format.  The random baseline uses the same proposals and the same NMS.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from vlanet.config import EvalConfig
from vlanet.data.annotations import prediction_row
from vlanet.data.dataset import MomentDataset, batch_loader
from vlanet.eval.baselines import grid_baseline


@dataclass
class PredictOutput:
    rows: dict[Any, dict[str, Any]]  # qid -> moment_detr prediction row
    pos_score: float  # mean c over the positive pairs (Fig. 4)
    neg_score: float  # mean c over one mismatched (other video) pair per query


def sequential_batches(n: int, size: int) -> list[list[int]]:
    return [list(range(s, min(n, s + size))) for s in range(0, n, size)]


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
                    num_workers: int = 0) -> PredictOutput:
    from vlanet.progress import bar

    model.eval()
    rows: dict[Any, dict[str, Any]] = {}
    pos, neg, n_neg = 0.0, 0.0, 0
    batches = sequential_batches(len(ds), cfg.batch_size)
    for batch in bar(batch_loader(ds, batches, num_workers), total=len(batches), desc="predict", enabled=progress):
        batch = batch.to(device)
        video = model.encode_video(batch.feats, batch.row_mask, batch.windows, batch.win_mask)
        query = model.encode_query(batch.words, batch.word_mask)
        idx = torch.arange(len(batch.index), device=device)
        other = mismatched(batch.video_code.cpu()).to(device)
        valid = other != idx
        out = model.score_pairs(video, query, torch.cat([idx, idx[valid]]), torch.cat([idx, other[valid]]))
        b = len(idx)
        pos += float(out.score[:b].sum())
        neg += float(out.score[b:].sum())
        n_neg += int(valid.sum())
        scores = out.element_scores[:b].float().masked_fill(~out.element_mask[:b], float("-inf")).cpu().numpy()
        win_idx = out.element_window[:b].cpu().numpy()
        for j, i in enumerate(batch.index):
            info = ds.video(i)
            flat = info.windows.reshape(-1, 2)
            ok = np.isfinite(scores[j])
            rows[ds.queries[i].qid] = prediction_row(ds.queries[i], flat[win_idx[j][ok]], scores[j][ok], cfg.nms, cfg.topk)
    return PredictOutput(rows, pos / max(len(ds), 1), neg / max(n_neg, 1))


def random_predictions(ds: MomentDataset, cfg: EvalConfig, seed: int = 0) -> dict[Any, dict[str, Any]]:
    """Random baseline on the dataset's own proposal grid, with the model's NMS and top-k."""
    return grid_baseline("random", ds.queries, None, ds.spec.stride_s, ds.spec.windows_s, ds.spec.overflow, cfg, seed)
