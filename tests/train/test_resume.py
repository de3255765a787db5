"""Interrupted work loses nothing: SIGKILL training at several points, resume, and get the
same weights and metrics as an uninterrupted run (CPU, train.deterministic=true)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

TINY = ["data.synthetic_train_videos=40", "data.synthetic_test_videos=12", "data.synthetic_dim=16",
        "model.hidden_dim=16", "train.batch_size=16", "train.epochs=3", "eval.batch_size=16"]

# Where the process kills itself (see src/vlanet/utils/faults.py): mid-epoch before any checkpoint,
# mid-epoch later, between the best and last checkpoints, inside a checkpoint directory swap,
# and right after an epoch finished.
KILL_POINTS = ["epoch1.batch2", "epoch2.batch3", "epoch1.saved-best", "commit.last", "epoch2.end"]


def _train(*args, kill_at=None, signal_name=None):
    env = dict(os.environ)
    env.pop("VLANET_KILL_AT", None)
    env.pop("VLANET_KILL_SIGNAL", None)
    if kill_at:
        env["VLANET_KILL_AT"] = kill_at
    if signal_name:
        env["VLANET_KILL_SIGNAL"] = signal_name
    return subprocess.run([sys.executable, "-m", "vlanet", "train", *map(str, args), "--quiet"],
                          capture_output=True, text=True, env=env)


def _state(run):
    ck = run / "checkpoints"
    metrics = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    for m in metrics:
        m.pop("train_seconds")
    result = json.loads((run / "result.json").read_text())
    return ((ck / "last" / "model.safetensors").read_bytes(), (ck / "best" / "model.safetensors").read_bytes(),
            metrics, result["test"])


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    run = tmp_path_factory.mktemp("ref") / "run"
    r = _train(*TINY, "--run-dir", run)
    assert r.returncode == 0, r.stderr
    return _state(run)


@pytest.mark.slow
@pytest.mark.parametrize("point", KILL_POINTS)
def test_sigkill_then_resume_is_bit_identical(point, reference, tmp_path):
    run = tmp_path / "run"
    r = _train(*TINY, "--run-dir", run, kill_at=point)
    assert r.returncode == -signal.SIGKILL, (r.returncode, r.stderr)
    assert not (run / "result.json").exists()
    r = _train("--resume", run)
    assert r.returncode == 0, r.stderr
    assert not list(run.rglob("*.tmp")) and not list(run.rglob("*.old"))
    last, best, metrics, test = _state(run)
    ref_last, ref_best, ref_metrics, ref_test = reference
    assert metrics == ref_metrics
    assert test == ref_test
    assert last == ref_last and best == ref_best


@pytest.mark.slow
@pytest.mark.parametrize("point", ["save.best", "save.last", "commit.best", "commit.last"])
def test_ctrl_c_while_a_checkpoint_is_written_leaves_it_whole_and_resumes(point, reference, tmp_path):
    """A Ctrl-C in the middle of writing or swapping a checkpoint directory: exit 130 with one
    line, no ``*.tmp`` or ``*.old`` left, a complete checkpoint in place, and a resume that
    ends bit-identical to the uninterrupted run."""
    run = tmp_path / "run"
    r = _train(*TINY, "--run-dir", run, kill_at=point, signal_name="INT")
    assert r.returncode == 130, (r.returncode, r.stderr[-800:])
    assert "Traceback" not in r.stderr and r.stderr.strip().splitlines()[-1] == "vlanet: interrupted"
    assert not list(run.rglob("*.tmp")) and not list(run.rglob("*.old"))
    name = point.split(".")[1]
    if name == "last" or point == "commit.best":
        assert (run / "checkpoints" / "best" / "model.json").is_file()
    r = _train("--resume", run)
    assert r.returncode == 0, r.stderr
    assert _state(run) == reference


def test_resume_of_a_finished_run_changes_nothing(reference, tmp_path):
    run = tmp_path / "run"
    assert _train(*TINY, "--run-dir", run).returncode == 0
    before = _state(run)
    assert before[0] == reference[0]  # two uninterrupted runs are bit-identical
    r = _train("--resume", run)
    assert r.returncode == 0, r.stderr
    assert _state(run) == before


def test_resume_refuses_a_changed_model_but_not_a_runtime_field(tmp_path):
    """A resumed run keeps its model; a field that only changes how the same numbers are
    computed (config.RUNTIME_FIELDS, e.g. model.cca_impl) may differ."""
    run = tmp_path / "run"
    assert _train(*TINY[:-2], "train.epochs=1", "--run-dir", run).returncode == 0
    r = _train("--resume", run, "model.hidden_dim=8")
    assert r.returncode == 2 and "field 'model.hidden_dim' is 8" in r.stderr, r.stderr
    r = _train("--resume", run, "train.epochs=2", "model.cca_impl=literal")
    assert r.returncode == 0, r.stderr
    assert len((run / "metrics.jsonl").read_text().splitlines()) == 2
