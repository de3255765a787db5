"""Where a model's top-1 moments fall, against the annotators' moments (docs/REPRODUCTION.md,
Table 2 and the methods table).

    python scripts/top1_stats.py PREDS.jsonl GT.jsonl

For each query: does the top-1 window start where some annotator's moment starts, is it exactly
one of the annotated moments, and how long is it.  Prints the shares and the length histogram,
and the same histogram for the ground truth's first annotation.  Then the top-1's centre and
width as fractions of the video (mean ± std) beside the first annotation's, and the correlation
of the two centres: a model whose top-1 does not depend on the query has a near-zero spread.
"""

from __future__ import annotations

import collections
import json
import sys

import numpy as np


def main(preds: str, gt: str) -> None:
    truth = {}
    with open(gt, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                d = json.loads(line)
                truth[d["qid"]] = [tuple(w) for w in d["relevant_windows"]]
    n = same_start = exact = 0
    lengths: collections.Counter = collections.Counter()
    gt_lengths: collections.Counter = collections.Counter()
    rel: list[tuple[float, float, float, float]] = []  # top-1 centre, width; annotation's, as fractions
    with open(preds, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            d = json.loads(line)
            s, e = d["pred_relevant_windows"][0][:2]
            wins = truth[d["qid"]]
            n += 1
            same_start += s in {w[0] for w in wins}
            exact += (s, e) in set(wins)
            lengths[round(e - s)] += 1
            gt_lengths[round(wins[0][1] - wins[0][0])] += 1
            dur = float(d["duration"])
            g0, g1 = wins[0]
            rel.append(((s + e) / 2 / dur, (e - s) / dur, (g0 + g1) / 2 / dur, (g1 - g0) / dur))
    print(f"queries {n}: top-1 starts where an annotator's moment starts {100 * same_start / n:.1f} %, "
          f"is exactly an annotated moment {100 * exact / n:.1f} %")
    print("top-1 lengths (s):", {k: f"{100 * v / n:.0f} %" for k, v in sorted(lengths.items())})
    print("ground truth lengths (first annotation, s):", {k: f"{100 * v / n:.0f} %" for k, v in sorted(gt_lengths.items())})
    r = np.asarray(rel)
    print(f"top-1 centre {r[:, 0].mean():.3f} ± {r[:, 0].std():.3f}, width {r[:, 1].mean():.3f} ± {r[:, 1].std():.3f} "
          f"(fractions of the video); annotation centre {r[:, 2].mean():.3f} ± {r[:, 2].std():.3f}, "
          f"width {r[:, 3].mean():.3f} ± {r[:, 3].std():.3f}; correlation of centres {np.corrcoef(r[:, 0], r[:, 2])[0, 1]:.3f}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
