"""How well Eq. (3)-(4) choose the scale: the mechanism behind the selection term (#16).

For every test query, the group k* that holds the best proposal (highest IoU with the query's
first annotated window) is found; the selection is right when Eq. (4)'s scale l'_{k*} is that
proposal's scale.  Chance is 1 / (valid scales of k*).  Also printed: the IoU of the selected
surrogate of k* against that of the best proposal, and the R@1,IoU=0.5 of the run's test split.

    python benchmarks/selection_accuracy.py runs/exp_sel/argmax-untrained-paper/seed{0,1,2} \
        --vs runs/exp_sel/contrastive-selection-term-0-5/seed{0,1,2}

Prints one line per run and, per group of runs, mean ± std.  A VLANet run with
``model.surrogate=true`` is needed (TGA and "w/o surrogate" select nothing).
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch


def iou_grid(windows: np.ndarray, gt: tuple[float, float]) -> np.ndarray:
    """IoU of every window (..., 2) with one ground-truth window."""
    inter = np.clip(np.minimum(windows[..., 1], gt[1]) - np.maximum(windows[..., 0], gt[0]), 0, None)
    union = (windows[..., 1] - windows[..., 0]) + (gt[1] - gt[0]) - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-9), 0.0)


@torch.no_grad()
def measure(run: str, split: str = "test") -> dict[str, float]:
    from vlanet.api import Predictor
    from vlanet.data.loading import load_splits

    p = Predictor.from_pretrained(run)
    if p.cfg.model.name != "vlanet" or not p.cfg.model.surrogate:
        raise SystemExit(f"{run}: a VLANet run with model.surrogate=true is needed")
    ds = getattr(load_splits(p.cfg, need=(split,), words=p.words), split)
    by_video = defaultdict(list)
    for q in ds.queries:
        by_video[q.vid].append(q)
    right, chance, iou_sel, iou_best = [], [], [], []
    for vid, queries in by_video.items():
        video = p.encode_features(ds.store.get(vid), queries[0].duration, source=vid)
        enc, wins = video.encoding, video.windows  # wins (K, L, 2) seconds
        valid = enc.mask[0].cpu().numpy()  # (K, L)
        ids = [p.words.encode(q.query)[0] or [0] for q in queries]
        width = max(map(len, ids))
        words = torch.tensor([i + [0] * (width - len(i)) for i in ids], device=p.device)
        query = p.model.encode_query(words, words != 0)
        pairs = torch.arange(len(queries), device=p.device)
        out = p.model.score_pairs(enc, query, torch.zeros_like(pairs), pairs)
        n_scales = wins.shape[1]
        for j, q in enumerate(queries):
            iou = np.where(valid, iou_grid(wins, tuple(q.windows[0])), -1.0)
            k, best_l = np.unravel_index(int(iou.argmax()), iou.shape)
            chosen = int(out.element_window[j, k]) - k * n_scales
            right.append(chosen == best_l)
            chance.append(1.0 / valid[k].sum())
            iou_sel.append(iou[k, chosen])
            iou_best.append(iou[k, best_l])
    res = json.loads((Path(run) / "result.json").read_text()).get("test", {}) if (Path(run) / "result.json").is_file() else {}
    return {"selection accuracy": 100 * float(np.mean(right)), "chance": 100 * float(np.mean(chance)),
            "IoU selected": float(np.mean(iou_sel)), "IoU best": float(np.mean(iou_best)),
            "R@1,IoU=0.5": float(res.get("R@1,IoU=0.5", float("nan"))), "queries": len(right)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("runs", nargs="+", help="run directories (one group)")
    ap.add_argument("--vs", nargs="*", default=[], help="a second group of runs, printed beside the first")
    ap.add_argument("--split", default="test")
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    keys = ["selection accuracy", "chance", "IoU selected", "IoU best", "R@1,IoU=0.5"]
    print("| run | " + " | ".join(keys) + " |\n|---|" + "---:|" * len(keys))
    for group in (a.runs, a.vs):
        if not group:
            continue
        rows = []
        for run in group:
            m = measure(run, a.split)
            rows.append(m)
            print(f"| {run} | " + " | ".join(f"{m[k]:.2f}" for k in keys) + " |", flush=True)
        if len(rows) > 1:
            cells = [f"{np.mean([r[k] for r in rows]):.2f} ± {np.std([r[k] for r in rows], ddof=1):.2f}" for k in keys]
            print(f"| mean of {len(rows)} ({Path(group[0]).parent.name}) | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
