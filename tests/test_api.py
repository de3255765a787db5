"""The Python API (vlanet.api.Predictor) on a tiny trained run: predictions with unknown words
reported, ``explain`` (the data of Figs. 5-6) and the figures drawn from it."""

from __future__ import annotations

import subprocess
import sys

import pytest

from vlanet.utils.errors import InputError

TINY = ["data.synthetic_train_videos=30", "data.synthetic_test_videos=8", "data.synthetic_dim=16",
        "model.hidden_dim=16", "train.batch_size=16", "train.epochs=1", "eval.batch_size=16"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    d = tmp_path_factory.mktemp("api") / "run"
    r = subprocess.run([sys.executable, "-m", "vlanet", "train", "--run-dir", str(d), "--quiet", *TINY],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return d


def test_explain_returns_the_attention_of_one_query_and_its_ground_truth(run):
    from vlanet import Predictor
    from vlanet.data.loading import load_splits

    p = Predictor.from_pretrained(run)
    q = load_splits(p.cfg, need=("test",), words=p.words).test.queries[0]
    result, gt = p.explain(q.qid)
    assert gt == q.windows and result["vid"] == q.vid and result["query"] == q.query
    att = result["attention"]
    assert att["words"] and len(att["map"]) == len(att["element_windows"]) == len(att["element_weights"])
    assert abs(sum(att["element_weights"]) - 1.0) < 1e-4
    with pytest.raises(InputError, match="no query with qid 'nope'"):
        p.explain("nope")


@pytest.mark.parametrize("figure", ["attention", "timeline"])
def test_figures_5_and_6_from_a_run(run, tmp_path, figure):
    from vlanet import Predictor
    from vlanet.data.loading import load_splits

    p = Predictor.from_pretrained(run)
    qid = load_splits(p.cfg, need=("test",), words=p.words).test.queries[0].qid
    out = tmp_path / f"{figure}.png"
    r = subprocess.run([sys.executable, "-m", "vlanet", "visualize", figure, str(run), "--qid", str(qid),
                        "--out", str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
