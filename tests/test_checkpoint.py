import json

import numpy as np
import pytest
import torch

from vlanet.checkpoint import build_model, load_model, save_model
from vlanet.config import load_config
from vlanet.data.vocab import WordVectors
from vlanet.utils.errors import InputError


@pytest.fixture
def saved(tmp_path):
    cfg = load_config(None, ["model.hidden_dim=8"])
    words = WordVectors(["<PAD>", "a", "b"], np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32))
    model = build_model(cfg, 6, words)
    save_model(tmp_path / "ck", model, cfg, 6, words)
    return tmp_path / "ck", model


def test_roundtrip_rebuilds_identical_model(saved):
    path, model = saved
    loaded, cfg, words, _ = load_model(path)
    assert cfg.model.hidden_dim == 8 and words.words == ["<PAD>", "a", "b"]
    for (k, v), (k2, v2) in zip(model.state_dict().items(), loaded.state_dict().items()):
        assert k == k2 and torch.equal(v, v2)


def test_corrupt_weights_are_an_input_error(saved):
    path, _ = saved
    (path / "model.safetensors").write_bytes(b"\x80\x04garbage-pickle")
    with pytest.raises(InputError, match="not a readable safetensors"):
        load_model(path)


def test_wrong_architecture_is_an_input_error(saved):
    path, _ = saved
    info = json.loads((path / "model.json").read_text())
    info["config"]["model"]["hidden_dim"] = 16
    (path / "model.json").write_text(json.dumps(info))
    with pytest.raises(InputError, match="shape|match"):
        load_model(path)
