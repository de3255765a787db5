"""Checkpoints: ``model.safetensors`` (weights, incl. the frozen word vectors) + ``model.json``.

The JSON holds the resolved config, the feature size and the vocabulary, which is everything
needed to rebuild the model: no pickle anywhere.  Training state for ``--resume`` lives beside it
in ``train_state.safetensors`` + ``train_state.json``.  Every file is written atomically.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from vlanet.config import OWN_SECTION, Config, config_from_dict
from vlanet.data.vocab import WordVectors
from vlanet.utils import faults
from vlanet.utils.errors import InputError
from vlanet.utils.io import atomic_path, atomic_write_text
from vlanet.utils.readers import read_json, require

FORMAT = "vlanet-checkpoint-1"


def build_model(cfg: Config, feature_dim: int, words: WordVectors) -> torch.nn.Module:
    from vlanet.model import CNM, CPL, TGA, VLANet

    vectors = torch.from_numpy(words.vectors)
    if cfg.model.name in OWN_SECTION:  # configured by a section of their own
        cls = CNM if cfg.model.name == "cnm" else CPL
        return cls(getattr(cfg, cfg.model.name), feature_dim, vectors, words.words)
    return (TGA if cfg.model.name == "tga" else VLANet)(cfg.model, feature_dim, vectors)


def save_model(dir_: str | Path, model: torch.nn.Module, cfg: Config, feature_dim: int,
               words: WordVectors, meta: dict[str, Any] | None = None) -> None:
    d = Path(dir_)
    d.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    with atomic_path(d / "model.safetensors") as tmp:
        save_file(state, str(tmp))
    info = {"format": FORMAT, "config": cfg.to_dict(), "feature_dim": feature_dim,
            "vocab": words.words, "meta": meta or {}}
    atomic_write_text(d / "model.json", json.dumps(info))


def resolve_checkpoint(path: str | Path) -> Path:
    """A run dir (uses checkpoints/best), a checkpoint dir, or a model.safetensors file."""
    p = Path(path)
    for cand in (p / "checkpoints" / "best", p, p.parent if p.suffix == ".safetensors" else None):
        if cand is not None and (cand / "model.json").is_file() and (cand / "model.safetensors").is_file():
            return cand
    raise InputError(f"{p}: no checkpoint here (expected model.json + model.safetensors, or a run dir with checkpoints/best)")


def load_model(path: str | Path, device: str | torch.device = "cpu") -> tuple[torch.nn.Module, Config, WordVectors, dict[str, Any]]:
    d = resolve_checkpoint(path)
    info = read_json(d / "model.json")
    if not isinstance(info, dict) or info.get("format") != FORMAT:
        raise InputError(f"{d / 'model.json'}: not a vlanet checkpoint (field 'format' is not {FORMAT!r})")
    require(info, str(d / "model.json"), config=dict, vocab=list, feature_dim=int)
    cfg = config_from_dict(info["config"], str(d / "model.json"))
    try:
        state = load_file(str(d / "model.safetensors"))
    except (SafetensorError, OSError, ValueError) as e:
        raise InputError(f"{d / 'model.safetensors'}: not a readable safetensors file ({e})") from None
    wv = state.get("query_encoder.word_vectors", state.get("word_vectors"))  # VLANet/TGA, CNM/CPL
    if wv is None or wv.shape[0] != len(info["vocab"]):
        raise InputError(f"{d / 'model.safetensors'}: word vectors missing or not matching the vocabulary in model.json")
    words = WordVectors(list(info["vocab"]), wv.numpy())
    model = build_model(cfg, int(info["feature_dim"]), words)
    want = model.state_dict()
    missing = sorted(set(want) - set(state))
    unexpected = sorted(set(state) - set(want))
    if missing or unexpected:
        raise InputError(f"{d / 'model.safetensors'}: weights do not match the architecture in model.json "
                         f"(missing {missing[:3]}, unexpected {unexpected[:3]})")
    for k, v in want.items():
        if v.shape != state[k].shape:
            raise InputError(f"{d / 'model.safetensors'}: tensor '{k}' has shape {tuple(state[k].shape)}, "
                             f"the architecture in model.json expects {tuple(v.shape)}")
    model.load_state_dict(state)
    return model.to(device).eval(), cfg, words, info.get("meta", {})


def save_train_state(dir_: str | Path, optimizer: torch.optim.Optimizer, state: dict[str, Any]) -> None:
    """Optimizer tensors -> safetensors, everything else (epoch, best, history) -> JSON."""
    d = Path(dir_)
    opt = optimizer.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, Any] = {}
    for pid, st in opt["state"].items():
        for name, val in st.items():
            if isinstance(val, torch.Tensor):
                tensors[f"{pid}.{name}"] = val.detach().cpu().contiguous()
            else:
                scalars[f"{pid}.{name}"] = val
    with atomic_path(d / "train_state.safetensors") as tmp:
        save_file(tensors or {"_empty": torch.zeros(1)}, str(tmp))
    atomic_write_text(d / "train_state.json", json.dumps(
        {"param_groups": opt["param_groups"], "scalars": scalars, **state}))


def load_train_state(dir_: str | Path, optimizer: torch.optim.Optimizer) -> dict[str, Any]:
    d = Path(dir_)
    meta = require(read_json(d / "train_state.json"), str(d / "train_state.json"), epoch=int, best=(int, float),
                   history=list, scalars=dict, param_groups=list)
    try:
        tensors = load_file(str(d / "train_state.safetensors"))
    except (OSError, SafetensorError) as e:
        raise InputError(f"{d / 'train_state.safetensors'}: cannot resume, training state unreadable ({e})") from None
    state: dict[int, dict[str, Any]] = {}
    try:
        for key, val in [*tensors.items(), *meta.pop("scalars").items()]:
            if key == "_empty":
                continue
            pid, name = key.split(".", 1)
            state.setdefault(int(pid), {})[name] = val
        optimizer.load_state_dict({"state": state, "param_groups": meta.pop("param_groups")})
    except (ValueError, KeyError, TypeError) as e:
        raise InputError(f"{d}: the optimizer state does not fit this model ({type(e).__name__}: {e})") from None
    return meta


def commit_dir(tmp: Path, final: Path) -> None:
    """Replace checkpoint directory ``final`` (``checkpoints/best`` or ``last``) by ``tmp`` so
    that a crash at any point leaves one of them complete (``recover_dir`` picks it)."""
    old = final.with_name(final.name + ".old")
    if final.exists():
        shutil.rmtree(old, ignore_errors=True)
        final.rename(old)
        faults.point(f"commit.{final.name}")
    tmp.rename(final)
    shutil.rmtree(old, ignore_errors=True)


def recover_dir(final: Path) -> None:
    """After a crash inside commit_dir: the complete copy wins."""
    old, tmp = final.with_name(final.name + ".old"), final.with_name(final.name + ".tmp")
    if not final.exists():
        if (tmp / "train_state.json").exists() or ((tmp / "model.json").exists() and final.name == "best"):
            tmp.rename(final)
        elif old.exists():
            old.rename(final)
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.rmtree(old, ignore_errors=True)
