"""The reader contract, generated with hypothesis: whatever bytes a user's file holds, every
reader either returns valid data or raises ``InputError`` whose one-line form names the file
and stays short.  No other exception, no output, and the input file is never modified.

Bad values are drawn per field: wrong types, NaN / inf / negative / huge numbers, empty and
very long strings, deep nesting, a byte-order mark, CRLF line ends.  The command-line side
(exit 2, no traceback, outputs equal to inputs) is the catalogue of test_bad_input.py and
test_data_loss.py; this file checks the readers under them with many more values.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vlanet.config import load_config
from vlanet.data.annotations import read_ground_truth, read_predictions
from vlanet.data.prepare import (
    prepare_activitynet,
    prepare_charades,
    prepare_charades_cd,
    prepare_didemo,
)
from vlanet.utils.errors import MAX_MESSAGE, InputError, one_line

SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# JSON values that are wrong somewhere: as raw JSON text, so NaN, Infinity and huge integers appear
# exactly as a damaged file would hold them
BAD_JSON = st.sampled_from([
    "null", "true", "false", "0", "-1", "-1e308", "1e308", "NaN", "Infinity", "-Infinity", "1" + "0" * 5000,
    '""', '"x"', '"' + "y" * 5000 + '"', '"\\u0000"', "[]", "[[]]", '[["a", "b"]]', "[[1]]", "[[1, 2, 3, 4]]",
    "[[2, 1]]", "[[NaN, 1]]", "[[-5, 1e309]]", "{}", '{"a": 1}', "[" * 3000 + "]" * 3000, "[1, [2, [3]]]",
])
GOOD_GT = {"qid": '"q1"', "vid": '"vidA"', "query": '"a person opens the door"', "duration": "30.0",
           "relevant_windows": "[[2.0, 9.0]]"}


def _row(fields: dict[str, str]) -> str:
    return "{" + ", ".join(f'"{k}": {v}' for k, v in fields.items()) + "}"


@st.composite
def damaged_lines(draw, good: dict[str, str]) -> str:
    """One JSON line of ``good`` with some fields replaced by bad values or dropped."""
    fields = dict(good)
    for key in draw(st.lists(st.sampled_from(sorted(good)), min_size=1, max_size=3, unique=True)):
        if draw(st.booleans()):
            fields[key] = draw(BAD_JSON)
        else:
            fields.pop(key)
    return _row(fields)


@st.composite
def damaged_files(draw, line: st.SearchStrategy[str], good_line: str) -> bytes:
    lines = [good_line, draw(line)]
    if draw(st.booleans()):
        lines.reverse()
    text = ("\r\n" if draw(st.booleans()) else "\n").join(lines) + "\n"
    raw = text.encode("utf-8")
    if draw(st.booleans()):
        raw = b"\xef\xbb\xbf" + raw  # a byte-order mark
    return raw


def _contract(path: Path, read) -> None:
    """``read(path)`` returns, or raises InputError naming the file in a short line; the file is unchanged."""
    before = path.read_bytes()
    try:
        out = read(path)
    except InputError as e:
        msg = one_line(str(e))
        assert len(msg) <= MAX_MESSAGE and "\n" not in msg
        assert path.name in msg, msg
    else:
        _check_valid(out)
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]


def _check_valid(out) -> None:
    """Whatever a reader returns is clean data: finite times, start <= end, positive durations."""
    queries = out[0] if isinstance(out, tuple) else out
    if isinstance(queries, dict):  # predictions: qid -> row
        for row in queries.values():
            for w in row["pred_relevant_windows"]:
                assert all(math.isfinite(x) for x in w) and w[0] <= w[1]
        return
    for q in queries:
        assert math.isfinite(q.duration) and q.duration > 0 and q.query.strip()
        for s, e in q.windows:
            assert math.isfinite(s) and math.isfinite(e) and s <= e


GOOD_PRED = {"qid": '"q1"', "pred_relevant_windows": "[[2.0, 9.0, 0.9], [0.0, 30.0, 0.1]]"}
JSONL_READERS = {"gt.jsonl": (GOOD_GT, read_ground_truth), "preds.jsonl": (GOOD_PRED, read_predictions)}


@SETTINGS
@given(data=st.data(), name=st.sampled_from(sorted(JSONL_READERS)))
def test_jsonl_readers(tmp_path_factory, data, name):
    """Ground truth and predictions, one damaged line beside a good one."""
    good, read = JSONL_READERS[name]
    raw = data.draw(damaged_files(damaged_lines(good), _row(good).replace('"q1"', '"q0"')))
    p = tmp_path_factory.mktemp("jsonl") / name
    p.write_bytes(raw)
    _contract(p, read)


GOOD_DIDEMO = {"video": '"v.mov"', "description": '"the dog runs"', "annotation_id": "7", "num_segments": "6",
               "times": "[[0, 0], [0, 1], [0, 0], [1, 1]]"}
GOOD_ANET = {"duration": "30.0", "timestamps": "[[1.0, 5.0]]", "sentences": '["a man runs"]'}


@SETTINGS
@given(entry=damaged_lines(GOOD_DIDEMO), bom=st.booleans())
def test_didemo_reader(tmp_path_factory, entry, bom):
    p = tmp_path_factory.mktemp("didemo") / "anno.json"
    p.write_bytes((b"\xef\xbb\xbf" if bom else b"") + f"[{_row(GOOD_DIDEMO)}, {entry}]".encode())
    _contract(p, prepare_didemo)


@SETTINGS
@given(entry=damaged_lines(GOOD_ANET), kind=st.sampled_from(["activitynet", "charades-cd"]))
def test_timestamped_readers(tmp_path_factory, entry, kind):
    p = tmp_path_factory.mktemp("anet") / "anno.json"
    p.write_text(f'{{"v_1": {_row(GOOD_ANET)}, "v_2": {entry}}}')
    _contract(p, prepare_activitynet if kind == "activitynet" else prepare_charades_cd)


@SETTINGS
@given(line=st.one_of(st.text(max_size=200), st.sampled_from([
    "vidA 0.0 5.0##", "vidA nan 5.0##x", "vidA 0 inf##x", "vidA -1 5##x", "vidA 1e400 2##x", "##", "vidA##x",
    "vidA 0.0 5.0 extra##x", "vidA 5.0 0.0##x", "v" * 10_000 + " 0 1##x"])), crlf=st.booleans())
def test_charades_reader(tmp_path_factory, line, crlf):
    d = tmp_path_factory.mktemp("sta")
    anno = d / "anno.txt"
    anno.write_bytes(("vidA 0.0 5.0##a person sits.\n" + line + "\n").replace("\n", "\r\n" if crlf else "\n")
                     .encode("utf-8", "surrogatepass"))
    _contract(anno, lambda p: prepare_charades(p, {"vidA": 30.0}))


CONFIG_FIELDS = ["model.hidden_dim", "model.dropout", "model.window_frames", "model.vla_temperature", "train.lr",
                 "train.margin", "train.epochs", "data.fps", "data.val_fraction", "data.extra_tests",
                 "eval.iou_thresholds", "eval.recall_at", "eval.nms_threshold", "model.attention_scale"]
CONFIG_VALUES = st.one_of(st.sampled_from(["nan", ".inf", "-.inf", "-1", "0", "1e400", "[1, 2", "[]", "{}", "[nan]",
                                           "true", "x" * 5000, "", "null", "1" + "0" * 5000, "[[1]]", "-0.5"]),
                          st.text(max_size=30))


@SETTINGS
@given(key=st.sampled_from(CONFIG_FIELDS), value=CONFIG_VALUES)
def test_config_overrides(key, value):
    try:
        cfg = load_config(None, [f"{key}={value}"])
    except InputError as e:
        msg = one_line(str(e))
        assert len(msg) <= MAX_MESSAGE and "\n" not in msg
    else:  # accepted: every number of the config is finite and in range
        for sec in (cfg.data, cfg.model, cfg.train, cfg.eval):
            for v in vars(sec).values():
                for x in (v if isinstance(v, list) else [v]):
                    assert not (isinstance(x, float) and not math.isfinite(x))
        assert 0 <= cfg.model.dropout < 1 and cfg.model.hidden_dim > 0 and cfg.train.lr > 0


@SETTINGS
@given(doc=st.one_of(BAD_JSON, st.sampled_from(['{"format": "vlanet-checkpoint-1"}',
                                                 '{"format": "vlanet-checkpoint-1", "config": 5, "vocab": [], "feature_dim": 8}',
                                                 '{"format": "vlanet-checkpoint-1", "config": {}, "vocab": {}, "feature_dim": 8}',
                                                 '{"format": "vlanet-checkpoint-1", "config": {}, "vocab": [], "feature_dim": "8"}'])))
def test_checkpoint_json(tmp_path_factory, doc):
    from vlanet.checkpoint import load_model

    d = tmp_path_factory.mktemp("ck")
    (d / "model.json").write_text(doc)
    (d / "model.safetensors").write_bytes(b"")
    try:
        load_model(d)
    except InputError as e:
        assert "model.json" in one_line(str(e)) or "model.safetensors" in one_line(str(e))
    else:
        pytest.fail("a damaged checkpoint was loaded")


@SETTINGS
@given(doc=st.one_of(BAD_JSON, st.sampled_from(['{"test": {"R@1": "x"}}', '{"test": {}, "extra_tests": []}',
                                                 '{"test": {"R@1": 1}, "extra_tests": {"ood": {}}}',
                                                 '{"test": {"R@1": 1}, "language_gain": "high"}'])))
def test_result_json(tmp_path_factory, doc):
    from vlanet.experiments.runs import read_result

    p = tmp_path_factory.mktemp("run") / "result.json"
    p.write_text(doc)
    try:
        read_result(p)
    except InputError as e:
        assert "result.json" in one_line(str(e))
    else:
        pytest.fail(f"a damaged result.json was read: {doc[:80]}")


@SETTINGS
@given(array=st.sampled_from(["nan", "inf", "empty", "1d", "3d", "strings", "bool", "complex"]))
def test_feature_store(tmp_path_factory, array):
    import h5py

    from vlanet.data.features import open_store

    values = {"nan": np.full((4, 3), np.nan, np.float32), "inf": np.full((4, 3), np.inf), "empty": np.zeros((0, 3)),
              "1d": np.zeros(3), "3d": np.zeros((2, 2, 2)), "strings": np.array([[b"a", b"b"]] * 3),
              "bool": np.ones((4, 3), bool), "complex": np.ones((4, 3), np.complex64)}[array]
    p = tmp_path_factory.mktemp("feat") / "f.h5"
    with h5py.File(p, "w") as f:
        f["vidA"] = values
    before = p.read_bytes()
    with pytest.raises(InputError, match="f.h5"):
        open_store(p).get("vidA")
    assert p.read_bytes() == before


def test_message_shortening():
    long = "q" * 100_000
    msg = one_line(f"gt.jsonl:3: duplicate qid {long!r} (first on line 1)\nsecond line")
    assert msg.startswith("gt.jsonl:3: duplicate qid 'qqqq") and "(100000 chars)" in msg and "\n" not in msg
    assert len(msg) <= MAX_MESSAGE
    path = "/data/" + "/".join(["folder"] * 10) + "/gt.jsonl"
    assert one_line(f"{path}: bad") == f"{path}: bad"  # paths are kept whole up to 160 chars


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("window", [[-1e308, 1e308], [1e308, 1.7e308], [-1.7e308, -1e308], [0.0, 1e308]])
def test_evaluate_windows_at_the_float_limits(window):
    """Windows at +-1e308: finite metrics, no NaN and no overflow warning."""
    from vlanet.data.annotations import Query
    from vlanet.eval.evaluate import Protocol, evaluate_rows

    gt = [Query(1, "a", "q", 30.0, [[0.0, 5.0]]), Query(2, "a", "q", 30.0, list([window]))]
    rows = {q: {"pred_relevant_windows": [[*window, 1.0], [0.0, 5.0, 0.5]]} for q in (1, 2)}
    metrics = evaluate_rows(rows, gt, Protocol("charades"), "preds")
    assert all(math.isfinite(v) for v in metrics.values()), metrics
    assert metrics["R@5,IoU=0.7"] == 100.0
