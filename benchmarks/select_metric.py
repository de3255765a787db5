"""Choosing the epoch with and without timestamps: for each finished run, the epoch that the
validation R@1,IoU=0.5 picks (it reads the validation moments' timestamps) and the epoch that
``val_contrast`` picks (mean c(V,Q+) - c(V,Q-) on the validation pairs; no timestamp), from the
run's metrics.jsonl, with the validation R@1 at each.

    python benchmarks/select_metric.py runs/methods-cd/vlanet/seed{0,1,2} --vs runs/methods-cd/tga/seed{0,1,2}

"cost" is R@1 at the R@1 pick minus R@1 at the val_contrast pick, both on validation
(``--split`` is not read). The R@1 pick is the maximum over epochs of the same numbers, so the
cost is an upper bound on what doing without timestamps loses; compare it with the seeds'
spread of the R@1 pick (the mean row).
Both picks take the first best epoch, as training does. Every logged epoch is read, so a run
trained with either select_metric gives the same row.
"""

from __future__ import annotations

import json
from pathlib import Path

from run_scoring import main

from vlanet.experiments.runs import first_best

R1 = "R@1,IoU=0.5"
KEYS = ["epochs", "epoch by R@1", "epoch by val_contrast", "val R@1 at R@1 pick", "val R@1 at val_contrast pick",
        "cost"]


def measure(run: str, split: str = "val") -> dict[str, float | int]:
    lines = (Path(run) / "metrics.jsonl").read_text().splitlines()
    val = [json.loads(x)["val"] for x in lines if x.strip() and "val" in json.loads(x)]
    if not val or any(R1 not in v or "val_contrast" not in v for v in val):
        raise SystemExit(f"{run}/metrics.jsonl: every epoch needs val {R1} and val_contrast")
    r1, contrast = [v[R1] for v in val], [v["val_contrast"] for v in val]
    a, b = first_best(r1), first_best(contrast)
    return {"epochs": len(val), "epoch by R@1": a + 1, "epoch by val_contrast": b + 1,
            "val R@1 at R@1 pick": float(r1[a]), "val R@1 at val_contrast pick": float(r1[b]),
            "cost": float(r1[a] - r1[b])}


if __name__ == "__main__":
    main(__doc__, measure, KEYS)
