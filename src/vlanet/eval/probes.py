"""What a test bed gives away: language-blind probes and the simulator's oracles.

Blind probes see the video features and the proposal grid, never the sentence; every query of a
video gets the same ranking.  A method that grounds language must beat them.

* ``saliency`` (no learning): how far a proposal's mean row lies from the video's mean row,
  relative to the video mean's norm, so a per-video gain does not matter;
* ``probe``: a ridge regression fitted on the train split, from a proposal's blind prior score
  and its centred feature (its mean row minus the video's, over the video mean's norm) to its
  best IoU with any annotated moment of its video: "a moment is here".  It starts from the
  prior, so it beats the prior exactly by what the features say without the sentence.  The
  ridge strength (the prior and the bias are not shrunk) is picked on held-out train videos.

Oracles (simulated beds only) know the simulator's hidden appearance of a sentence and score a
proposal by its centred feature's projection on it:

* ``oracle-sentence``: the sentence's full appearance (bag of words and word-pair binding);
* ``oracle-bow``: its bag of words only.

``calibrate`` prints all of them beside random and the prior; beds are tuned with these rows,
never with a trained model.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from vlanet.config import EvalConfig
from vlanet.data.annotations import Query
from vlanet.data.features import FeatureStore
from vlanet.data.timing import TimeConvention
from vlanet.model.proposals import pool_windows
from vlanet.predict import prediction_row
from vlanet.utils.spans import iou_matrix

BLIND_KINDS = ("saliency", "probe")
ORACLE_KINDS = ("oracle-bow", "oracle-sentence")
Prior = Callable[[np.ndarray, float], np.ndarray]  # eval.baselines.position_prior
PROBE_VIDEOS = 1500  # train videos the probe is fitted on (at most)
PROBE_PER_VIDEO = 40  # proposals per train video (at most)


def window_means(rows: np.ndarray, windows: np.ndarray) -> np.ndarray:
    """Exact means of piecewise-constant ``rows`` (T, F) over ``windows`` (N, 2) in row units:
    the models' own pooling (model/proposals.py), in float64."""
    x = torch.from_numpy(np.asarray(rows, np.float64))[None]
    w = torch.from_numpy(np.asarray(windows, np.float64))[None, :, None]
    return pool_windows(x, torch.ones(1, len(rows), dtype=torch.bool), w)[0, :, 0].numpy().astype(np.float32)


@dataclass
class VideoProposals:
    windows: np.ndarray  # (N, 2) seconds
    centred: np.ndarray  # (N, F): (proposal mean row - video mean row) / |video mean row|


def video_proposals(store: FeatureStore, vid: str, duration: float, spec: Any, time: TimeConvention) -> VideoProposals:
    """``spec``: a vlanet.data.dataset.ProposalSpec (the models' own grid)."""
    rows = store.get(vid)
    win, mask = spec.grid(duration)
    cand = win[mask]
    pooled = window_means(rows, time.to_rows(cand, len(rows), duration))
    mean = rows.mean(0)
    return VideoProposals(cand, (pooled - mean) / max(float(np.linalg.norm(mean)), 1e-6))


def _by_video(queries: list[Query]) -> dict[str, list[Query]]:
    out: dict[str, list[Query]] = {}
    for q in queries:
        out.setdefault(q.vid, []).append(q)
    return out


def probe_inputs(vp: VideoProposals, prior: Prior, duration: float) -> np.ndarray:
    """(N, F + 2): the centred features, the prior score, and 1 (the bias)."""
    p = prior(vp.windows, duration)[:, None]
    return np.hstack([vp.centred.astype(np.float64), p, np.ones_like(p)])


