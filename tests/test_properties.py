"""Property-based tests (hypothesis) for IoU, NMS, the metrics and the annotation parsers."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vlanet.data.annotations import read_ground_truth, read_predictions
from vlanet.eval.metrics import didemo_iou, didemo_metrics, recall_metrics
from vlanet.utils.errors import InputError
from vlanet.utils.spans import iou_matrix, nms, proposal_grid, temporal_iou

times = st.floats(0, 200, allow_nan=False, allow_infinity=False)


@st.composite
def segment(draw):
    a, b = draw(times), draw(times)
    return [min(a, b), max(a, b)]


@st.composite
def ranked(draw, n_max=12):
    wins = draw(st.lists(segment(), min_size=1, max_size=n_max))
    scores = sorted(draw(st.lists(st.floats(-5, 5, allow_nan=False), min_size=len(wins), max_size=len(wins))), reverse=True)
    return [[s, e, sc] for (s, e), sc in zip(wins, scores)]


@given(segment(), segment())
def test_iou_symmetric_and_bounded(a, b):
    x, y = temporal_iou(a, b), temporal_iou(b, a)
    assert x == y and 0.0 <= x <= 1.0
    assert iou_matrix(np.array([a]), np.array([b]))[0, 0] == pytest.approx(x)


@given(segment())
def test_iou_with_itself_is_one_unless_empty(a):
    assert temporal_iou(a, a) == (1.0 if a[1] > a[0] else 0.0)


@given(st.lists(segment(), min_size=1, max_size=30), st.floats(0, 1), st.integers(1, 10), st.data())
def test_nms_keeps_no_pair_above_threshold(wins, thr, topk, data):
    scores = data.draw(st.lists(st.floats(-1, 1, allow_nan=False), min_size=len(wins), max_size=len(wins)))
    keep = nms(np.array(wins), np.array(scores), thr, topk)
    assert len(keep) <= topk and len(set(keep.tolist())) == len(keep)
    kept = np.array(wins)[keep]
    m = iou_matrix(kept, kept)
    np.fill_diagonal(m, 0.0)
    assert (m <= thr + 1e-12).all()
    ks = np.array(scores)[keep]
    assert (np.diff(ks) <= 0).all()  # best first


@settings(max_examples=60)
@given(st.lists(st.tuples(ranked(), st.lists(segment(), min_size=1, max_size=3)), min_size=1, max_size=8))
def test_recall_monotone_in_n_antitone_in_m(data):
    preds, gts = [p for p, _ in data], [g for _, g in data]
    ns, ms = [1, 2, 5, 10], [0.1, 0.3, 0.5, 0.7, 0.9]
    r = recall_metrics(preds, gts, ns, ms)
    for m in ms:
        vals = [r[f"R@{n},IoU={m:g}"] for n in ns]
        assert vals == sorted(vals)
    for n in ns:
        vals = [r[f"R@{n},IoU={m:g}"] for m in ms]
        assert vals == sorted(vals, reverse=True)
    assert all(0.0 <= v <= 100.0 for v in r.values())
    strict = recall_metrics(preds, gts, ns, ms, hit_rule=">")
    assert all(strict[k] <= r[k] for k in r)


chunks = st.tuples(st.integers(0, 5), st.integers(0, 5)).map(lambda t: (min(t), max(t)))


@given(st.lists(st.tuples(st.permutations([(s, e) for s in range(6) for e in range(s, 6)]), st.lists(chunks, min_size=3, max_size=4)),
                min_size=1, max_size=6))
def test_didemo_metrics_bounded_and_r5_ge_r1(data):
    r = didemo_metrics([list(p) for p, _ in data], [a for _, a in data])
    assert 0 <= r["R@1"] <= r["R@5"] <= 100 and 0 <= r["mIoU"] <= 100


@given(chunks, chunks)
def test_didemo_iou_symmetric(a, b):
    assert didemo_iou(a, b) == didemo_iou(b, a) and 0 < didemo_iou(a, a) == 1.0


@given(st.floats(1, 300), st.floats(0.1, 20), st.lists(st.floats(0.5, 60), min_size=1, max_size=4), st.sampled_from(["clip", "drop"]))
def test_proposal_grid_windows_inside_video(duration, stride, widths, overflow):
    win, mask = proposal_grid(duration, stride, widths, overflow)
    assert mask.any()
    w = win[mask]
    assert (w[:, 0] >= 0).all() and (w[:, 1] <= duration + 1e-6).all() and (w[:, 1] > w[:, 0]).all()


json_value = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
                          lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=5), c, max_size=3), max_leaves=8)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.dictionaries(st.sampled_from(["qid", "vid", "query", "duration", "relevant_windows", "pred_relevant_windows", "x"]),
                                json_value, max_size=6), min_size=1, max_size=4))
def test_parsers_accept_or_raise_input_error(tmp_path_factory, rows):
    """Whatever JSON lines come in, the readers return validated rows or raise InputError."""
    f = tmp_path_factory.mktemp("p") / "rows.jsonl"
    f.write_text("".join(json.dumps(r) + "\n" for r in rows))
    for reader in (read_ground_truth, read_predictions):
        try:
            out = reader(f)
        except InputError as e:
            assert "rows.jsonl" in str(e)
            continue
        if reader is read_ground_truth:
            for q in out:
                assert q.duration > 0 and all(s <= e for s, e in q.windows)
        else:
            for row in out.values():
                assert all(w[0] <= w[1] for w in row["pred_relevant_windows"])


@given(st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40), min_size=1, max_size=5))
def test_charades_parser_never_crashes(tmp_path_factory, lines):
    from vlanet.data.prepare import prepare_charades

    f = tmp_path_factory.mktemp("c") / "anno.txt"
    f.write_text("\n".join(lines), encoding="utf-8")
    try:
        queries, rep = prepare_charades(f, {"AAA": 30.0})
    except InputError as e:
        assert "anno.txt" in str(e)
        return
    assert all(0 <= q.windows[0][0] < q.windows[0][1] <= 30.0 for q in queries)
