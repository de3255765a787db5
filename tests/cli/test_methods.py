"""CNM and CPL through the same commands as VLANet: train, predict (and its shuffled-query
control) reproducing the training run's numbers, the checkpoint round trip, export and the
Predictor API; and the methods table."""

import json
import subprocess
import sys

import numpy as np
import pytest
import torch

TINY = ["data.synthetic_train_videos=30", "data.synthetic_test_videos=8", "data.synthetic_dim=16",
        "train.batch_size=16", "train.epochs=2", "eval.batch_size=16"]
SMALL = {m: [f"{m}.hidden_dim=16", f"{m}.layers=1", f"{m}.num_clips=16"] for m in ("cnm", "cpl")}


def vlanet(*args):
    return subprocess.run([sys.executable, "-m", "vlanet", *map(str, args)], capture_output=True, text=True)


@pytest.fixture(scope="module", params=["cnm", "cpl"])
def trained(request, tmp_path_factory):
    m = request.param
    run = tmp_path_factory.mktemp(m) / "run"
    r = vlanet("train", "--run-dir", run, "--json", "--quiet", f"model.name={m}", *SMALL[m], *TINY)
    assert r.returncode == 0, r.stderr
    assert f"| {m.upper()} |" in r.stderr and f"| {m.upper()}, shuffled queries (control) |" in r.stderr
    return m, run, json.loads(r.stdout)


def test_predict_and_the_shuffled_control_reproduce_the_training_run(trained, tmp_path):
    m, run, res = trained
    assert res["model"] == m and set(res["blind"]) == {"prior", "saliency", "probe"}
    preds, gt, shuf = tmp_path / "p.jsonl", tmp_path / "gt.jsonl", tmp_path / "s.jsonl"
    assert vlanet("predict", "--checkpoint", run, "--out", preds, "--gt-out", gt, "--quiet").returncode == 0
    rows = [json.loads(x) for x in preds.read_text().splitlines()]
    n_props = 1 if m == "cnm" else 8  # CNM: one Gaussian; CPL: K proposals, NMS may merge some
    for row in rows:
        w = row["pred_relevant_windows"]
        assert 1 <= len(w) <= n_props and all(0 <= s < e <= row["duration"] + 1e-6 for s, e, _ in w)
        assert [x[2] for x in w] == sorted((x[2] for x in w), reverse=True)
    r = vlanet("evaluate", preds, gt, "--json")
    assert json.loads(r.stdout) == res["test"]
    r = vlanet("predict", "--checkpoint", run, "--out", shuf, "--quiet", "--control", "shuffled-queries")
    assert r.returncode == 0, r.stderr
    assert json.loads(vlanet("evaluate", shuf, gt, "--json").stdout) == res["test_shuffled"]


def test_checkpoint_round_trip_and_export_keep_the_model(trained, tmp_path):
    from vlanet import Predictor
    from vlanet.checkpoint import load_model

    m, run, _ = trained
    model, cfg, words, _ = load_model(run / "checkpoints" / "best")
    assert cfg.model.name == m and getattr(cfg, m).hidden_dim == 16 and type(model).__name__ == m.upper()
    out = tmp_path / "export"
    r = vlanet("export", run, "--out", out)
    assert r.returncode == 0, r.stderr
    exported, _, _, _ = load_model(out)
    for (k, v), (k2, v2) in zip(model.state_dict().items(), exported.state_dict().items()):
        assert k == k2 and torch.equal(v, v2)
    p = Predictor.from_pretrained(out)
    video = p.encode_features(np.random.default_rng(0).standard_normal((40, p.feature_dim)).astype(np.float32), 30.0)
    first = p.predict("a person opens the door", video, topk=3)
    again = p.predict("a person opens the door", video, topk=3)
    windows = first["pred_relevant_windows"]
    assert first == again and 1 <= len(windows) <= 3
    assert all(0 <= s < e <= 30.0 + 1e-6 for s, e, _ in windows)


def test_a_cnm_run_is_not_stale_for_a_vlanet_field(tmp_path):
    """model.* fields (but the name) are VLANet's and TGA's; a cached CNM run stays valid when
    they change, and goes stale when a cnm.* field does."""
    from vlanet.config import load_config
    from vlanet.experiments.runs import check_same_config
    from vlanet.utils.errors import InputError

    run = tmp_path / "run"
    r = vlanet("train", "--run-dir", run, "--quiet", "model.name=cnm", *SMALL["cnm"], *TINY[:3], "train.epochs=1")
    assert r.returncode == 0, r.stderr
    check_same_config(run, load_config(None, ["model.name=cnm", *SMALL["cnm"], *TINY[:3], "train.epochs=1",
                                              "model.hidden_dim=64"]))
    with pytest.raises(InputError, match="cnm.layers"):
        check_same_config(run, load_config(None, ["model.name=cnm", *SMALL["cnm"], *TINY[:3], "train.epochs=1",
                                                  "cnm.layers=2"]))