def fit_probe(train: list[Query], store: FeatureStore, spec: Any, time: TimeConvention, prior: Prior,
              seed: int = 0) -> np.ndarray:
    """Ridge weights (F + 2,) of the blind probe (see ``probe_inputs``)."""
    rng = np.random.default_rng(seed + 104729)
    videos = _by_video(train)
    vids = sorted(videos)
    vids = [vids[i] for i in sorted(rng.permutation(len(vids))[:PROBE_VIDEOS])]
    xs, ys, owner = [], [], []
    for n, vid in enumerate(vids):
        qs = videos[vid]
        vp = video_proposals(store, vid, qs[0].duration, spec, time)
        gt = np.array([w for q in qs for w in q.windows], dtype=np.float64)
        y = iou_matrix(vp.windows, gt).max(1) if len(gt) else np.zeros(len(vp.windows))
        pick = rng.permutation(len(y))[:PROBE_PER_VIDEO]
        xs.append(probe_inputs(vp, prior, qs[0].duration)[pick])
        ys.append(y[pick])
        owner += [n] * len(pick)
    x = np.concatenate(xs).astype(np.float64)
    y = np.concatenate(ys)
    owner = np.asarray(owner)
    held = owner % 5 == 0  # every fifth video picks the ridge strength

    def solve(xa: np.ndarray, ya: np.ndarray, lam: float) -> np.ndarray:
        g = xa.T @ xa
        g[np.diag_indices(len(g) - 2)] += lam  # the prior and the bias are not shrunk
        return np.linalg.solve(g, xa.T @ ya)

    scale = float(np.mean(np.sum(x[:, :-2] ** 2, axis=1)))
    best, best_err = scale, np.inf
    if held.any() and (~held).any():
        for lam in (1e-2, 1e-1, 1.0, 10.0, 100.0):
            w = solve(x[~held], y[~held], lam * scale)
            err = float(np.mean((x[held] @ w - y[held]) ** 2))
            if err < best_err:
                best, best_err = lam * scale, err
    return solve(x, y, best)


def score_rows(kind: str, queries: list[Query], store: FeatureStore, spec: Any, time: TimeConvention,
               cfg: EvalConfig, probe: tuple[np.ndarray, Prior] | None = None, simulator: Any = None,
               ) -> dict[Any, dict[str, Any]]:
    """Prediction rows of a blind probe or an oracle, with the models' NMS and top-k."""
    rows = {}
    for vid, qs in _by_video(queries).items():
        vp = video_proposals(store, vid, qs[0].duration, spec, time)
        blind = None
        if kind == "saliency":
            blind = np.linalg.norm(vp.centred, axis=1)
        elif kind == "probe":
            blind = probe_inputs(vp, probe[1], qs[0].duration) @ probe[0]
        for q in qs:
            if blind is not None:
                scores = blind
            else:
                d = simulator.direction(q.query, bag_only=kind == "oracle-bow")
                scores = vp.centred @ d
            rows[q.qid] = prediction_row(q, vp.windows, np.asarray(scores, np.float64), cfg.nms, cfg.topk)
    return rows


def swap_picks(rows: dict[Any, dict[str, Any]], queries: list[Query], simulator: Any) -> tuple[float, int]:
    """Share of the queries with swap distractors whose top-1 window overlaps a swap more than
    the true event (as rendered), and how many such queries there are."""
    picked = total = 0
    for vid, qs in _by_video(queries).items():
        events = simulator.events(vid)
        for q in qs:
            mine = [i for i, e in enumerate(events) if e.kind == "described" and q.query in e.texts]
            swaps = [e for e in events if e.kind == "swap" and e.of in mine]
            if not mine or not swaps or not rows[q.qid]["pred_relevant_windows"]:
                continue
            top = np.array([rows[q.qid]["pred_relevant_windows"][0][:2]])
            true_iou = iou_matrix(top, np.array([[events[i].start, events[i].end] for i in mine])).max()
            swap_iou = iou_matrix(top, np.array([[e.start, e.end] for e in swaps])).max()
            total += 1
            picked += int(swap_iou > true_iou)
    return (100.0 * picked / total if total else float("nan")), total


def iter_kinds(simulator: Any) -> Iterator[str]:
    yield from BLIND_KINDS
    if simulator is not None:
        yield from ORACLE_KINDS
