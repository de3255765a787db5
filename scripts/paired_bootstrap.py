"""Is method A above method B on this split, or is it the luck of the queries?

    python scripts/paired_bootstrap.py A.jsonl B.jsonl GT.jsonl [--metric R@1,IoU=0.5]

Scores each query with the project's evaluator (vlanet.eval.evaluate, protocol charades, windows
as written), then resamples the queries with replacement (10,000 times, seed 0) and prints A - B
with its 95 % interval.  Used for the Charades-CD bed's blind rows (docs/TESTBEDS.md).
"""

from __future__ import annotations

import argparse

import numpy as np

from vlanet.data.annotations import read_ground_truth, read_predictions
from vlanet.eval.evaluate import Protocol, evaluate_rows


def per_query(pred_path: str, gts, metric: str) -> np.ndarray:
    preds = read_predictions(pred_path)
    proto = Protocol()
    return np.array([evaluate_rows(preds, [q], proto, pred_path)[metric] for q in gts]) / 100.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("gt")
    ap.add_argument("--metric", default="R@1,IoU=0.5")
    ap.add_argument("--n", type=int, default=10_000)
    args = ap.parse_args()
    gts = read_ground_truth(args.gt)
    a, b = per_query(args.a, gts, args.metric), per_query(args.b, gts, args.metric)
    rng = np.random.default_rng(0)
    idx = rng.integers(0, len(gts), size=(args.n, len(gts)))
    diffs = 100 * (a[idx].mean(1) - b[idx].mean(1))
    lo, hi = np.percentile(diffs, [2.5, 97.5])
    print(f"{args.metric} on {len(gts)} queries: A {100 * a.mean():.2f}, B {100 * b.mean():.2f}, "
          f"A - B {100 * (a.mean() - b.mean()):+.2f} (95 % interval {lo:+.2f} .. {hi:+.2f}); "
          f"the two disagree on {100 * (a != b).mean():.1f} % of the queries")


if __name__ == "__main__":
    main()
