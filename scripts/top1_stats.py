"""Where a model's top-1 moments fall, against the annotators' moments (docs/REPRODUCTION.md,
Table 2 and the methods table).

    python scripts/top1_stats.py PREDS.jsonl GT.jsonl [--width W]

For each query: does the top-1 window start where some annotator's moment starts, is it exactly
one of the annotated moments, and how long is it.  Prints the shares and the length histogram,
and the same histogram for the ground truth's first annotation.  Then the top-1's centre and
width as fractions of the video (mean ± std) beside the first annotation's, and the correlation
of the two centres: a model whose top-1 does not depend on the query has a near-zero spread.
``--width W``: also the R@1 at IoU 0.5 of each top-1's centre with a span of W times the video
(clipped to it), e.g. W = the training moments' mean width: is the centre or the width wrong?
"""

from __future__ import annotations

import collections
import json
import sys

import numpy as np


def iou(a: tuple[float, float], b: tuple[float, float]) -> float:
    inter = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    return inter / max(a[1] - a[0] + b[1] - b[0] - inter, 1e-9)


def main(preds: str, gt: str, width: float | None = None) -> None:
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
    fixed_hits = 0
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
            if width is not None:
                c = (s + e) / 2
                span = (max(0.0, c - width * dur / 2), min(dur, c + width * dur / 2))
                fixed_hits += max(iou(span, w) for w in wins) >= 0.5
    print(f"queries {n}: top-1 starts where an annotator's moment starts {100 * same_start / n:.1f} %, "
          f"is exactly an annotated moment {100 * exact / n:.1f} %")
    print("top-1 lengths (s):", {k: f"{100 * v / n:.0f} %" for k, v in sorted(lengths.items())})
    print("ground truth lengths (first annotation, s):", {k: f"{100 * v / n:.0f} %" for k, v in sorted(gt_lengths.items())})
    r = np.asarray(rel)
    print(f"top-1 centre {r[:, 0].mean():.3f} ± {r[:, 0].std():.3f}, width {r[:, 1].mean():.3f} ± {r[:, 1].std():.3f} "
          f"(fractions of the video); annotation centre {r[:, 2].mean():.3f} ± {r[:, 2].std():.3f}, "
          f"width {r[:, 3].mean():.3f} ± {r[:, 3].std():.3f}; correlation of centres {np.corrcoef(r[:, 0], r[:, 2])[0, 1]:.3f}")
    if width is not None:
        print(f"R@1,IoU=0.5 of the top-1 centres with width {width:g} of the video: {100 * fixed_hits / n:.2f}")


if __name__ == "__main__":
    args = sys.argv[1:]
    w = None
    if "--width" in args:
        i = args.index("--width")
        w = float(args[i + 1])
        del args[i:i + 2]
    if len(args) != 2:
        sys.exit(__doc__)
    main(args[0], args[1], w)
