"""End to end through the real command line: train -> checkpoint -> predict -> evaluate."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

TINY = ["data.synthetic_train_videos=40", "data.synthetic_test_videos=12", "data.synthetic_dim=16",
        "model.hidden_dim=16", "train.batch_size=16", "train.epochs=2", "eval.batch_size=16"]


def vlanet(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "vlanet", *map(str, args)], capture_output=True, text=True, cwd=cwd)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    run = tmp_path_factory.mktemp("e2e") / "run"
    # overrides after the options (other tests put them first): both orders must apply them
    r = vlanet("train", "--run-dir", run, "--json", "--quiet", *TINY)
    assert r.returncode == 0, r.stderr
    assert len(r.stdout.strip().splitlines()) == 1 and "language gain" in r.stderr  # --json: stdout is the JSON
    table = [line.split("|")[1].strip() for line in r.stderr.splitlines() if line.startswith("| ")][1:]
    assert table[:2] == ["Random (same proposals, same NMS)", "Prior (blind: train moment positions)"]
    assert table[2].startswith("Best blind probe: ") and table[3:] == ["VLANet", "VLANet, shuffled queries (control)",
                                                           "VLANet, shuffled videos (control)"]
    assert "over the best blind row" in r.stderr
    return run, json.loads(r.stdout)


def test_train_writes_run_dir(trained):
    run, res = trained
    assert set(res) == {"run_dir", "model", "seed", "protocol", "seconds", "test", "random", "test_shuffled",
                        "language_gain", "test_shuffled_video", "visual_gain", "blind", "extra_tests"}
    assert res["extra_tests"] == {} and res["model"] == "vlanet" and res["seed"] == 0 and res["seconds"] > 0
    assert set(res["blind"]) == {"prior", "saliency", "probe"}  # the rows a model is read against
    assert all(0 <= m["R@1,IoU=0.5"] <= 100 for m in res["blind"].values())
    assert res["blind"]["prior"] != res["random"]  # a fitted prior, not the random row again
    assert res["language_gain"] == pytest.approx(res["test"]["R@1,IoU=0.5"] - res["test_shuffled"]["R@1,IoU=0.5"], abs=0.01)
    assert res["visual_gain"] == pytest.approx(res["test"]["R@1,IoU=0.5"] - res["test_shuffled_video"]["R@1,IoU=0.5"],
                                               abs=0.01)
    assert {"R@1,IoU=0.5", "R@5,IoU=0.7", "mIoU"} <= set(res["test"])
    lines = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert [x["epoch"] for x in lines] == [1, 2]
    for x in lines:
        assert {"loss", "pos_score", "neg_score", "val", "val_pos_score", "val_neg_score"} <= set(x)
    for name in ("best", "last"):
        assert (run / "checkpoints" / name / "model.safetensors").is_file()
        info = json.loads((run / "checkpoints" / name / "model.json").read_text())
        assert info["format"] == "vlanet-checkpoint-1" and info["config"]["model"]["hidden_dim"] == 16
    assert "hidden_dim: 16" in (run / "config.yaml").read_text()


def test_predict_then_evaluate_reproduces_training_numbers(trained, tmp_path):
    run, res = trained
    preds, gt = tmp_path / "preds.jsonl", tmp_path / "gt.jsonl"
    r = vlanet("predict", "--checkpoint", run, "--out", preds, "--gt-out", gt, "--quiet")
    assert r.returncode == 0, r.stderr
    rows = [json.loads(x) for x in preds.read_text().splitlines()]
    for row in rows:
        assert "pred_saliency_scores" not in row
        scores = [w[2] for w in row["pred_relevant_windows"]]
        assert scores == sorted(scores, reverse=True)
        assert all(0 <= w[0] < w[1] <= row["duration"] + 1e-6 for w in row["pred_relevant_windows"])
    r = vlanet("evaluate", preds, gt, "--protocol", "charades", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == res["test"]
    r = vlanet("evaluate", preds, gt)
    assert "nms=none" in r.stdout and "hit=IoU>=m" in r.stdout
    # the shuffled-query control: other sentences, the same ground truth, the training run's numbers
    shuf = tmp_path / "shuffled.jsonl"
    r = vlanet("predict", "--checkpoint", run, "--out", shuf, "--quiet", "--control", "shuffled-queries")
    assert r.returncode == 0 and "replaced by a query of another video" in r.stderr
    srows = {x["qid"]: x for x in map(json.loads, shuf.read_text().splitlines())}
    truth = {x["qid"]: x for x in map(json.loads, gt.read_text().splitlines())}
    assert srows.keys() == truth.keys()
    assert all(srows[k]["query"] != truth[k]["query"] for k in truth)
    r = vlanet("evaluate", shuf, gt, "--json")
    assert json.loads(r.stdout) == res["test_shuffled"]
    # the ranking rule is a test-time choice; other model fields are refused
    other = tmp_path / "vla.jsonl"
    r = vlanet("predict", "--checkpoint", run, "--out", other, "--quiet", "model.rank_by=vla")
    assert r.returncode == 0, r.stderr
    assert other.read_text() != preds.read_text()
    r = vlanet("predict", "--checkpoint", run, "--out", other, "--quiet", "model.hidden_dim=8")
    assert r.returncode == 2 and "model.rank_by" in r.stderr


def test_resume_continues_to_more_epochs(trained, tmp_path):
    import shutil

    run, _ = trained
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    r = vlanet("train", "--resume", copy, "train.epochs=3", "--quiet", "--json")
    assert r.returncode == 0, r.stderr
    lines = (copy / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(x)["epoch"] for x in lines] == [1, 2, 3]
    assert lines[:2] == (run / "metrics.jsonl").read_text().splitlines()


def test_selection_switches_train_and_change_the_loss(tmp_path):
    """model.selection and train.selection_weight (docs/CHOICES.md): both train end to end, and
    the selection term adds to the epoch's loss (same data, same seed, same first batch)."""
    losses = {}
    for name, extra in {"paper": [], "trained": ["model.selection=straight-through", "train.selection_weight=1.0"]}.items():
        run = tmp_path / name
        r = vlanet("train", "--run-dir", run, "--quiet", *TINY, "train.epochs=1", *extra)
        assert r.returncode == 0, r.stderr
        losses[name] = json.loads((run / "metrics.jsonl").read_text().splitlines()[0])["loss"]
        assert ("selection: straight-through" in (run / "config.yaml").read_text()) == bool(extra)
    assert losses["trained"] != losses["paper"]


