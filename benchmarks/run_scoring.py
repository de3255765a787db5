"""What the science scripts of benchmarks/ share: a trained run's pairs scored on one split.

``scored_queries`` takes a loaded run (``load_run``) and yields, for every query of the
split, the network's output on its positive pair: the model's ``PairOutput`` for all queries
of one video at once, the query's row in it, and the video's proposal windows in seconds.
``main`` is the scripts' command line: groups of runs in, one markdown table out.
"""

from __future__ import annotations

import argparse
import math
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from vlanet.utils.spans import iou_matrix


@dataclass
class ScoredQuery:
    query: Any  # vlanet.data.annotations.Query
    out: Any  # PairOutput of every query of the video
    j: int  # this query's row in ``out``
    windows: np.ndarray  # (K, L, 2) the video's proposal windows in seconds
    valid: np.ndarray  # (K, L) valid proposals

    def element_iou(self) -> np.ndarray:
        """IoU of each attended element's window with the best-matching annotated window (N,),
        -1 for padded elements."""
        flat = self.windows.reshape(-1, 2)[self.out.element_window[self.j].cpu().numpy()]
        iou = iou_matrix(flat, np.asarray(self.query.windows)).max(1)
        return np.where(self.out.element_mask[self.j].cpu().numpy(), iou, -1.0)


def load_run(run: str) -> Any:
    """A run directory's best checkpoint as a ``vlanet.api.Predictor``."""
    from vlanet.api import Predictor

    return Predictor.from_pretrained(run)


@torch.no_grad()
def scored_queries(p: Any, split: str = "test") -> Iterator[ScoredQuery]:
    """Every query of ``split`` with its positive pair scored by the predictor ``p``'s model."""
    from vlanet.data.loading import load_splits

    ds = getattr(load_splits(p.cfg, need=(split,), words=p.words), split)
    by_video = defaultdict(list)
    for q in ds.queries:
        by_video[q.vid].append(q)
    for vid, queries in by_video.items():
        video = p.encode_features(ds.store.get(vid), queries[0].duration, source=vid)
        ids = [p.words.encode(q.query)[0] or [0] for q in queries]
        width = max(map(len, ids))
        words = torch.tensor([i + [0] * (width - len(i)) for i in ids], device=p.device)
        query = p.model.encode_query(words, words != 0)
        pairs = torch.arange(len(queries), device=p.device)
        out = p.model.score_pairs(video.encoding, query, torch.zeros_like(pairs), pairs)
        valid = video.encoding.mask[0].cpu().numpy()
        for j, q in enumerate(queries):
            yield ScoredQuery(q, out, j, video.windows, valid)


def fmt(x: float) -> str:
    """A figure of a table: n/a, 3 decimals below 1, else 2."""
    return "n/a" if math.isnan(x) else f"{x:.3f}" if abs(x) < 1 else f"{x:.2f}"


def main(doc: str, measure: Callable[[str, str], dict[str, Any]], keys: list[str]) -> None:
    """The command line of a script: groups of runs (RUN... [--vs RUN...]...), one table row per
    run with ``measure(run, split)[key]`` for each key, and mean ± std per group."""
    ap = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    ap.add_argument("runs", nargs="+", help="run directories (one group)")
    ap.add_argument("--vs", nargs="*", default=[], action="append",
                    help="another group of runs, printed after the first (repeatable)")
    ap.add_argument("--split", default="test")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    print(f"split: {a.split}\n\n| run | " + " | ".join(keys) + " |\n|---|" + "---:|" * len(keys))
    for group in [a.runs, *a.vs]:
        rows = [measure(run, a.split) for run in group]
        for run, m in zip(group, rows):
            print(f"| {run} | " + " | ".join(fmt(m[k]) if isinstance(m[k], float) else str(m[k]) for k in keys) + " |")
        if len(rows) > 1:
            def cell(k: str) -> str:
                vals = [r[k] for r in rows]
                if not all(isinstance(v, float) for v in vals):  # a label (e.g. rank_by)
                    return " ".join(sorted(set(map(str, vals))))
                if any(math.isnan(v) for v in vals):
                    return "n/a"
                return f"{fmt(float(np.mean(vals)))} ± {fmt(float(np.std(vals, ddof=1)))}"
            print(f"| mean of {len(rows)} ({Path(group[0]).parent.name}) | " + " | ".join(map(cell, keys)) + " |",
                  flush=True)
