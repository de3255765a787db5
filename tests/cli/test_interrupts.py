"""Ctrl-C: exit 130, one line, the temporary file removed and the prior output untouched."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from vlanet.cli import main
from vlanet.utils import interrupts
from vlanet.utils.io import atomic_write_text


def test_a_swallowed_interrupt_still_stops_the_rename(tmp_path):
    out = tmp_path / "out.txt"
    out.write_text("prior")
    interrupts.install()
    try:
        with pytest.raises(KeyboardInterrupt):
            try:
                interrupts._handler(signal.SIGINT, None)  # what a Ctrl-C runs
            except KeyboardInterrupt:
                pass  # lost, as inside a finaliser
            atomic_write_text(out, "new")
    finally:
        interrupts.reset()
    assert out.read_text() == "prior" and sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_ctrl_c_during_simulate_keeps_the_prior_output(tmp_path):
    gt = tmp_path / "gt.jsonl"
    gt.write_text("".join(json.dumps({"qid": i, "vid": f"v{i:04d}", "query": "a person opens the door",
                                      "duration": 300.0, "relevant_windows": [[10.0, 40.0]]}) + "\n"
                          for i in range(3000)))
    out = tmp_path / "bed.h5"
    out.write_bytes(b"prior output")
    p = subprocess.Popen([sys.executable, "-m", "vlanet", "data", "simulate", "--gt", str(gt), "--out", str(out),
                          "--dim", "2048", "--quiet"], stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob(".bed.h5.*.tmp")) and time.monotonic() < deadline and p.poll() is None:
        time.sleep(0.05)
    time.sleep(0.5)  # inside the writing loop (and h5py)
    assert p.poll() is None, "simulate finished before it could be interrupted"
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 130, err
    assert err.strip() == "vlanet: interrupted" and "Traceback" not in err
    assert out.read_bytes() == b"prior output"
    assert sorted(x.name for x in tmp_path.iterdir()) == ["bed.h5", "gt.jsonl"]


def test_progress_lines_when_stderr_is_not_a_terminal(capsys):
    from vlanet.utils.progress import _lines

    assert list(_lines(range(5), 5, "work", every=0.0)) == list(range(5))
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "work: 1/5 (20 %), 0 s" and lines[-1].startswith("work: 5/5 (100 %)")




def test_ctrl_c_after_the_output_is_written_exits_130_with_one_line():
    """A Ctrl-C that lands once the command has returned (its output written, the interpreter
    shutting down) is exit 130 with one line, not a death by signal or a traceback."""
    script = ("import os, signal, sys, time\n"
              "from vlanet.cli import main\n"
              "sys.argv = ['vlanet', 'config', 'list']\n"
              "code = main()\n"
              "os.kill(os.getpid(), signal.SIGINT)\n"
              "time.sleep(10)\n"
              "sys.exit(code)\n")
    p = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert p.returncode == 130, (p.returncode, p.stderr)
    assert p.stderr.strip() == "vlanet: interrupted"
    assert "charades_sta_sim" in p.stdout  # the output before it is whole


TINY_TRAIN = ["train.epochs=1", "model.hidden_dim=8", "train.batch_size=8", "eval.batch_size=8"]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A tiny synthetic dataset written to disk and a run trained on it, for the commands below."""
    w = tmp_path_factory.mktemp("world")
    assert main(["data", "synthetic", "--out", str(w / "d"), "--train-videos", "24", "--test-videos", "8",
                 "--dim", "16"]) == 0
    assert main(["train", str(w / "d" / "config.yaml"), *TINY_TRAIN, "--run-dir", str(w / "run"), "--quiet"]) == 0
    assert main(["baseline", "random", "--data", str(w / "d" / "config.yaml"), "--out", str(w / "random.jsonl")]) == 0
    return w


def commands(w: Path, out: Path) -> dict[str, list[str]]:
    """One real invocation per command family, writing under ``out``."""
    cfg = str(w / "d" / "config.yaml")
    return {
        "data synthetic": ["data", "synthetic", "--out", str(out / "syn"), "--train-videos", "24", "--test-videos", "8",
                           "--dim", "16"],
        "baseline": ["baseline", "prior", "--data", cfg, "--out", str(out / "prior.jsonl")],
        "evaluate": ["evaluate", str(w / "random.jsonl"), str(w / "d" / "test.jsonl"), "--protocol", "charades"],
        "predict": ["predict", "--checkpoint", str(w / "run"), "--out", str(out / "pred.jsonl"), "--quiet"],
        "train": ["train", cfg, *TINY_TRAIN, "--run-dir", str(out / "run"), "--quiet"],
        "config show": ["config", "show", "charades_sta_sim"],
        "compare": ["compare", str(w / "run")],
        "export": ["export", "--out", str(out / "export"), str(w / "run")],
        "visualize": ["visualize", "curves", "--out", str(out / "curves.png"), str(w / "run")],
        "report": ["report", str(w / "random.jsonl"), "--gt", str(w / "d" / "test.jsonl"), "--out", str(out / "r.html")],
        "features inspect": ["features", "inspect", str(w / "d" / "features.h5")],
        "data simulate": ["data", "simulate", "--gt", str(w / "d" / "train.jsonl"), str(w / "d" / "test.jsonl"),
                          "--word-vectors", str(w / "d" / "word_vectors.npz"), "--dim", "16", "--out", str(out / "sim.h5")],
        "data calibrate": ["data", "calibrate", cfg],
    }


COMMANDS = list(commands(Path("w"), Path("out")))


def _whole(out: Path) -> list[str]:
    """What is wrong with the outputs under ``out``: temporary files left, or a JSON output cut short."""
    bad = [str(p) for p in out.rglob("*.tmp")]  # temporary files and checkpoint directories
    for p in out.rglob("*.jsonl"):
        for i, line in enumerate(p.read_text().splitlines(), 1):
            try:
                json.loads(line)
            except json.JSONDecodeError:
                bad.append(f"{p}:{i}")
    for p in out.rglob("result.json"):
        try:
            json.loads(p.read_text())
        except json.JSONDecodeError:
            bad.append(str(p))
    return bad


@pytest.mark.parametrize("name", COMMANDS)
def test_ctrl_c_at_any_moment_of_any_command_is_exit_130_and_leaves_outputs_whole(name, world, tmp_path):
    """SIGINT at moments spread over the command's own run time (loading, working, writing): the
    command either finishes (exit 0) or exits 130 with one line, no traceback, and every output
    it leaves is whole. The first moment is 0.5 s in: before that the interpreter itself may
    still be starting (about 30 ms on an idle machine), where no handler of ours can be
    installed yet."""
    exe = [sys.executable, "-m", "vlanet"]  # vlanet.__main__.run, as the installed script
    t = time.perf_counter()
    done = subprocess.run([*exe, *commands(world, tmp_path / "clean")[name]], capture_output=True, text=True, timeout=300)
    took = time.perf_counter() - t
    assert done.returncode == 0, done.stderr
    for k, frac in enumerate((0.0, 0.3, 0.6, 0.9)):
        out = tmp_path / f"cut{k}"
        p = subprocess.Popen([*exe, *commands(world, out)[name]], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(0.5 + frac * max(0.0, took - 0.5))
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=300)
        assert p.returncode in (0, 130), (name, frac, p.returncode, err[-500:])
        assert "Traceback" not in err, (name, frac, err[-800:])
        if p.returncode == 130:
            assert err.strip().splitlines()[-1] == "vlanet: interrupted", (name, frac, err[-300:])
        if out.exists():
            assert _whole(out) == [], (name, frac)
