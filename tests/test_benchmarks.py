"""The benchmark scripts run and measure what they say (benchmarks/, not installed: loaded by path)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture(scope="module")
def op_times():
    sys.path.insert(0, str(BENCH))
    try:
        import op_times

        yield op_times
    finally:
        sys.path.remove(str(BENCH))


def test_matmul_flops_from_shapes(op_times):
    assert op_times.matmul_flops("mm", ((3, 4), (4, 5))) == 2 * 3 * 4 * 5
    assert op_times.matmul_flops("addmm", ((5,), (3, 4), (4, 5))) == 2 * 3 * 4 * 5
    assert op_times.matmul_flops("bmm", ((7, 3, 4), (7, 4, 5))) == 2 * 7 * 3 * 4 * 5
    assert op_times.matmul_flops("mul", ((3, 4), (3, 4))) == 0


def test_op_timer_records_every_op_with_its_shapes(op_times):
    a, b = torch.randn(8, 16), torch.randn(16, 4)
    timer = op_times.OpTimer()
    with timer:
        for _ in range(3):
            (a @ b).relu_()
        torch.cat([a, a])
    (t_mm, n_mm), = [v for (name, _), v in timer.times.items() if name == "mm"]
    assert n_mm == 3 and t_mm > 0
    assert ("cat", (((8, 16), (8, 16)),)) in timer.times
    assert timer.seconds(op_times.MATMUL_OPS) == t_mm
    assert timer.seconds() > t_mm


def test_bench_train_only_runs_and_its_figures_agree():
    """`bench.py --quick --train-only --json`: the README's training figures, one JSON line."""
    r = subprocess.run([sys.executable, str(BENCH / "bench.py"), "--quick", "--train-only", "--json"],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    res = json.loads(r.stdout.strip().splitlines()[-1])
    for key in ("train_pairs_per_s", "train_peak_fraction", "train_peak_fraction_paired", "naive_speedup", "device"):
        assert key in res, key
    assert res["naive_same_scores"] is True  # the fast path scores what the per-pair loop scores
    assert res["train_pairs_per_s"] == pytest.approx(res["batch_size"] / res["train_step_s"])
    assert res["train_peak_fraction"] == pytest.approx(res["train_flops_per_s"] / res["matmul_peak_flops"])
    assert 0 < res["train_peak_fraction"] < 1.5 and 0 < res["train_matmul_time_share"] < 1.5
    assert res["naive_speedup"] > 5
    # 64 queries + 4 negatives per direction each: the step scores 576 pairs
    assert res["pairs_scored_per_step"] == 576
