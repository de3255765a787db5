"""The benchmark scripts run and measure what they say (benchmarks/, not installed: loaded by path)."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def bench_module(name: str):
    """A script of benchmarks/ imported as a module (its siblings importable, as when run)."""
    sys.path.insert(0, str(BENCH))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(BENCH))


@pytest.fixture(scope="module")
def op_times():
    return bench_module("op_times")


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


@pytest.mark.parametrize("name", ["cnm", "cpl"])
def test_the_profiled_step_trains_the_configured_model_with_its_own_loss(name):
    """op_times.py model.name=M profiles M's own step (bench.training_step), not VLANet's."""
    from vlanet.config import load_config

    bench = bench_module("bench")
    cfg = load_config(None, [f"model.name={name}", f"{name}.hidden_dim=16", f"{name}.layers=1", "train.batch_size=4"])
    step, (model, _, _, _) = bench.training_step(cfg)
    assert type(model).__name__ == name.upper()
    before = [p.detach().clone() for p in model.parameters()]
    step()
    assert any(not torch.equal(a, p) for a, p in zip(before, model.parameters()))


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
    assert res["naive_speedup"] > 3  # batched scoring is clearly faster (measured 5-9x; a margin for busy cores)
    # 64 queries + 4 negatives per direction each: the step scores 576 pairs
    assert res["pairs_scored_per_step"] == 576


@pytest.fixture(scope="module")
def attention_stats():
    return bench_module("attention_stats")


def test_sharpness_is_one_for_uniform_attention_and_zero_for_one_element(attention_stats):
    on = np.array([True, False, False, True])
    assert attention_stats.sharpness(np.full(4, 0.25), on) == pytest.approx((1.0, 0.5))
    assert attention_stats.sharpness(np.array([0.0, 1.0, 0.0, 0.0]), on) == pytest.approx((0.0, 0.0))
    assert attention_stats.sharpness(np.array([0.7, 0.1, 0.1, 0.1]), on)[1] == pytest.approx(0.8)


@pytest.mark.parametrize("model", ["vlanet", "tga"])
def test_attention_stats_top1_of_the_own_ranking_is_the_runs_r1(attention_stats, model, tmp_path):
    """The script's top-1 under the run's own ranking is the R@1,IoU=0.5 that training reported."""
    run = tmp_path / "run"
    tiny = ["data.synthetic_train_videos=30", "data.synthetic_test_videos=10", "data.synthetic_dim=16",
            "model.hidden_dim=16", "train.batch_size=16", "train.epochs=1", "eval.batch_size=16", f"model.name={model}"]
    r = subprocess.run([sys.executable, "-m", "vlanet", "train", "--run-dir", str(run), "--quiet", *tiny],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    m = attention_stats.measure(str(run))
    r1 = json.loads((run / "result.json").read_text())["test"]["R@1,IoU=0.5"]
    own = "q2v_last" if model == "tga" else m["rank_by"]  # TGA's attention is its only, so last, one
    assert m[f"top-1 {own}"] == pytest.approx(r1, abs=1e-6)
    assert 0 <= m["entropy"] <= 1 and 0 <= m["mass on moment"] <= 1 and 0 < m["uniform mass"] < 1
    assert m["queries"] > 0 and m["elements"] > 1
    if model == "tga":
        assert np.isnan(m["top-1 vla"]) and m["rank_by"] == "attention"
    else:
        assert 0 <= m["top-1 vla"] <= 100 and m["rank_by"] == "q2v_mean"


def test_default_sweep_measures_the_world_it_is_given():
    sweep = bench_module("default_sweep")
    tiny = "model.hidden_dim=16 train.batch_size=16 train.epochs=2 eval.batch_size=16"
    out = sweep.main(['{"n_train_videos": 40, "n_test_videos": 12, "dim": 16, "sim": {"centre": 1.0}}', tiny])
    assert 24 <= out["queries"] <= 48  # 12 test videos of 2-4 moments: the spec change reached calibrate
    assert {"random", "prior", "saliency", "probe", "oracle-bow", "oracle-sentence"} <= set(out["cal"])
    assert len(out["val"]) == 2 and out["gain"] == pytest.approx(out["test"] - out["shuffled"], abs=0.02)


def test_methods_speed_times_every_model_on_the_same_queries(tmp_path):
    speed = bench_module("methods_speed")
    res = speed.main(["--queries", "32", "--models", "vlanet,cnm,cpl", "--features", str(tmp_path / "absent.h5"),
                      "--gt", str(tmp_path / "absent.jsonl"), "model.hidden_dim=16", "train.batch_size=16",
                      *(f"{m}.{k}" for m in ("cnm", "cpl") for k in ("hidden_dim=16", "layers=1"))])
    assert list(res) == ["vlanet", "cnm", "cpl"]
    for r in res.values():
        assert r["queries"] == 32 and r["seconds"] > 0 and np.isfinite(r["loss"])
        assert r["full_epoch_s"] == pytest.approx(r["seconds"] * speed.FULL_EPOCH / 32)
        assert "random 4096-d rows" in r["data"]  # no bed files: the in-memory fallback


def test_select_metric_reads_both_picks_from_the_log(tmp_path):
    """benchmarks/select_metric.py: the first best epoch of each metric, and the validation R@1
    given up by choosing on val_contrast."""
    sm = bench_module("select_metric")
    log = [{"epoch": 1, "val": {"R@1,IoU=0.5": 30.0, "val_contrast": 0.01}},
           {"epoch": 2, "val": {"R@1,IoU=0.5": 35.0, "val_contrast": 0.02}},
           {"epoch": 3, "val": {"R@1,IoU=0.5": 35.0, "val_contrast": 0.05}},
           {"epoch": 4, "val": {"R@1,IoU=0.5": 33.0, "val_contrast": 0.05}}]
    (tmp_path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in log))
    m = sm.measure(str(tmp_path))
    assert (m["epoch by R@1"], m["epoch by val_contrast"], m["cost"]) == (2, 3, 0.0)
    log[2]["val"]["R@1,IoU=0.5"] = 31.0
    (tmp_path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in log))
    m = sm.measure(str(tmp_path))
    assert (m["epoch by val_contrast"], m["val R@1 at val_contrast pick"], m["cost"]) == (3, 31.0, 4.0)
