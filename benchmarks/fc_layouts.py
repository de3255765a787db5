"""The proposal FC's products at the paper setting, in the layouts PyTorch can run them.

    python benchmarks/fc_layouts.py [--rows 2880] [--features 4096] [--dims 128 256] [--reps 15]

The FC of Eq. (2) maps a batch's feature rows X (N, F) to D: forward X W^T, and in training
the weight's gradient, which nn.Linear computes as G^T X (G the rows' gradient, (N, D)).  The
same numbers come out of (X^T G)^T; this prints both (and the forward) as medians of
interleaved runs, the measurement behind vlanet.model.proposals._RowProjection.  N = 2880 is
64 videos of 45 rows (30 s of 16-frame C3D rows at 24 fps).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import torch

from vlanet.utils.allocator import retain_freed_memory


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=2880)
    ap.add_argument("--features", type=int, default=4096)
    ap.add_argument("--dims", type=int, nargs="+", default=[128, 256])
    ap.add_argument("--reps", type=int, default=15)
    args = ap.parse_args()
    retain_freed_memory()  # as training runs
    print(f"cpu, {torch.get_num_threads()} threads, torch {torch.__version__}; X ({args.rows}, {args.features})")
    for d in args.dims:
        x, g, w = torch.randn(args.rows, args.features), torch.randn(args.rows, d), torch.randn(d, args.features)
        flops = 2 * args.rows * args.features * d
        cases = {"forward X W^T": lambda: x @ w.t(), "weight grad G^T X (nn.Linear)": lambda: g.t() @ x,
                 "weight grad (X^T G)^T": lambda: (x.t() @ g).t()}
        times: dict[str, list[float]] = {k: [] for k in cases}
        for f in cases.values():
            f()
        for _ in range(args.reps):
            for k, f in cases.items():
                t = time.perf_counter()
                f()
                times[k].append(time.perf_counter() - t)
        for k, ts in times.items():
            m = statistics.median(ts)
            print(f"  D={d:<4} {k:<31} {m * 1000:7.1f} ms  {flops / m / 1e9:6.1f} GFLOP/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
