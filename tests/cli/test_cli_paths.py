"""Every command-line argument that names a path, given a bad one (hypothesis draws the argument
and the flaw): exit 2, one short line that names the path, no traceback, nothing written, and
every input and prior output byte-for-byte unchanged.

Inputs get: a missing path, a directory where a file is expected (a file where a directory is),
an empty file, binary garbage, text garbage and a path under a regular file.  Outputs get: an
existing directory (a file for folder outputs), a path under a regular file, and each input of
the same command.  ``test_every_path_argument_is_covered`` fails when a command gains a path
argument that is not in ``CASES``.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_bad_input import World

from vlanet.cli import build_parser, main

# (command words, {argument: (role, base value)}, other arguments).  Roles: "in" a file read,
# "text" a file of free text (garbage text is valid), "video" a file whose content only a backbone
# reads (content flaws: test_video.py), "indir" a folder read, "out" a file written, "outdir" a
# folder written.  Values name files of
# the world below: cfg, gt, train, preds, feats, words, anno, csv, video, queries, run, ck.
CASES: list[tuple[list[str], dict[str, tuple[str, str]], list[str]]] = [
    (["config", "show"], {"config": ("in", "cfg")}, []),
    (["train"], {"config": ("in", "cfg"), "--run-dir": ("outdir", "new")}, ["--quiet"]),
    (["train"], {"data.word_vectors=": ("in", "words"), "data.features=": ("in", "feats"),
                 "data.train=": ("in", "train"), "data.test=": ("in", "gt"), "--run-dir": ("outdir", "new")},
     ["cfg", "--quiet"]),
    (["predict"], {"--checkpoint": ("indir", "ck"), "--out": ("out", "new"), "--gt-out": ("out", "new2")}, ["--quiet"]),
    (["evaluate"], {"predictions": ("in", "preds"), "ground_truth": ("in", "gt")}, []),
    (["baseline", "prior"], {"--gt": ("in", "gt"), "--train": ("in", "train"), "--out": ("out", "new")}, []),
    (["baseline", "probe"], {"--data": ("in", "cfg"), "--out": ("out", "new")}, []),
    (["data", "synthetic"], {"--out": ("outdir", "new")}, ["--train-videos", "4", "--test-videos", "2", "--dim", "8"]),
    (["data", "prepare", "charades-sta"], {"--anno": ("in", "anno"), "--durations": ("in", "csv"),
                                           "--out": ("out", "new")}, []),
    (["data", "simulate"], {"--gt": ("in", "gt"), "--word-vectors": ("in", "words"), "--out": ("out", "new")},
     ["--quiet"]),
    (["data", "calibrate"], {"config": ("in", "cfg")}, []),
    (["features", "inspect"], {"path": ("in", "feats")}, []),
    (["features", "extract"], {"inputs": ("video", "video"), "--weights": ("video", "words"), "--out": ("out", "new")},
     ["--backbone", "r3d-18", "--quiet"]),
    (["run"], {"video": ("video", "video"), "--queries": ("text", "queries"), "--checkpoint": ("indir", "ck"),
               "--plot": ("out", "new.png")}, ["--quiet"]),
    (["visualize", "curves"], {"run_dir": ("indir", "run"), "--out": ("out", "new.png")}, []),
    (["visualize", "timeline"], {"run_dir": ("indir", "run"), "--out": ("out", "new.png")}, ["--qid", "tea"]),
    (["report"], {"predictions": ("in", "preds"), "--gt": ("in", "gt"), "--videos": ("indir", "videos"),
                  "--out": ("out", "new.html")}, []),
    (["experiment", "table1"], {"--data": ("in", "cfg"), "--out": ("outdir", "new")}, ["--quiet"]),
    (["compare"], {"run_dirs": ("indir", "run")}, []),
    (["export"], {"run": ("indir", "run"), "--out": ("outdir", "new")}, []),
]
# Path arguments of the parser that this harness leaves to the catalogue, with the reason
NOT_HERE = {("demo", "--checkpoint"): "a valid one starts a server (test_bad_input: demo cases)",
            ("demo", "--example"): "checked by gradio after the server starts",
            ("run", "--weights"): "read only when a backbone needs weights (test_video.py)",
            ("visualize", "attention", "run_dir"): "the same reader as visualize timeline",
            ("visualize", "attention", "--out"): "the same writer as visualize timeline"}
PATH_DESTS = {"config", "run_dir", "checkpoint", "out", "gt_out", "predictions", "ground_truth", "gt", "train",
              "data", "anno", "durations", "word_vectors", "path", "inputs", "weights", "video", "queries",
              "plot", "example", "videos", "run_dirs", "run"}
IN_FLAWS = ["missing", "wrong-kind", "empty", "binary", "text", "under-a-file"]
OUT_FLAWS = ["wrong-kind", "under-a-file", "an-input"]

SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                           HealthCheck.too_slow])


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("paths")
    w = World(root)
    files = {"gt": w.test, "train": w.train, "preds": w.preds, "feats": w.feats, "words": w.words}
    cfg = root / "cfg.yaml"
    sections: dict = {}
    for item in w.data_args():
        key, value = item.split("=", 1)
        sec, name = key.split(".")
        sections.setdefault(sec, {})[name] = yaml.safe_load(value)
    cfg.write_text(yaml.safe_dump(sections))
    files["cfg"] = cfg
    run = root / "run"
    assert main(["train", str(cfg), "--run-dir", str(run), "--quiet"]) == 0
    files.update(run=run, ck=run / "checkpoints" / "best")
    files["anno"] = root / "anno.txt"
    files["anno"].write_text("vidA 2.0 9.0##a person opens the door.\n")
    files["csv"] = root / "durations.csv"
    files["csv"].write_text("id,length\nvidA,30.0\n")
    files["video"] = root / "clip.mp4"
    files["video"].write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(64))
    files["queries"] = root / "queries.txt"
    files["queries"].write_text("a person opens the door\n")
    files["videos"] = root / "videos"
    files["videos"].mkdir()
    return files


def _snapshot(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha1(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*"))
            if p.is_file() and p.name != ".lock"}


def _flawed(flaw: str, role: str, where: Path, inputs: list[Path]) -> Path:
    """A path with ``flaw`` for an argument of ``role``, made inside the fresh folder ``where``."""
    if flaw == "missing":
        return where / "absent.jsonl"
    if flaw == "wrong-kind":
        if role not in ("indir", "outdir"):
            (where / "adir").mkdir()
            return where / "adir"
        (where / "afile").write_text("x\n")
        return where / "afile"
    if flaw == "empty":
        (where / "empty.jsonl").write_bytes(b"")
        return where / "empty.jsonl"
    if flaw == "binary":
        (where / "junk.bin").write_bytes(bytes(range(256)) * 4)
        return where / "junk.bin"
    if flaw == "text":
        (where / "junk.txt").write_text("{ this is : not [ what it should be\n" * 3)
        return where / "junk.txt"
    if flaw == "under-a-file":
        (where / "plain").write_text("x\n")
        return where / "plain" / "inside.jsonl"
    assert flaw == "an-input"
    return inputs[0]


def _argv(case, world: dict[str, Path], arg: str, bad: Path, scratch: Path) -> list[str]:
    words, args, extra = case
    argv = list(words)
    positional, options = [], []
    for name, (role, value) in args.items():
        path = bad if name == arg else (scratch / value if value.startswith("new") else world[value])
        if name.startswith("--"):
            options += [name, str(path)]
        elif name.endswith("="):
            options.append(f"{name}{path}")
        else:
            positional.append(str(path))
    extra = [str(world["cfg"]) if e == "cfg" else e for e in extra]
    return argv + [e for e in extra if e == str(world["cfg"])] + positional + options + \
        [e for e in extra if e != str(world["cfg"])]


def flaws_for(role: str) -> list[str]:
    if role.startswith("out"):
        return OUT_FLAWS
    return [f for f in IN_FLAWS if f not in {"indir": ("empty",), "text": ("text",),
                                             "video": ("empty", "binary", "text")}.get(role, ())]


@st.composite
def bad_paths(draw):
    case = draw(st.sampled_from(CASES))
    arg = draw(st.sampled_from(sorted(case[1])))
    role = case[1][arg][0]
    flaws = flaws_for(role)
    flaw = draw(st.sampled_from(flaws))
    if flaw == "an-input" and all(r.startswith("out") for r, _ in case[1].values()):
        flaw = "wrong-kind"
    return case, arg, flaw


@SETTINGS
@given(drawn=bad_paths())
def test_a_bad_path_is_refused_by_name_and_nothing_changes(drawn, world, tmp_path_factory, capsys):
    case, arg, flaw = drawn
    scratch = tmp_path_factory.mktemp("bad")
    inputs = [world[v] for n, (r, v) in case[1].items() if not r.startswith("out") and n != arg]
    bad = _flawed(flaw, case[1][arg][0], scratch, inputs or [world["gt"]])
    argv = _argv(case, world, arg, bad, scratch)
    before, scratch_before = _snapshot(world["cfg"].parent), _snapshot(scratch)
    capsys.readouterr()
    try:
        rc = main(argv)
    except SystemExit as e:
        rc = e.code
    err = capsys.readouterr().err.strip()
    label = f"{' '.join(case[0])} {arg} {flaw}: "
    assert rc == 2, label + f"exit {rc}: {err[:400]}"
    assert err and "\n" not in err and len(err) <= 320 and "Traceback" not in err, label + err[:500]
    named = bad.name if flaw != "under-a-file" else "plain"
    assert named in err or bad.parent.name in err, label + f"the message does not name {named!r}: {err}"
    assert _snapshot(world["cfg"].parent) == before, label + "an input or a prior output changed"
    assert _snapshot(scratch) == scratch_before, label + "something was written"
    shutil.rmtree(scratch)


def test_every_path_argument_is_covered():
    covered = {(*words, name) for words, args, _ in CASES for name in args if not name.endswith("=")}

    def walk(parser: argparse.ArgumentParser, prefix: tuple[str, ...]):
        for a in parser._actions:
            if isinstance(a, argparse._SubParsersAction):
                for name, sub in a.choices.items():
                    yield from walk(sub, (*prefix, name))
            elif a.dest in PATH_DESTS:
                yield (*prefix, a.option_strings[0] if a.option_strings else a.dest)

    found = set(walk(build_parser(), ()))
    # a case names its command with its first positional choice (data prepare charades-sta)
    covered |= {key[:2] + key[3:] for key in covered if key[:2] in (("data", "prepare"),)}
    covered |= {(key[0], *key[2:]) for key in covered if key[0] in ("baseline", "experiment")}
    missing = sorted(found - covered - set(NOT_HERE))
    assert not missing, f"path arguments without a bad-path case: {missing}"
