"""How well Eq. (3)-(4) choose the scale: the mechanism behind the selection term (#16).

For every test query, the group k* that holds the best proposal (highest IoU with the query's
first annotated window) is found; the selection is right when Eq. (4)'s scale l'_{k*} is that
proposal's scale.  Chance is 1 / (valid scales of k*).  Also printed: the IoU of the selected
surrogate of k* against that of the best proposal, and the R@1,IoU=0.5 of the run's test split.

    python benchmarks/selection_accuracy.py runs/exp_sel/argmax-untrained-paper/seed{0,1,2} \
        --vs runs/exp_sel/contrastive-selection-term-0-5/seed{0,1,2}

Prints one line per run and, per group of runs, mean ± std (benchmarks/run_scoring.py).  A VLANet run with
``model.surrogate=true`` is needed (TGA and "w/o surrogate" select nothing).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from run_scoring import load_run, main, scored_queries

from vlanet.utils.spans import iou_matrix


def measure(run: str, split: str = "test") -> dict[str, float]:
    p = load_run(run)
    if p.cfg.model.name != "vlanet" or not p.cfg.model.surrogate:
        raise SystemExit(f"{run}: a VLANet run with model.surrogate=true is needed")
    right, chance, iou_sel, iou_best = [], [], [], []
    for sq in scored_queries(p, split):
        wins, valid = sq.windows, sq.valid
        n_scales = wins.shape[1]
        iou = np.where(valid, iou_matrix(wins, np.asarray([sq.query.windows[0]]))[:, 0].reshape(valid.shape), -1.0)
        k, best_l = np.unravel_index(int(iou.argmax()), iou.shape)
        chosen = int(sq.out.element_window[sq.j, k]) - k * n_scales
        right.append(chosen == best_l)
        chance.append(1.0 / valid[k].sum())
        iou_sel.append(iou[k, chosen])
        iou_best.append(iou[k, best_l])
    res = json.loads((Path(run) / "result.json").read_text()).get("test", {}) if (Path(run) / "result.json").is_file() else {}
    return {"selection accuracy": 100 * float(np.mean(right)), "chance": 100 * float(np.mean(chance)),
            "IoU selected": float(np.mean(iou_sel)), "IoU best": float(np.mean(iou_best)),
            "R@1,IoU=0.5": float(res.get("R@1,IoU=0.5", float("nan"))), "queries": len(right)}


if __name__ == "__main__":
    main(__doc__, measure, ["selection accuracy", "chance", "IoU selected", "IoU best", "R@1,IoU=0.5"])
