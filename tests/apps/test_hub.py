"""Sharing a model: `vlanet export` and Predictor.from_pretrained of a hub repository id, read
from a local Hugging Face cache with HF_HUB_OFFLINE=1 (no network, nothing downloaded)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from vlanet.utils.errors import InputError

TINY = ["data.synthetic_train_videos=30", "data.synthetic_test_videos=8", "data.synthetic_dim=16",
        "model.hidden_dim=16", "train.batch_size=16", "train.epochs=1", "eval.batch_size=16"]


def vlanet(*args):
    return subprocess.run([sys.executable, "-m", "vlanet", *map(str, args)], capture_output=True, text=True)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    root = tmp_path_factory.mktemp("hub")
    assert vlanet("train", "--run-dir", root / "run", "--quiet", *TINY).returncode == 0
    r = vlanet("export", root / "run", "--out", root / "export")
    assert r.returncode == 0, r.stderr
    return root


def test_export_writes_a_checkpoint_with_a_model_card(exported):
    out = exported / "export"
    assert sorted(p.name for p in out.iterdir()) == ["README.md", "config.yaml", "model.json", "model.safetensors"]
    card = (out / "README.md").read_text()
    assert "library_name: vlanet" in card and "Language gain" in card and "sentences of other videos" in card
    again = vlanet("export", exported / "run", "--out", out)
    assert again.returncode == 2 and "already exists" in again.stderr


def test_from_pretrained_reads_a_repo_id_from_the_local_hub_cache(exported, tmp_path, monkeypatch):
    pytest.importorskip("huggingface_hub")
    import numpy as np

    from vlanet import Predictor

    # the cache layout huggingface_hub reads: models--OWNER--NAME/{refs/main, snapshots/<commit>/...}
    commit = "0" * 40
    snap = tmp_path / "cache" / "models--someone--tiny-vlanet" / "snapshots" / commit
    snap.mkdir(parents=True)
    for f in ("model.json", "model.safetensors", "config.yaml", "README.md"):
        (snap / f).write_bytes((exported / "export" / f).read_bytes())
    (tmp_path / "cache" / "models--someone--tiny-vlanet" / "refs").mkdir()
    (tmp_path / "cache" / "models--someone--tiny-vlanet" / "refs" / "main").write_text(commit)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    import huggingface_hub.constants as hc

    monkeypatch.setattr(hc, "HF_HUB_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(hc, "HF_HUB_OFFLINE", True)
    hub, local = Predictor.from_pretrained("someone/tiny-vlanet"), Predictor.from_pretrained(exported / "run")
    feats = np.random.default_rng(0).standard_normal((40, hub.feature_dim)).astype(np.float32)
    query = hub.words.words[5] + " " + hub.words.words[9]
    a = hub.predict(query, hub.encode_features(feats, 20.0))
    b = local.predict(query, local.encode_features(feats, 20.0))
    assert a["pred_relevant_windows"] == b["pred_relevant_windows"]
    with pytest.raises(InputError, match="not in the local hub cache"):
        Predictor.from_pretrained("someone/not-cached")
