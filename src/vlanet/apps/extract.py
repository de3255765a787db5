"""``vlanet features extract``: many videos -> one HDF5 feature file, resumable and shardable.

Each video's rows are first written atomically to ``<out>.parts/<video id>.npy`` with a JSON
sidecar of its settings (backbone, fps, frames per row) and duration.  A rerun skips every
video whose part (or whose dataset in an existing ``<out>`` with the same settings) is already
done, so an interrupted extraction resumes where it stopped.  When all parts exist, they are
assembled into ``<out>`` (temporary file, then rename) with the time convention and backbone in
its attributes and the duration on each dataset, and the parts are removed.

Under ``torchrun`` each rank extracts every WORLD_SIZE-th video (sorted order); rank 0 waits
for the others and assembles.  The video id is the file name without its suffix.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np

from vlanet.utils.errors import InputError
from vlanet.utils.io import atomic_path, atomic_write, atomic_write_text


def list_videos(inputs: list[str]) -> dict[str, Path]:
    from vlanet.apps.video import VIDEO_SUFFIXES

    found: dict[str, Path] = {}
    for item in inputs:
        p = Path(item)
        if p.is_dir():
            files = sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in VIDEO_SUFFIXES)
        elif p.is_file():
            files = [p]
        else:
            raise InputError(f"{p}: video file or folder not found")
        for f in files:
            if f.stem in found and found[f.stem] != f:
                raise InputError(f"{f}: video id '{f.stem}' is also {found[f.stem]} (ids are file names without suffix)")
            found[f.stem] = f
    if not found:
        raise InputError(f"no video files in {', '.join(inputs)} (suffixes: .mp4 .mkv .webm .avi .mov ...)")
    return found


def _settings(backbone: str, fps: float, frames_per_row: int) -> dict[str, Any]:
    return {"backbone": backbone, "fps": float(fps), "frames_per_row": int(frames_per_row)}


def _existing(out: Path, settings: dict[str, Any]) -> set[str]:
    """Video ids already in ``out`` extracted with the same settings."""
    if not out.is_file():
        return set()
    import h5py

    try:
        with h5py.File(out, "r") as f:
            same = (f.attrs.get("backbone") == settings["backbone"] and float(f.attrs.get("fps", -1)) == settings["fps"]
                    and int(f.attrs.get("frames_per_row", -1)) == settings["frames_per_row"])
            return set(f.keys()) if same else set()
    except OSError:
        return set()


def extract_to_hdf5(inputs: list[str], out: str | Path, backbone: str, fps: float = 2.0, frames_per_row: int = 1,
                    batch_size: int = 32, device: str = "cpu", weights: str | None = None,
                    progress: bool = True) -> dict[str, Any]:
    out = Path(out)
    videos = list_videos(inputs)
    settings = _settings(backbone, fps, frames_per_row)
    rank, world = int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))
    parts = out.with_name(out.name + ".parts")
    try:
        return _extract(videos, out, parts, settings, backbone, fps, frames_per_row, batch_size, device, weights,
                        progress, rank, world)
    finally:  # an extraction that wrote nothing leaves nothing behind
        if parts.is_dir() and not any(parts.iterdir()):
            parts.rmdir()


def _extract(videos, out, parts, settings, backbone, fps, frames_per_row, batch_size, device, weights, progress,
             rank, world) -> dict[str, Any]:
    import torch

    from vlanet.apps.video import Backbone, extract_features

    done_in_out = _existing(out, settings)
    net = None
    extracted = skipped = 0
    for n, vid in enumerate(sorted(videos)):
        if n % world != rank:
            continue
        meta_file = parts / f"{vid}.json"
        if vid in done_in_out or (meta_file.is_file() and json.loads(meta_file.read_text())["settings"] == settings):
            skipped += 1
            continue
        parts.mkdir(parents=True, exist_ok=True)
        if net is None:
            dev = torch.device(device)
            if dev.type == "cuda" and world > 1:
                dev = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
            net = Backbone(backbone, weights, dev)
        feats, info = extract_features(videos[vid], net, fps=fps, frames_per_row=frames_per_row,
                                       batch_size=batch_size, progress=progress)

        def write(tmp: Path, feats=feats) -> None:
            with open(tmp, "wb") as f:
                np.save(f, feats)

        atomic_write(parts / f"{vid}.npy", write)
        atomic_write_text(meta_file, json.dumps({"settings": settings, "duration": info["duration"],
                                                 "frames": info["frames"], "source": str(videos[vid])}))
        extracted += 1
    result = {"rank": rank, "videos": len(videos), "extracted": extracted, "skipped": skipped,
              "dim": net.dim if net else None}
    if world > 1:  # wait for the other ranks' parts (a file barrier: no process group needed)
        parts.mkdir(parents=True, exist_ok=True)
        (parts / f".rank{rank}.done").write_text("1")
        if rank != 0:
            return result
        while not all((parts / f".rank{r}.done").exists() for r in range(world)):
            time.sleep(0.5)
    result.update(_assemble(out, parts, sorted(videos), settings, done_in_out))
    return result


def _assemble(out: Path, parts: Path, vids: list[str], settings: dict[str, Any], in_out: set[str]) -> dict[str, Any]:
    import h5py

    from vlanet.data.timing import TimeConvention

    time_conv = TimeConvention("fps", settings["fps"], settings["frames_per_row"])
    dim = None
    with atomic_path(out) as tmp:
        with h5py.File(tmp, "w") as f:
            for k, v in time_conv.attrs().items():
                f.attrs[k] = v
            f.attrs["backbone"] = settings["backbone"]
            old = h5py.File(out, "r") if in_out else None
            try:
                for vid in vids:
                    if vid in in_out and not (parts / f"{vid}.npy").exists():
                        ds = f.create_dataset(vid, data=old[vid][()])
                        ds.attrs.update(dict(old[vid].attrs))
                    else:
                        meta = json.loads((parts / f"{vid}.json").read_text())
                        ds = f.create_dataset(vid, data=np.load(parts / f"{vid}.npy", allow_pickle=False))
                        ds.attrs["duration"] = meta["duration"]
                    dim = ds.shape[1]
            finally:
                if old is not None:
                    old.close()
    shutil.rmtree(parts, ignore_errors=True)
    return {"dim": dim}