def test_data_synthetic_then_train_on_files(tmp_path):
    out = tmp_path / "syn"
    r = vlanet("data", "synthetic", "--out", out, "--train-videos", 30, "--test-videos", 8, "--dim", 16)
    assert r.returncode == 0, r.stderr
    for f in ("features.h5", "train.jsonl", "test.jsonl", "word_vectors.npz", "config.yaml"):
        assert (out / f).is_file()
    results, outs = [], []
    # the same run reading HDF5 per batch, by 2 loader workers, and from a preloaded table:
    # the batches are equal, so the deterministic training gives identical numbers
    # a second test split (data.extra_tests; Charades-CD's test_ood) scored by the same checkpoint:
    # here a copy of the test split, so its numbers equal the test split's
    (out / "copy.jsonl").write_text((out / "test.jsonl").read_text())
    for i, extra in enumerate([[f"data.extra_tests=[{out / 'copy.jsonl'}]"], ["train.num_workers=2"],
                               ["data.preload=ram"]]):
        r = vlanet("train", out / "config.yaml", "model.hidden_dim=16", "train.epochs=1", "train.batch_size=16",
                   *extra, "--run-dir", tmp_path / f"run{i}", "--quiet", "--json")
        assert r.returncode == 0, r.stderr
        results.append(json.loads(r.stdout))
        outs.append(r.stderr)
    assert results[0]["test"]["mIoU"] >= 0
    assert results[0]["test"] == results[1]["test"] == results[2]["test"]
    copy = results[0]["extra_tests"]["copy"]
    assert copy["test"] == results[0]["test"] and copy["language_gain"] == results[0]["language_gain"]
    assert "Test split copy" in outs[0] and "Test split copy" not in outs[1]  # (stderr with --json)


@pytest.mark.parametrize("args,needle", [
    (["train", "train.epoch=1"], "unknown config key 'train.epoch'"),
    (["train", "model.stride_frames=0"], "model.stride_frames"),
    (["evaluate", "nope.jsonl", "nope2.jsonl"], "nope2.jsonl: file not found"),
    (["predict", "--checkpoint", "/nonexistent", "--out", "x.jsonl"], "no checkpoint here"),
    (["train", "--resume", "/nonexistent"], "not a run directory"),
    (["evaluate"], "the following arguments are required"),
    (["frobnicate"], "invalid choice"),
])
def test_bad_input_is_one_line_exit_2(args, needle, tmp_path):
    r = vlanet(*args, cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    assert needle in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert not (Path(tmp_path) / "x.jsonl").exists()


def test_val_contrast_picks_the_epoch_without_timestamps(tmp_path):
    """train.select_metric=val_contrast: the best checkpoint is the epoch with the highest mean
    c(V, Q+) - c(V, Q-) on validation, recorded beside the timestamp metrics."""
    run = tmp_path / "run"
    r = vlanet("train", "--run-dir", run, "--quiet", *TINY[:-2], "train.epochs=3", "eval.batch_size=16",
               "train.select_metric=val_contrast")
    assert r.returncode == 0, r.stderr
    lines = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    contrast = [x["val"]["val_contrast"] for x in lines]
    assert contrast == pytest.approx([x["val_pos_score"] - x["val_neg_score"] for x in lines])
    best = json.loads((run / "checkpoints" / "best" / "model.json").read_text())["meta"]["epoch"]
    assert best == 1 + contrast.index(max(contrast))
