"""How sharp the learned attention is, and whether it sits on the moment (#16, the paper's
"sharper attention" claim of its abstract and Sec. 3).

For every query of a split, over the video elements the model attends (VLANet: the K surrogates,
or all K*L proposals "w/o surrogate"; TGA: all K*L proposals), with the elements whose window has
IoU >= 0.5 with an annotated moment called "on the moment":

* ``entropy``: of the last Q2V attention (TGA: its text-guided attention), divided by log N, so
  1 is uniform over the N valid elements and 0 is one element;
* ``mass on moment``: the attention weight the elements on the moment receive, beside
  ``uniform mass``, what a uniform attention would give them (their share of the elements);
* ``top-1 <source>``: % of queries whose top element is on the moment when the elements are
  ranked by each score the model offers (``model.rank_by``): the last Q2V attention
  (``q2v_last``), the mean of all Q2V attentions (``q2v_mean``), E(s_k, Q) of Eq. (13) per
  element (``vla``).  The run's own ``rank_by`` gives its R@1,IoU=0.5 (ties and the complete
  ranking aside), so one pass compares the three rankings of a checkpoint.

    python benchmarks/attention_stats.py runs/table3_f60/stride-8-window-176-208-240/seed{0,1,2} \
        --vs runs/table3_f60/w-o-cross-attn/seed{0,1,2} --split val

Prints one line per run and, per group of runs, mean ± std (benchmarks/run_scoring.py).
"""

from __future__ import annotations

import math

import numpy as np
from run_scoring import load_run, main, scored_queries

from vlanet.model.vlanet import element_ranking

KEYS = ["elements", "entropy", "mass on moment", "uniform mass", "top-1 q2v_last", "top-1 q2v_mean", "top-1 vla"]


def sharpness(a: np.ndarray, on: np.ndarray) -> tuple[float, float]:
    """Attention weights a (N,) over the valid elements, ``on`` (N,) which are on the moment ->
    (entropy / log N, the weight on the moment)."""
    n = len(a)
    entropy = float(-(a * np.log(np.clip(a, 1e-30, None))).sum() / math.log(n)) if n > 1 else 0.0
    return entropy, float(a[on].sum())


def measure(run: str, split: str = "test") -> dict[str, float]:
    p = load_run(run)
    acc: dict[str, list[float]] = {k: [] for k in KEYS}
    for sq in scored_queries(p, split):
        on = sq.element_iou() >= 0.5
        valid = sq.out.element_mask[sq.j].cpu().numpy()
        n = int(valid.sum())
        acc["elements"].append(n)
        acc["uniform mass"].append(float(on[valid].mean()))
        cca = sq.out.cca
        if cca.q2v_weights:
            entropy, mass = sharpness(cca.q2v_weights[-1][sq.j].float().cpu().numpy()[valid], on[valid])
            acc["entropy"].append(entropy)
            acc["mass on moment"].append(mass)
        offered = (["q2v_last", "q2v_mean"] if cca.q2v_weights else []) + (["vla"] if cca.element_vla is not None else [])
        for name in offered:
            s = element_ranking(cca, name)[sq.j].float().cpu().numpy()
            top = int(np.argmax(np.where(valid, s, -np.inf)))
            acc[f"top-1 {name}"].append(100.0 * bool(on[top]))
    out = {k: (float(np.mean(v)) if v else float("nan")) for k, v in acc.items()}
    out["queries"] = len(acc["elements"])
    out["rank_by"] = p.cfg.model.rank_by if p.cfg.model.name == "vlanet" else "attention"
    return out


if __name__ == "__main__":
    main(__doc__, measure, ["rank_by", *KEYS])
