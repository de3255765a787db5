"""Where a model's top-1 moments fall, against the annotators' moments (docs/REPRODUCTION.md, Table 2).

    python scripts/top1_stats.py PREDS.jsonl GT.jsonl

For each query: does the top-1 window start where some annotator's moment starts, is it exactly
one of the annotated moments, and how long is it.  Prints the shares and the length histogram,
and the same histogram for the ground truth's first annotation.
"""

from __future__ import annotations

import collections
import json
import sys


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
    print(f"queries {n}: top-1 starts where an annotator's moment starts {100 * same_start / n:.1f} %, "
          f"is exactly an annotated moment {100 * exact / n:.1f} %")
    print("top-1 lengths (s):", {k: f"{100 * v / n:.0f} %" for k, v in sorted(lengths.items())})
    print("ground truth lengths (first annotation, s):", {k: f"{100 * v / n:.0f} %" for k, v in sorted(gt_lengths.items())})


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
