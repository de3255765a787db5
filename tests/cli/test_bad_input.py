"""The bad-input catalogue: every case must exit 2 with one line naming the file and the line,
id or field, print no traceback, and leave no output file behind.

Each case builds a small valid dataset in a temporary folder, breaks one thing, and runs the
real command-line entry point.  A handful also run in a subprocess (``test_subprocess_*``) to
check the process-level behaviour (exit status, stderr) end to end.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np
import pytest

from vlanet.cli import main

VIDS = ["vidA", "vidB", "vidC", "vidD"]
WORDS = ["person", "opens", "the", "door", "sits", "chair", "drinks", "cup"]


def _gt_rows(split: str) -> list[dict]:
    rows = []
    for i, vid in enumerate(VIDS):
        rows.append({"qid": f"{split}{i}a", "vid": vid, "query": "a person opens the door.", "duration": 30.0,
                     "relevant_windows": [[2.0, 9.0]]})
        rows.append({"qid": f"{split}{i}b", "vid": vid, "query": "person sits on the chair", "duration": 30.0,
                     "relevant_windows": [[12.0, 20.0]]})
    return rows


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


class World:
    """A valid tiny dataset; each case breaks one piece of it."""

    def __init__(self, root: Path):
        self.root = root
        self.feats = root / "feats.h5"
        with h5py.File(self.feats, "w") as f:
            rng = np.random.default_rng(0)
            for vid in VIDS:
                f[vid] = rng.standard_normal((45, 8)).astype(np.float32)
        self.train, self.test = root / "train.jsonl", root / "test.jsonl"
        _write_jsonl(self.train, _gt_rows("tr"))
        _write_jsonl(self.test, _gt_rows("te"))
        self.words = root / "words.npz"
        np.savez(self.words, words=np.array(["<PAD>"] + WORDS), vectors=np.vstack(
            [np.zeros(6), np.random.default_rng(1).standard_normal((len(WORDS), 6))]).astype(np.float32))
        self.preds = root / "preds.jsonl"
        _write_jsonl(self.preds, [{"qid": r["qid"], "pred_relevant_windows": [[2.0, 9.0, 0.9], [0.0, 30.0, 0.1]]}
                                  for r in _gt_rows("te")])
        self.out = root / "out" / "result.jsonl"

    def data_args(self, **change: str) -> list[str]:
        d = {"data.source": "files", "data.features": str(self.feats), "data.train": str(self.train),
             "data.test": str(self.test), "data.word_vectors": str(self.words), "model.hidden_dim": "8",
             "train.epochs": "1", "train.batch_size": "4", "data.val_fraction": "0"}
        d.update(change)
        return [f"{k}={v}" for k, v in d.items()]

    def train_args(self, *extra: str, **change: str) -> list[str]:
        return ["train", *self.data_args(**change), *extra, "--run-dir", str(self.root / "out" / "run"), "--quiet"]


def _h5(path: Path, arrays: dict[str, np.ndarray]) -> None:
    with h5py.File(path, "w") as f:
        for k, v in arrays.items():
            f[k] = v


def _replace_line(path: Path, n: int, text: str) -> None:
    lines = path.read_text().splitlines()
    lines[n - 1] = text
    path.write_text("\n".join(lines) + "\n")


def _good_features(w: World, **override: np.ndarray) -> None:
    arrays = {vid: np.random.default_rng(2).standard_normal((45, 8)).astype(np.float32) for vid in VIDS}
    arrays.update(override)
    _h5(w.feats, arrays)


# Each case: (id, setup(world) -> argv, substrings the one-line message must contain)
Case = tuple[str, Callable[[World], list[str]], list[str]]


def _prep_charades(w: World, text: str | bytes, csv: str = "id,length\nvidA,30.0\n") -> list[str]:
    anno, dur = w.root / "anno.txt", w.root / "dur.csv"
    (anno.write_bytes if isinstance(text, bytes) else anno.write_text)(text)
    dur.write_text(csv)
    return ["data", "prepare", "charades-sta", "--anno", str(anno), "--durations", str(dur), "--out", str(w.out)]


def _prep_json(w: World, kind: str, obj: object | str) -> list[str]:
    anno = w.root / "anno.json"
    anno.write_text(obj if isinstance(obj, str) else json.dumps(obj))
    return ["data", "prepare", kind, "--anno", str(anno), "--out", str(w.out)]


def _eval(w: World) -> list[str]:
    return ["evaluate", str(w.preds), str(w.test), "--json"]


def _ckpt(w: World) -> Path:
    """A trained tiny checkpoint (made once per case that needs one)."""
    run = w.root / "ck"
    assert main(["train", *w.data_args(), "--run-dir", str(run), "--quiet"]) == 0
    return run / "checkpoints" / "best"


def _predict(w: World, ck: Path, *extra: str) -> list[str]:
    return ["predict", "--checkpoint", str(ck), "--out", str(w.out), *extra]


CASES: list[Case] = [
    # -- annotation files ---------------------------------------------------------------------
    ("charades-no-separator", lambda w: _prep_charades(w, "vidA 0.0 5.0 a person sits.\n"), ["anno.txt:1", "##"]),
    ("charades-unparseable-time", lambda w: _prep_charades(w, "vidA 0.0 5.0##ok.\nvidA zero 5.0##bad\n"), ["anno.txt:2", "START/END"]),
    ("charades-empty-file", lambda w: _prep_charades(w, ""), ["anno.txt", "empty"]),
    ("charades-wrong-encoding", lambda w: _prep_charades(w, "vidA 0.0 5.0##caf\xe9 door\n".encode("latin-1")), ["anno.txt", "UTF-8"]),
    ("charades-unknown-video", lambda w: _prep_charades(w, "vidZ 0.0 5.0##a person sits.\n"), ["anno.txt:1", "vidZ"]),
    ("charades-csv-without-length", lambda w: _prep_charades(w, "vidA 0.0 5.0##x y.\n", "id,scene\nvidA,kitchen\n"), ["dur.csv", "length"]),
    ("didemo-not-json", lambda w: _prep_json(w, "didemo", "{not json"), ["anno.json", "JSON"]),
    ("didemo-missing-times", lambda w: _prep_json(w, "didemo", [{"video": "v", "description": "d", "annotation_id": 1, "num_segments": 6}]), ["anno.json", "times"]),
    ("anet-negative-duration", lambda w: _prep_json(w, "activitynet", {"v_1": {"duration": -3, "timestamps": [[0, 1]], "sentences": ["x"]}}), ["anno.json", "v_1", "duration"]),
    ("gt-invalid-json-line", lambda w: (_replace_line(w.test, 2, "{oops"), _eval(w))[1], ["test.jsonl:2", "JSON"]),
    ("gt-missing-duration", lambda w: (_replace_line(w.test, 3, json.dumps({"qid": "x", "vid": "vidA", "query": "q", "relevant_windows": []})), _eval(w))[1], ["test.jsonl:3", "duration"]),
    ("gt-duplicate-qid", lambda w: (_replace_line(w.test, 2, json.dumps(_gt_rows("te")[0])), _eval(w))[1], ["test.jsonl:2", "duplicate qid"]),
    ("gt-empty-file", lambda w: (w.test.write_text(""), _eval(w))[1], ["test.jsonl", "empty"]),
    ("gt-reversed-window", lambda w: (_replace_line(w.test, 1, json.dumps({**_gt_rows("te")[0], "relevant_windows": [[9.0, 2.0]]})), _eval(w))[1], ["test.jsonl:1", "relevant_windows"]),
    ("gt-not-utf8", lambda w: (w.test.write_bytes(b'{"qid": "\xff"}\n'), _eval(w))[1], ["test.jsonl", "UTF-8"]),
    ("gt-duration-string", lambda w: (_replace_line(w.test, 1, json.dumps({**_gt_rows("te")[0], "duration": "30s"})), _eval(w))[1], ["test.jsonl:1", "duration"]),
    # -- predictions given to evaluate ---------------------------------------------------------
    ("preds-missing-qid", lambda w: (_write_jsonl(w.preds, [{"qid": "te0a", "pred_relevant_windows": [[0, 1, 1]]}]), _eval(w))[1], ["no prediction", "qid"]),
    ("preds-window-reversed", lambda w: (_replace_line(w.preds, 1, json.dumps({"qid": "te0a", "pred_relevant_windows": [[9.0, 2.0, 0.5]]})), _eval(w))[1], ["preds.jsonl:1", "end 2.0 before start 9.0"]),
    ("preds-not-ranked", lambda w: (_replace_line(w.preds, 1, json.dumps({"qid": "te0a", "pred_relevant_windows": [[0, 5, 0.1], [2, 9, 0.9]]})), _eval(w))[1], ["preds.jsonl:1", "not ranked"]),
    ("preds-nan-score", lambda w: (_replace_line(w.preds, 2, '{"qid": "te0b", "pred_relevant_windows": [[0, 5, NaN]]}'), _eval(w))[1], ["preds.jsonl:2", "pred_relevant_windows", "finite"]),
    ("preds-duplicate-qid", lambda w: (_replace_line(w.preds, 2, json.dumps({"qid": "te0a", "pred_relevant_windows": []})), _eval(w))[1], ["preds.jsonl:2", "duplicate qid"]),
    ("preds-didemo-off-grid", lambda w: (_write_jsonl(w.test, [{"qid": 1, "vid": "v", "query": "q", "duration": 30.0, "relevant_windows": [[0.0, 5.0]], "didemo_times": [[0, 0], [0, 0], [0, 0], [0, 0]]}]),
                                         _write_jsonl(w.preds, [{"qid": 1, "pred_relevant_windows": [[1.0, 5.0, 1.0]]}]),
                                         ["evaluate", str(w.preds), str(w.test), "--protocol", "didemo"])[2], ["preds.jsonl", "5-second DiDeMo grid"]),
    # -- feature stores ------------------------------------------------------------------------
    ("features-missing-video", lambda w: (_h5(w.feats, {v: np.zeros((45, 8), np.float32) for v in VIDS[:3]}), w.train_args())[1], ["feats.h5", "vidD", "not found"]),
    ("features-wrong-dim", lambda w: (_good_features(w, vidC=np.ones((45, 9), np.float32)), w.train_args())[1], ["feats.h5", "vidC", "dim 9"]),
    ("features-nan-row", lambda w: (_good_features(w, vidB=np.where(np.arange(45)[:, None] == 7, np.nan, np.ones((45, 8))).astype(np.float32)), w.train_args())[1], ["feats.h5", "vidB", "row 7"]),
    ("features-inf-row", lambda w: (_good_features(w, vidA=np.where(np.arange(45)[:, None] == 3, np.inf, np.ones((45, 8))).astype(np.float32)), w.train_args())[1], ["feats.h5", "vidA", "row 3"]),
    ("features-zero-rows", lambda w: (_good_features(w, vidA=np.zeros((0, 8), np.float32)), w.train_args())[1], ["feats.h5", "vidA", "zero feature rows"]),
    ("features-1d-array", lambda w: (_good_features(w, vidA=np.zeros(8, np.float32)), w.train_args())[1], ["feats.h5", "vidA", "shape"]),
    ("features-truncated-hdf5", lambda w: (w.feats.write_bytes(w.feats.read_bytes()[:500]), w.train_args())[1], ["feats.h5", "not a readable HDF5"]),
    ("features-not-hdf5", lambda w: (w.feats.write_text("hello"), w.train_args())[1], ["feats.h5", "not a readable HDF5"]),
    ("features-path-missing", lambda w: w.train_args(**{"data.features": str(w.root / "nope.h5")}), ["nope.h5", "not found"]),
    ("features-corrupt-npy", lambda w: ((w.root / "npy").mkdir(), [(w.root / "npy" / f"{v}.npy").write_bytes(b"\x93NUMPY garbage") for v in VIDS],
                                        w.train_args(**{"data.features": str(w.root / "npy")}))[2], ["vidA.npy", "not a readable numpy file"]),
    ("features-inspect-empty-store", lambda w: (_h5(w.feats, {}), ["features", "inspect", str(w.feats)])[1], ["feats.h5", "no videos"]),
    # -- word vectors --------------------------------------------------------------------------
    ("words-wrong-width", lambda w: w.train_args(**{"data.word_dim": "300"}), ["words.npz", "6-d but 300-d"]),
    ("words-missing-file", lambda w: w.train_args(**{"data.word_vectors": str(w.root / "glove.npz")}), ["glove.npz", "not found"]),
    ("words-glove-text-bad-line", lambda w: ((w.root / "g.txt").write_text("person 1 2 3\nopens 1 2\n"), w.train_args(**{"data.word_vectors": str(w.root / "g.txt")}))[1], ["g.txt:2", "wrong width"]),
    ("words-npz-without-vectors", lambda w: (np.savez(w.words, words=np.array(WORDS)), w.train_args())[1], ["words.npz", "vectors"]),
    ("words-query-with-no-known-word", lambda w: (_replace_line(w.train, 1, json.dumps({**_gt_rows("tr")[0], "query": "zzz qqq"})), w.train_args())[1], ["tr0a", "no word in the vocabulary"]),
    # -- configs -------------------------------------------------------------------------------
    ("config-unknown-key", lambda w: w.train_args("model.hiden_dim=8"), ["model.hiden_dim", "unknown config key"]),
    ("config-wrong-type", lambda w: w.train_args(**{"train.epochs": "ten"}), ["train.epochs"]),
    ("config-stride-zero", lambda w: w.train_args(**{"model.stride_frames": "0"}), ["model.stride_frames", "> 0"]),
    ("config-window-longer-than-every-video", lambda w: w.train_args(**{"model.window_frames": "[2400]"}), ["model.window_frames", "longer than every video"]),
    ("config-negative-margin", lambda w: w.train_args(**{"train.margin": "-0.1"}), ["train.margin", ">= 0"]),
    ("config-bad-choice", lambda w: w.train_args(**{"model.attention_scale": "huge"}), ["model.attention_scale", "one of"]),
    ("config-yaml-syntax", lambda w: ((w.root / "c.yaml").write_text("data: [unclosed\n"), ["train", str(w.root / "c.yaml"), "--run-dir", str(w.root / "out" / "run")])[1], ["c.yaml", "YAML"]),
    ("config-file-missing", lambda w: ["train", str(w.root / "none.yaml"), "--run-dir", str(w.root / "out" / "run")], ["none.yaml", "not found"]),
    ("config-select-metric", lambda w: w.train_args(**{"train.select_metric": "R@3,IoU=0.5"}), ["train.select_metric"]),
    # -- checkpoints ---------------------------------------------------------------------------
    ("checkpoint-corrupt-safetensors", lambda w: (lambda ck: ((ck / "model.safetensors").write_bytes(b"\x00" * 40), _predict(w, ck))[1])(_ckpt(w)), ["model.safetensors", "not a readable safetensors"]),
    ("checkpoint-pickled-weights", lambda w: (lambda ck: ((ck / "model.safetensors").write_bytes(b"\x80\x04\x95" + b"\x00" * 64 + b"."), _predict(w, ck))[1])(_ckpt(w)), ["model.safetensors", "not a readable safetensors"]),
    ("checkpoint-wrong-architecture", lambda w: (lambda ck: ((ck / "model.json").write_text((ck / "model.json").read_text().replace('"hidden_dim": 8', '"hidden_dim": 16')), _predict(w, ck))[1])(_ckpt(w)), ["model.safetensors", "shape"]),
    ("checkpoint-json-garbage", lambda w: (lambda ck: ((ck / "model.json").write_text("{"), _predict(w, ck))[1])(_ckpt(w)), ["model.json", "not valid JSON"]),
    ("checkpoint-none-here", lambda w: _predict(w, w.root), ["no checkpoint here"]),
    ("checkpoint-feature-dim-mismatch", lambda w: (lambda ck: (_good_features(w, **{v: np.ones((45, 5), np.float32) for v in VIDS}), _predict(w, ck))[1])(_ckpt(w)), ["feats.h5", "dim 5", "expects 8"]),
    ("checkpoint-time-convention-mismatch", lambda w: (lambda ck: _predict(w, ck, "data.time_convention=seconds", "data.seconds_per_row=1.0"))(_ckpt(w)), ["feats.h5", "time convention"]),
    # -- CLI misuse ----------------------------------------------------------------------------
    ("cli-unknown-command", lambda w: ["frobnicate"], ["invalid choice"]),
    ("cli-evaluate-missing-gt", lambda w: ["evaluate", str(w.preds)], ["ground_truth"]),
    ("cli-bad-nms", lambda w: ["evaluate", str(w.preds), str(w.test), "--nms", "lots"], ["--nms"]),
    ("cli-resume-not-a-run", lambda w: ["train", "--resume", str(w.root)], ["not a run directory"]),
    ("cli-predict-override-section", lambda w: (lambda ck: _predict(w, ck, "train.lr=1"))(_ckpt(w)), ["train.lr=1", "data.*, eval.* and model.rank_by"]),
    ("cli-baseline-prior-without-train", lambda w: ["baseline", "prior", "--gt", str(w.test), "--out", str(w.out)], ["prior", "train"]),
]



# -- round 2 (issue 17) ---------------------------------------------------------------------------
def _gt_line(w: World, n: int, **change: object) -> list[str]:
    """Line n of the test ground truth with fields changed, then evaluate."""
    _replace_line(w.test, n, json.dumps({**_gt_rows("te")[n - 1], **change}))
    return _eval(w)


def _pred_line(w: World, n: int, text: str) -> list[str]:
    _replace_line(w.preds, n, text)
    return _eval(w)


def _ckpt_json(w: World, edit: Callable[[dict], object]) -> list[str]:
    """A checkpoint whose model.json was edited (``edit`` changes the dict in place)."""
    ck = _ckpt(w)
    info = json.loads((ck / "model.json").read_text())
    edit(info)
    (ck / "model.json").write_text(json.dumps(info))
    return _predict(w, ck)


def _run_with(w: World, name: str, text: str, argv: Callable[[Path], list[str]]) -> list[str]:
    """A finished tiny run whose file ``name`` was replaced by ``text``."""
    run = w.root / "ck"
    assert main(["train", *w.data_args(), "--run-dir", str(run), "--quiet"]) == 0
    (run / name).write_text(text)
    return argv(run)


DEEP = "[" * 200_000 + "]" * 200_000
HUGE_INT = "1" + "0" * 5000
LONG_ID = "v" * 100_000

CASES += [
    # -- a directory or a file where the other is needed (outputs) ------------------------------
    ("path-run-dir-is-a-file", lambda w: ((w.root / "afile").write_text("x"), w.train_args()[:-3] + ["--run-dir", str(w.root / "afile"), "--quiet"])[1], ["afile", "is a file"]),
    ("path-run-dir-parent-is-a-file", lambda w: ((w.root / "afile").write_text("x"), w.train_args()[:-3] + ["--run-dir", str(w.root / "afile" / "run"), "--quiet"])[1], ["afile"]),
    ("path-predict-out-is-a-dir", lambda w: (lambda ck: ((w.root / "adir").mkdir(), ["predict", "--checkpoint", str(ck), "--out", str(w.root / "adir")])[1])(_ckpt(w)), ["adir", "is a directory"]),
    ("path-prepare-out-is-a-dir", lambda w: ((w.root / "adir").mkdir(), _prep_charades(w, "vidA 0.0 5.0##a person sits.\n")[:-1] + [str(w.root / "adir")])[1], ["adir", "is a directory"]),
    ("path-prepare-out-parent-is-a-file", lambda w: ((w.root / "afile").write_text("x"), _prep_charades(w, "vidA 0.0 5.0##a person sits.\n")[:-1] + [str(w.root / "afile" / "gt.jsonl")])[1], ["afile", "not a directory"]),
    ("path-evaluate-preds-is-a-dir", lambda w: ["evaluate", str(w.root), str(w.test)], ["is a directory"]),
    ("path-baseline-out-is-a-dir", lambda w: ((w.root / "adir").mkdir(), ["baseline", "random", "--gt", str(w.test), "--out", str(w.root / "adir")])[1], ["adir", "is a directory"]),
    ("path-simulate-out-is-a-dir", lambda w: ((w.root / "adir").mkdir(), ["data", "simulate", "--gt", str(w.test), "--out", str(w.root / "adir"), "--dim", "8", "--quiet"])[1], ["adir", "is a directory"]),
    ("path-config-is-a-dir", lambda w: ["train", str(w.root), "--run-dir", str(w.root / "out" / "run")], ["is a directory"]),
    ("path-features-parent-is-a-file", lambda w: w.train_args(**{"data.features": str(w.test / "feats.h5")}), ["test.jsonl", "feats.h5"]),
    # -- JSON fields of the wrong type ----------------------------------------------------------
    ("json-gt-times-strings", lambda w: _gt_line(w, 1, relevant_windows=[["2", "9"]]), ["test.jsonl:1", "relevant_windows"]),
    ("json-gt-vid-list", lambda w: _gt_line(w, 2, vid=["vidA"]), ["test.jsonl:2", "vid"]),
    ("json-gt-qid-dict", lambda w: _gt_line(w, 1, qid={"a": 1}), ["test.jsonl:1", "qid"]),
    ("json-gt-query-number", lambda w: _gt_line(w, 1, query=5), ["test.jsonl:1", "query"]),
    ("json-gt-windows-not-list", lambda w: _gt_line(w, 1, relevant_windows="0-5"), ["test.jsonl:1", "relevant_windows"]),
    ("json-gt-duration-bool", lambda w: _gt_line(w, 1, duration=True), ["test.jsonl:1", "duration"]),
    ("json-gt-row-is-a-list", lambda w: (_replace_line(w.test, 1, "[1, 2]"), _eval(w))[1], ["test.jsonl:1", "object"]),
    ("json-preds-windows-string", lambda w: _pred_line(w, 1, json.dumps({"qid": "te0a", "pred_relevant_windows": "0 5"})), ["preds.jsonl:1", "pred_relevant_windows"]),
    ("json-preds-window-strings", lambda w: _pred_line(w, 1, json.dumps({"qid": "te0a", "pred_relevant_windows": [["0", "5", "1"]]})), ["preds.jsonl:1", "pred_relevant_windows"]),
    ("json-preds-qid-list", lambda w: _pred_line(w, 1, json.dumps({"qid": ["te0a"], "pred_relevant_windows": []})), ["preds.jsonl:1", "qid"]),
    ("json-didemo-times-strings", lambda w: _prep_json(w, "didemo", [{"video": "v", "description": "d", "annotation_id": 1, "num_segments": 6, "times": [["0", "1"]] * 4}]), ["anno.json", "times"]),
    ("json-didemo-not-a-list", lambda w: _prep_json(w, "didemo", {"video": "v"}), ["anno.json"]),
    ("json-anet-timestamps-strings", lambda w: _prep_json(w, "activitynet", {"v_1": {"duration": 10, "timestamps": [["a", "b"]], "sentences": ["x"]}}), ["anno.json", "v_1", "timestamps"]),
    ("json-anet-sentences-number", lambda w: _prep_json(w, "activitynet", {"v_1": {"duration": 10, "timestamps": [[0, 1]], "sentences": [5]}}), ["anno.json", "v_1", "sentences"]),
    ("json-charades-cd-not-a-dict", lambda w: _prep_json(w, "charades-cd", [1, 2, 3]), ["anno.json"]),
    # -- damaged JSON: huge integers, deep nesting ----------------------------------------------
    ("json-gt-huge-int", lambda w: (_replace_line(w.test, 1, '{"qid": 1, "vid": "vidA", "query": "q", "duration": ' + HUGE_INT + ', "relevant_windows": [[0, 1]]}'), _eval(w))[1], ["test.jsonl:1"]),
    ("json-gt-deep-nesting", lambda w: (_replace_line(w.test, 1, DEEP), _eval(w))[1], ["test.jsonl:1", "nested"]),
    ("json-preds-deep-nesting", lambda w: _pred_line(w, 1, '{"qid": "te0a", "pred_relevant_windows": ' + DEEP + "}"), ["preds.jsonl:1", "nested"]),
    ("json-didemo-huge-int", lambda w: _prep_json(w, "didemo", '[{"video": "v", "annotation_id": ' + HUGE_INT + "}]"), ["anno.json"]),
    ("json-anet-deep-nesting", lambda w: _prep_json(w, "activitynet", DEEP), ["anno.json", "nested"]),
    # -- missing keys in the project's own JSON -------------------------------------------------
    ("ckpt-json-missing-config", lambda w: _ckpt_json(w, lambda d: d.pop("config")), ["model.json", "config"]),
    ("ckpt-json-missing-feature-dim", lambda w: _ckpt_json(w, lambda d: d.pop("feature_dim")), ["model.json", "feature_dim"]),
    ("ckpt-json-config-not-a-dict", lambda w: _ckpt_json(w, lambda d: d.update(config=[1])), ["model.json", "config"]),
    ("ckpt-json-is-a-list", lambda w: (lambda ck: ((ck / "model.json").write_text("[]"), _predict(w, ck))[1])(_ckpt(w)), ["model.json"]),
    ("train-state-missing-epoch", lambda w: _run_with(w, "checkpoints/last/train_state.json", '{"best": 0, "history": []}', lambda run: ["train", "--resume", str(run), "train.epochs=2", "--quiet"]), ["train_state.json", "epoch"]),
    ("train-state-not-json", lambda w: _run_with(w, "checkpoints/last/train_state.json", "{", lambda run: ["train", "--resume", str(run), "train.epochs=2", "--quiet"]), ["train_state.json", "JSON"]),
    ("result-json-missing-test", lambda w: _run_with(w, "result.json", '{"seconds": 1}', lambda run: ["compare", str(run)]), ["result.json", "test"]),
    ("result-json-not-json", lambda w: _run_with(w, "result.json", "{oops", lambda run: ["compare", str(run)]), ["result.json", "JSON"]),
    ("result-json-test-not-a-dict", lambda w: _run_with(w, "result.json", '{"test": [1, 2]}', lambda run: ["compare", str(run)]), ["result.json", "test"]),
    ("metrics-jsonl-missing-keys", lambda w: _run_with(w, "metrics.jsonl", '{"epoch": 1}\n', lambda run: ["visualize", "curves", str(run), "--out", str(w.root / "out" / "c.png")]), ["metrics.jsonl:1", "missing field"]),
    ("metrics-jsonl-not-json", lambda w: _run_with(w, "metrics.jsonl", "{\n", lambda run: ["visualize", "curves", str(run), "--out", str(w.root / "out" / "c.png")]), ["metrics.jsonl:1", "JSON"]),
    # -- config values out of range -------------------------------------------------------------
    ("config-dropout-one", lambda w: w.train_args("model.dropout=1.0"), ["model.dropout", "[0, 1)"]),
    ("config-dropout-big", lambda w: w.train_args("model.dropout=3"), ["model.dropout", "[0, 1)"]),
    ("config-margin-nan", lambda w: w.train_args(**{"train.margin": "nan"}), ["train.margin", "finite"]),
    ("config-lr-inf", lambda w: w.train_args(**{"train.lr": ".inf"}), ["train.lr", "finite"]),
    ("config-fps-zero", lambda w: w.train_args("data.fps=0"), ["data.fps", "> 0"]),
    ("config-fps-inf", lambda w: w.train_args("data.fps=inf"), ["data.fps", "finite"]),
    ("config-synthetic-dim-negative", lambda w: ["train", "data.synthetic_dim=-4", "--run-dir", str(w.root / "out" / "run")], ["data.synthetic_dim", "> 0"]),
    ("config-val-fraction-nan", lambda w: w.train_args(**{"data.val_fraction": "nan"}), ["data.val_fraction"]),
    ("config-override-bad-yaml", lambda w: w.train_args("model.window_frames=[176, 208"), ["model.window_frames"]),
    ("config-override-no-section", lambda w: w.train_args("dropout=0.1"), ["dropout=0.1"]),
    ("config-iou-threshold-nan", lambda w: w.train_args("eval.iou_thresholds=[nan]"), ["eval.iou_thresholds"]),
    ("config-file-not-a-mapping", lambda w: ((w.root / "c.yaml").write_text("- 1\n- 2\n"), ["train", str(w.root / "c.yaml"), "--run-dir", str(w.root / "out" / "run")])[1], ["c.yaml", "mapping"]),
    ("config-section-not-a-mapping", lambda w: ((w.root / "c.yaml").write_text("model: 5\n"), ["train", str(w.root / "c.yaml"), "--run-dir", str(w.root / "out" / "run")])[1], ["c.yaml", "model"]),
    ("resume-after-architecture-edit", lambda w: _resume_edited(w), ["config.yaml", "model.hidden_dim", "8", "16"]),
    # -- other commands -------------------------------------------------------------------------
    ("demo-port-out-of-range", lambda w: ["demo", "--checkpoint", str(w.root), "--port", "70000"], ["--port", "70000"]),
    ("features-inspect-check-strings", lambda w: (_h5(w.feats, {"vidA": np.array([[b"a", b"b"]] * 3)}), ["features", "inspect", str(w.feats), "--check"])[1], ["feats.h5", "vidA", "numeric"]),
    # -- numbers too large to be times, and rates or sizes of zero (issue 28) -------------------
    ("json-gt-duration-1e308-baseline", lambda w: (_replace_line(w.test, 1, json.dumps({**_gt_rows("te")[0], "duration": 1e308})), ["baseline", "random", "--gt", str(w.test), "--out", str(w.root / "out" / "p.jsonl")])[1], ["test.jsonl:1", "duration", "1e+07"]),
    ("json-gt-window-1e300", lambda w: _gt_line(w, 1, relevant_windows=[[0, 1e300]]), ["test.jsonl:1", "relevant_windows"]),
    ("json-preds-window-1e300", lambda w: _pred_line(w, 1, json.dumps({"qid": "te0a", "pred_relevant_windows": [[0, 1e300, 1.0]]})), ["preds.jsonl:1", "pred_relevant_windows"]),
    ("option-simulate-fps-zero", lambda w: ["data", "simulate", "--gt", str(w.test), "--out", str(w.root / "out" / "b.h5"), "--fps", "0"], ["--fps", "> 0", "'0'"]),
    ("option-simulate-frames-per-row-zero", lambda w: ["data", "simulate", "--gt", str(w.test), "--out", str(w.root / "out" / "b.h5"), "--frames-per-row", "0"], ["--frames-per-row", "> 0"]),
    ("option-simulate-signal-inf", lambda w: ["data", "simulate", "--gt", str(w.test), "--out", str(w.root / "out" / "b.h5"), "--signal", "inf"], ["--signal", "finite"]),
    ("option-simulate-seconds-per-row-negative", lambda w: ["data", "simulate", "--gt", str(w.test), "--out", str(w.root / "out" / "b.h5"), "--seconds-per-row", "-5"], ["--seconds-per-row", ">= 0"]),
    ("option-synthetic-dim-zero", lambda w: ["data", "synthetic", "--out", str(w.root / "out" / "s"), "--dim", "0"], ["--dim", "> 0"]),
    ("option-synthetic-videos-nan", lambda w: ["data", "synthetic", "--out", str(w.root / "out" / "s"), "--train-videos", "nan"], ["--train-videos", "integer"]),
    ("option-extract-fps-zero", lambda w: ["features", "extract", str(w.root / "v.mp4"), "--out", str(w.root / "out" / "f.h5"), "--fps", "0"], ["--fps", "> 0"]),
    ("option-experiment-seeds-zero", lambda w: ["experiment", "table1", "--out", str(w.root / "out" / "t"), "--seeds", "0"], ["--seeds", "> 0"]),
    # -- messages stay short --------------------------------------------------------------------
    ("message-long-qid-duplicate", lambda w: (_write_jsonl(w.test, [{**_gt_rows("te")[0], "qid": LONG_ID}] * 2), _eval(w))[1], ["test.jsonl:2", "100000 chars"]),
    ("message-long-unknown-video", lambda w: _prep_charades(w, LONG_ID + " 0.0 5.0##a person sits.\n"), ["anno.txt:1", "100000 chars"]),
    ("suggest-config-key", lambda w: w.train_args("train.epoch=1"), ["train.epoch", "did you mean 'train.epochs'"]),
    ("suggest-command", lambda w: ["trian"], ["invalid choice", "did you mean 'train'"]),
    ("suggest-option", lambda w: ["train", "--run-dri", str(w.root / "out" / "run")], ["--run-dri", "did you mean '--run-dir'"]),
    ("message-long-config-value", lambda w: w.train_args(**{"model.attention_scale": "x" * 50_000}), ["model.attention_scale", "50000 chars"]),
]


def _resume_edited(w: World) -> list[str]:
    """A run whose config.yaml was edited to another architecture (hidden_dim 8 -> 16), resumed."""
    import yaml

    run = w.root / "ck"
    assert main(["train", *w.data_args(), "--run-dir", str(run), "--quiet"]) == 0
    cfg = yaml.safe_load((run / "config.yaml").read_text())
    cfg["model"]["hidden_dim"] = 16
    (run / "config.yaml").write_text(yaml.safe_dump(cfg))
    return ["train", "--resume", str(run), "train.epochs=2", "--quiet"]


@pytest.mark.parametrize("name,setup,expect", CASES, ids=[c[0] for c in CASES])
def test_bad_input(name, setup, expect, tmp_path, capsys):
    w = World(tmp_path)
    argv = setup(w)
    capsys.readouterr()
    try:
        rc = main(argv)
    except SystemExit as e:  # argparse usage errors
        rc = e.code
    err = capsys.readouterr().err.strip()
    assert rc == 2, f"exit {rc}, stderr: {err}"
    assert err and "\n" not in err, f"not one line: {err[:500]!r}"
    assert len(err) <= 320, f"message of {len(err)} chars: {err[:400]!r}"
    assert "Traceback" not in err
    for s in expect:
        assert s in err, f"{s!r} not in {err[:500]!r}"
    out_dir = tmp_path / "out"
    left = sorted(p.name for p in out_dir.rglob("*")) if out_dir.exists() else []
    assert left == [], f"partial output left behind: {left}"


def test_catalogue_size():
    assert len(CASES) >= 100


def test_subprocess_bad_input_is_one_line_exit_2(tmp_path):
    w = World(tmp_path)
    _replace_line(w.test, 2, "{oops")
    r = subprocess.run([sys.executable, "-m", "vlanet", *_eval(w)], capture_output=True, text=True)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.count("\n") == 1 and "test.jsonl:2" in r.stderr and "Traceback" not in r.stderr


def test_official_file_flaws_warn_once_with_a_count(tmp_path, capsys):
    w = World(tmp_path)
    argv = _prep_charades(w, "vidA 0.0 5.0##a person sits.\nvidA 20.0 40.0##past the end.\nvidA 6.0 6.0##empty.\n"
                             "vidA 28.0 31.5##also past.\n")
    assert main(argv) == 0
    err = capsys.readouterr().err
    warnings = [line for line in err.splitlines() if "warning" in line]
    assert len(warnings) == 1 and "2 end(s) past the duration clipped" in warnings[0] and "1 line(s) with start >= end" in warnings[0]
    assert len(w.out.read_text().splitlines()) == 3
