"""Blind baselines: no video features, only the proposal set and annotation statistics.

* ``random``: the model's own candidate set in random order (same NMS and top-k as the model);
* ``prior``: candidates ranked by how well they agree with the train split's moments, after
  normalising by duration (mean IoU with train moments); for DiDeMo, the moment-frequency prior
  (how often each of the 21 moments was chosen by annotators);
* ``oracle``: the candidate with the best IoU first, the ceiling for any method that ranks these
  candidates (for DiDeMo, the moment most annotators chose: the "Upper Bound" row).

Candidates: the Eq. (2) grid for Charades-STA / ActivityNet, the 21 fixed moments for DiDeMo.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np

from vlanet.config import EvalConfig
from vlanet.data.annotations import Query
from vlanet.data.prepare import didemo_window
from vlanet.eval.metrics import DIDEMO_MOMENTS, didemo_iou
from vlanet.predict import prediction_row
from vlanet.utils.spans import iou_matrix


def position_prior(train: list[Query], protocol: str, seed: int = 0) -> Callable[[np.ndarray, float], np.ndarray]:
    """The blind prior as a function (candidate windows (N, 2) in seconds, duration) -> scores:
    mean IoU with (up to 4,000) train moments after normalising by duration, or for DiDeMo how
    often annotators chose each of the 21 moments."""
    if not train:
        raise ValueError("the prior baseline needs the train split")
    if protocol == "didemo":
        counts = Counter(tuple(t) for q in train for t in q.extra.get("didemo_times", []))

        def moment_frequency(cand: np.ndarray, duration: float) -> np.ndarray:
            return np.array([counts[(round(s / 5), round(e / 5) - 1)] for s, e in cand], float)

        return moment_frequency
    rng = np.random.default_rng(seed)
    norm = np.array([[w[0] / q.duration, w[1] / q.duration] for q in train for w in q.windows[:1]])
    moments = norm[rng.permutation(len(norm))[:4000]]

    def mean_iou(cand: np.ndarray, duration: float) -> np.ndarray:
        return iou_matrix(cand / duration, moments).mean(1)

    return mean_iou


def grid_baseline(kind: str, queries: list[Query], train: list[Query] | None, spec: Any,
                  cfg: EvalConfig, seed: int = 0) -> dict[Any, dict[str, Any]]:
    """``spec``: a vlanet.data.dataset.ProposalSpec (the model's own grid)."""
    rng = np.random.default_rng(seed)
    prior = position_prior(train, "charades", seed) if kind == "prior" else None
    rows = {}
    for q in queries:
        win, mask = spec.grid(q.duration)
        cand = win[mask]
        if kind == "random":
            scores = rng.random(len(cand))
        elif kind == "prior":
            scores = prior(cand, q.duration)
        else:
            scores = iou_matrix(cand, np.asarray(q.windows)).max(1) if q.windows else np.zeros(len(cand))
        rows[q.qid] = prediction_row(q, cand, scores, cfg.nms, cfg.topk)
    return rows


def didemo_baseline(kind: str, queries: list[Query], train: list[Query] | None, seed: int = 0) -> dict[Any, dict[str, Any]]:
    rng = np.random.default_rng(seed)
    cand = np.array([didemo_window(s, e) for s, e in DIDEMO_MOMENTS])
    freq = position_prior(train, "didemo")(cand, 30.0) if kind == "prior" else None
    rows = {}
    for q in queries:
        if kind == "random":
            scores = rng.random(21)
        elif kind == "prior":
            scores = freq - 1e-3 * np.arange(21)  # ties: the official candidate order
        else:
            times = [tuple(t) for t in q.extra.get("didemo_times", [])]
            votes = Counter(times)
            scores = np.array([votes[m] + 1e-3 * np.mean([didemo_iou(m, t) for t in times]) for m in DIDEMO_MOMENTS])
        rows[q.qid] = prediction_row(q, cand, scores, None, None)
    return rows


def random_predictions(ds: Any, cfg: Any, seed: int = 0) -> dict[Any, dict[str, Any]]:
    """Random baseline on a dataset's own proposal grid (``ds``: a MomentDataset), with the
    model's NMS and top-k (``cfg``: its EvalConfig): the 'random' row of every training run."""
    return grid_baseline("random", ds.queries, None, ds.spec, cfg, seed)
