"""Share a trained model: ``vlanet export RUN --out DIR`` writes a folder that is a checkpoint
and a Hugging Face model repository at once (model.json, model.safetensors, config.yaml and a
README.md model card with the run's numbers and controls); ``Predictor.from_pretrained`` takes a
local folder or a hub repository id ``owner/name``.

Nothing is downloaded at import or by default: a repository id is fetched only when it is asked
for, with ``huggingface_hub`` (the ``hub`` extra), and with ``HF_HUB_OFFLINE=1`` only its local
cache is read.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

from vlanet.checkpoint import resolve_checkpoint
from vlanet.config import MODEL_LABELS
from vlanet.utils.errors import InputError
from vlanet.utils.io import atomic_write_text

REPO_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+")
FILES = ("model.json", "model.safetensors")


def resolve(name: str | Path, revision: str | None = None) -> Path:
    """A local checkpoint or run directory as it is; otherwise a hub repository id, fetched (or
    read from the local cache) into a folder holding model.json and model.safetensors."""
    p = Path(name)
    if p.exists() or not REPO_ID.fullmatch(str(name)):
        return resolve_checkpoint(p)
    try:
        from huggingface_hub import snapshot_download
        from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError
    except ImportError:
        raise InputError(f"{name}: not a local folder; to fetch it from the Hugging Face hub install the hub "
                         "extra: pip install 'vlanet[hub]'") from None
    try:
        folder = snapshot_download(repo_id=str(name), revision=revision, allow_patterns=[*FILES, "config.yaml", "README.md"])
    except LocalEntryNotFoundError:
        raise InputError(f"{name}: not in the local hub cache and the hub cannot be reached "
                         "(HF_HUB_OFFLINE is set or there is no network)") from None
    except (HfHubHTTPError, ValueError, OSError) as e:
        raise InputError(f"{name}: cannot fetch it from the hub ({type(e).__name__}: {e})") from None
    return resolve_checkpoint(folder)


def export(run: str | Path, out: str | Path) -> dict[str, Any]:
    """Write the run's best checkpoint as a shareable folder ``out`` (which must not exist yet)."""
    src = resolve_checkpoint(run)
    out = Path(out)
    if out.exists():
        raise InputError(f"{out}: already exists; export writes a new folder (choose another --out)")
    info = json.loads((src / "model.json").read_text(encoding="utf-8"))
    result = _result_of(Path(run))
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        for f in FILES:
            shutil.copy2(src / f, tmp / f)
        from vlanet.config import config_from_dict, dump_config

        atomic_write_text(tmp / "config.yaml", dump_config(config_from_dict(info["config"], str(src / "model.json"))))
        atomic_write_text(tmp / "README.md", model_card(info, result))
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return {"out": str(out), "files": sorted(p.name for p in out.iterdir()), "has_results": result is not None}


def _result_of(run: Path) -> dict[str, Any] | None:
    if not (run / "result.json").is_file():
        return None
    from vlanet.experiments.runs import read_result

    return read_result(run / "result.json")


def model_card(info: dict[str, Any], result: dict[str, Any] | None) -> str:
    """README.md of an exported model: what it is, how to use it, its numbers with the controls."""
    cfg = info["config"]
    name = MODEL_LABELS.get(cfg["model"]["name"], cfg["model"]["name"])
    lines = ["---", "library_name: vlanet", "tags: [video-moment-retrieval, weakly-supervised, vlanet]", "---", "",
             f"# {name} checkpoint (vlanet)", "",
             f"A {name} model trained with the vlanet package on "
             f"`{Path(cfg['data'].get('train') or 'the embedded synthetic dataset').name}`: {info['feature_dim']}-d "
             f"features, hidden size {cfg['model']['hidden_dim']}, {len(info['vocab']) - 1} words.", "",
             "```python", "from vlanet import Predictor", "p = Predictor.from_pretrained(\"OWNER/NAME\")  # or this folder",
             "video = p.encode_video(\"clip.mp4\")", "p.predict(\"person opens the door\", video)", "```", ""]
    if result is not None and result.get("test"):
        keys = [k for k in ("R@1,IoU=0.5", "R@1,IoU=0.7", "R@5,IoU=0.5", "mIoU", "R@1", "R@5") if k in result["test"]]
        lines += ["## Test numbers, with their controls", "",
                  "| | " + " | ".join(keys) + " |", "|---|" + "---:|" * len(keys)]
        for label, m in (("random (same proposals)", result.get("random")), (name, result["test"]),
                         (f"{name}, sentences of other videos", result.get("test_shuffled"))):
            if m:
                lines.append(f"| {label} | " + " | ".join(f"{m[k]:.2f}" for k in keys) + " |")
        if result.get("language_gain") is not None:
            lines += ["", f"Language gain (true minus shuffled sentences): {result['language_gain']:+.2f}."]
        lines.append("")
    lines += ["## Citation", "", "Ma et al., VLANet: Video-Language Alignment Network for Weakly-Supervised Video "
              "Moment Retrieval, ECCV 2020.", ""]
    return "\n".join(lines)
