"""Where a CPU training step's time goes, op by op.

    python benchmarks/op_times.py [--config CONFIG] [--steps 5] [--top 30] [overrides ...]
    python benchmarks/op_times.py model.name=cpl                   # CNM's or CPL's step
    PYTHONPATH=OTHER_CHECKOUT/src python benchmarks/op_times.py     # another revision's model

Runs bench.py's paper-setting training step (64 queries, 4096-d rows, 30-s videos, a 2,000-word
vocabulary) of the configured model and times
every ATen op it dispatches with a wall clock around the op itself (a TorchDispatchMode), then
prints the step's median time (measured without the timer), the sum of the op times, and the
ops grouped by name and by (name, input shapes), with the matmul FLOP/s of each product.

Why not torch.profiler: on this 2-core machine it charged the pair products' bmm 2-3x the time
the same call takes in the untimed step (55 ms against 18 ms), which understates the kernels'
speed.  The timer here adds its overhead between ops, not inside them: the op times sum to the
untimed step within a few per cent.  CPU only (a CUDA op returns before its kernel ends).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import torch
from op_timer import MATMUL_OPS, OpTimer, matmul_flops  # benchmarks/op_timer.py


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", help="YAML config (default: the built-in defaults, D = 128)")
    ap.add_argument("--steps", type=int, default=5, help="timed steps (op times are per step)")
    ap.add_argument("--top", type=int, default=30)
    ap.add_argument("overrides", nargs="*", help="section.key=value config overrides")
    args = ap.parse_args()
    from bench import training_step  # benchmarks/bench.py, next to this file

    from vlanet.config import load_config

    step, _ = training_step(load_config(args.config, args.overrides))
    for _ in range(3):
        step()
    wall = []
    for _ in range(7):
        t0 = time.perf_counter()
        step()
        wall.append(time.perf_counter() - t0)
    timer = OpTimer()
    with timer:
        for _ in range(args.steps):
            step()
    n = args.steps
    total = timer.seconds() / n
    mm = timer.seconds(MATMUL_OPS) / n
    flops = sum(matmul_flops(name, sh) * c for (name, sh), (_, c) in timer.times.items()) / n
    print(f"cpu ({torch.get_num_threads()} threads), torch {torch.__version__}")
    print(f"step, untimed: median {statistics.median(wall) * 1e3:.1f} ms; sum of op times "
          f"{total * 1e3:.1f} ms per step over {n} steps")
    print(f"matmul ops: {mm * 1e3:.1f} ms = {mm / total:.0%} of the op time, {flops / 1e9:.2f} GFLOP "
          f"at {flops / mm / 1e9:.1f} GFLOP/s")
    by_name: dict[str, float] = {}
    for (name, _), (t, _) in timer.times.items():
        by_name[name] = by_name.get(name, 0.0) + t / n
    print("\nby op")
    for name, t in sorted(by_name.items(), key=lambda x: -x[1])[:args.top]:
        print(f"  {t * 1e3:8.2f} ms  {name}")
    print("\nby op and input shapes (ms per step, calls per step, GFLOP/s of products)")
    for (name, sh), (t, c) in sorted(timer.times.items(), key=lambda x: -x[1][0])[:args.top]:
        f = matmul_flops(name, sh)
        rate = f"  {f * c / t / 1e9:6.1f} GFLOP/s" if f else ""
        print(f"  {t / n * 1e3:8.2f} ms  x{c // n:<3d} {name} {list(sh)}{rate}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
