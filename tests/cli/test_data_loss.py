"""Nothing a user owns is overwritten: an output that is an input (or another output) is refused
before any work, a run directory has one writer at a time, and invalid numbers never become data."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from test_bad_input import World, _prep_charades

from vlanet.cli import main
from vlanet.utils.io import locked_dir

TINY = ["data.synthetic_train_videos=30", "data.synthetic_test_videos=8", "data.synthetic_dim=16",
        "model.hidden_dim=16", "train.batch_size=16", "train.epochs=1", "eval.batch_size=16"]


def _refused(argv: list[str], capsys, *expect: str) -> str:
    capsys.readouterr()
    rc = main([str(a) for a in argv])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and "\n" not in err and "Traceback" not in err, err
    for s in expect:
        assert s in err, err
    return err


def _snapshot(*paths: Path) -> list[bytes]:
    return [p.read_bytes() for p in paths]


def test_prepare_refuses_to_overwrite_its_annotation_file(tmp_path, capsys):
    w = World(tmp_path)
    argv = _prep_charades(w, "vidA 0.0 5.0##a person sits.\n")
    anno, dur = Path(argv[4]), Path(argv[6])
    before = _snapshot(anno, dur)
    for target in (anno, dur, tmp_path / "x" / ".." / "anno.txt"):
        argv[-1] = str(target)
        _refused(argv, capsys, "--out", "refusing to overwrite")
        assert _snapshot(anno, dur) == before


def test_simulate_and_baseline_refuse_their_inputs(tmp_path, capsys):
    w = World(tmp_path)
    before = _snapshot(w.train, w.test)
    _refused(["data", "simulate", "--gt", w.train, w.test, "--out", w.test, "--dim", 8], capsys, "--gt")
    _refused(["baseline", "prior", "--gt", w.test, "--train", w.train, "--out", w.train], capsys, "data.train")
    assert _snapshot(w.train, w.test) == before


def test_an_output_that_is_a_directory_is_refused(tmp_path, capsys):
    w = World(tmp_path)
    (tmp_path / "adir").mkdir()
    _refused(["baseline", "random", "--gt", w.test, "--out", tmp_path / "adir"], capsys, "is a directory")


def test_predict_refuses_out_equal_to_gt_out(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "--run-dir", str(run), "--quiet", *TINY]) == 0
    preds = tmp_path / "p.jsonl"
    preds.write_text("keep me\n")
    _refused(["predict", "--checkpoint", run, "--out", preds, "--gt-out", preds, "--quiet"], capsys, "--gt-out")
    assert preds.read_text() == "keep me\n"


def test_a_second_writer_of_a_run_directory_fails_at_once(tmp_path):
    run = tmp_path / "run"
    with locked_dir(run):  # another process's live run
        (run / "config.yaml").write_text("theirs\n")
        r = subprocess.run([sys.executable, "-m", "vlanet", "train", "--run-dir", str(run), "--quiet", *TINY],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 2 and "another process is writing" in r.stderr, r.stderr
        assert r.stderr.count("\n") == 1
        assert (run / "config.yaml").read_text() == "theirs\n" and not (run / "checkpoints").exists()
    # the holder is gone: its lock file left behind does not block a run (flock dies with its process)
    r = subprocess.run([sys.executable, "-m", "vlanet", "train", "--run-dir", str(run / "fresh"), "--quiet", *TINY],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr


def test_a_killed_runs_lock_does_not_block_resume(tmp_path):
    run = tmp_path / "run"
    env = {**__import__("os").environ, "VLANET_KILL_AT": "epoch1.end"}
    r = subprocess.run([sys.executable, "-m", "vlanet", "train", "--run-dir", str(run), "--quiet", *TINY],
                       capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode != 0 and (run / ".lock").exists() and (run / "checkpoints" / "last").exists()
    r = subprocess.run([sys.executable, "-m", "vlanet", "train", "--resume", str(run), "--quiet"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert json.loads((run / "result.json").read_text())["test"]


@pytest.mark.parametrize("length", ["nan", "-3", "inf", "0"])
def test_invalid_durations_never_become_data(tmp_path, capsys, length):
    w = World(tmp_path)
    argv = _prep_charades(w, "vidA 0.0 5.0##a person sits.\n", csv=f"id,length\nvidA,{length}\n")
    _refused(argv, capsys, "dur.csv:2", "length")
    assert not w.out.exists()


def test_an_input_whose_every_line_is_dropped_is_an_error(tmp_path, capsys):
    w = World(tmp_path)
    _refused(_prep_charades(w, "vidA 6.0 6.0##empty.\nvidA 9.0 2.0##reversed.\n"), capsys, "every line was dropped")
    assert not w.out.exists()


def test_a_byte_order_mark_is_not_data(tmp_path, capsys):
    w = World(tmp_path)
    argv = _prep_charades(w, "\ufeffvidA 0.0 5.0##a person sits.\n".encode("utf-8"),
                          csv="\ufeffid,length\nvidA,30.0\n")
    assert main(argv) == 0
    row = json.loads(w.out.read_text().splitlines()[0])
    assert row["vid"] == "vidA" and row["duration"] == 30.0
