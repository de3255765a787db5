"""Ctrl-C: exit 130, one line, the temporary file removed and the prior output untouched."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

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
