"""The Python API: a trained checkpoint, one video, any number of sentences.

    from vlanet import Predictor
    p = Predictor.from_pretrained("runs/charades")          # a run dir or a checkpoint dir
    video = p.encode_video("clip.mp4")                       # or p.encode_features(array, duration_s=...)
    p.predict("person opens the door", video, topk=5)
    # -> {"query", "duration", "pred_relevant_windows": [[start_s, end_s, score], ...]}

An encoded video (its proposals, Eq. 2) is reused across queries.  Nothing here downloads:
``encode_video`` needs the checkpoint's backbone installed (see vlanet.apps.video).
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from vlanet.checkpoint import load_model
from vlanet.config import Config
from vlanet.data.annotations import Query
from vlanet.data.dataset import ProposalSpec
from vlanet.data.timing import TimeConvention
from vlanet.data.vocab import WordVectors, tokenize
from vlanet.model.encoders import VideoEncoding
from vlanet.predict import PairRanker, check_compatible, prediction_row
from vlanet.utils.errors import InputError


@dataclass
class EncodedVideo:
    """A video ready for queries: its Eq. (2) proposals and their windows in seconds."""

    duration: float
    windows: np.ndarray  # (K, L, 2) seconds
    encoding: VideoEncoding  # proposals (1, K, L, D) on the predictor's device
    n_rows: int
    source: str = "<features>"


class Predictor:
    def __init__(self, model: torch.nn.Module, cfg: Config, words: WordVectors, meta: dict[str, Any],
                 device: str | torch.device = "cpu"):
        self.model, self.cfg, self.words, self.meta = model.eval(), cfg, words, meta
        self.device = torch.device(device)
        t = meta.get("time") or {}
        self.time = TimeConvention(t.get("time_convention", cfg.data.time_convention if cfg.data.time_convention != "auto" else "fps"),
                                   float(t.get("fps", cfg.data.fps)), int(t.get("frames_per_row", cfg.data.frames_per_row)),
                                   float(t.get("seconds_per_row", cfg.data.seconds_per_row)))
        self.spec = ProposalSpec.from_config(cfg)

    @classmethod
    def from_pretrained(cls, path: str | Path, device: str | torch.device = "cpu", revision: str | None = None) -> Predictor:
        """Load a run directory (its best checkpoint), a checkpoint directory, or a Hugging Face
        hub repository ``owner/name`` written by ``vlanet export`` (fetched only when asked, see apps/hub.py)."""
        from vlanet.apps.hub import resolve

        model, cfg, words, meta = load_model(resolve(path, revision), device)
        return cls(model, cfg, words, meta, device)

    @property
    def feature_dim(self) -> int:
        return int(self.model.feature_dim)

    @property
    def backbone(self) -> str | None:
        """The feature extractor the checkpoint was trained on, when its features recorded one."""
        return self.meta.get("backbone")

    # -- videos ---------------------------------------------------------------------------------
    @torch.no_grad()
    def encode_features(self, feats: np.ndarray, duration_s: float | None = None, source: str = "<features>") -> EncodedVideo:
        """Encode feature rows (T, F) in the checkpoint's time convention.

        ``duration_s`` defaults to T rows x seconds per row (required for the 'uniform' convention).
        """
        x = np.asarray(feats, dtype=np.float32)
        if x.ndim != 2 or x.shape[0] == 0:
            raise InputError(f"{source}: features must be a non-empty (rows, dim) array, got shape {x.shape}")
        if x.shape[1] != self.feature_dim:
            raise InputError(f"{source}: features are {x.shape[1]}-d but the checkpoint expects {self.feature_dim}-d "
                             f"(extract them with the backbone it was trained on{': ' + self.backbone if self.backbone else ''})")
        if not np.isfinite(x).all():
            raise InputError(f"{source}: NaN or inf in feature row {int(np.argwhere(~np.isfinite(x))[0, 0])}")
        if duration_s is None:
            if self.time.kind == "uniform":
                raise InputError(f"{source}: duration_s is required (the checkpoint's features spread rows uniformly over the video)")
            duration_s = x.shape[0] * self.time.row_seconds(x.shape[0], 0.0)
        if not (isinstance(duration_s, (int, float)) and math.isfinite(duration_s) and duration_s > 0):
            raise InputError(f"{source}: duration_s must be a positive number, got {duration_s!r}")
        grid, mask = self.spec.grid(float(duration_s))
        dev = self.device
        enc = self.model.encode_video(
            torch.from_numpy(x)[None].to(dev), torch.ones(1, x.shape[0], dtype=torch.bool, device=dev),
            torch.from_numpy(self.time.to_rows(grid, x.shape[0], float(duration_s)).astype(np.float32))[None].to(dev), torch.from_numpy(mask)[None].to(dev))
        return EncodedVideo(float(duration_s), grid, enc, x.shape[0], source)

    def encode_video(self, path: str | Path, backbone: str | None = None, **extract: Any) -> EncodedVideo:
        """Decode a video file, extract features with the checkpoint's backbone, and encode them."""
        from vlanet.apps.video import extract_features

        name = backbone or self.backbone
        if name is None:
            raise InputError("this checkpoint does not record a backbone: pass backbone=... (see `vlanet features extract --help`)")
        if self.time.kind == "fps":  # by default, extract in the checkpoint's own convention
            extract.setdefault("fps", self.time.fps)
            extract.setdefault("frames_per_row", self.time.frames_per_row)
        default = inspect.signature(extract_features).parameters  # extraction's own defaults
        planned = TimeConvention("fps", float(extract.get("fps", default["fps"].default)),
                                 int(extract.get("frames_per_row", default["frames_per_row"].default)))
        check_compatible(self.meta.get("time"), planned.attrs(), None, self.feature_dim, str(path),
                         "pass fps=/frames_per_row= matching the training features")  # before decoding
        feats, info = extract_features(path, name, device=self.device, **extract)
        check_compatible(self.meta.get("time"), info["time"], feats.shape[1], self.feature_dim, str(path))
        return self.encode_features(feats, info["duration"], source=str(path))

    # -- queries --------------------------------------------------------------------------------
    @torch.no_grad()
    def predict(self, query: str, video: EncodedVideo, topk: int = 5, return_attention: bool = False) -> dict[str, Any]:
        """Ranked moments for one sentence: {"query", "duration", "pred_relevant_windows": [[s, e, score], ...],
        "unknown_words": [...]} (words not in the checkpoint's vocabulary, which the model never sees)."""
        ids, _ = self.words.encode(query)
        unknown = self.words.unknown(query)
        if not ids:
            raise InputError(f"query {query!r}: none of its words is in the checkpoint's vocabulary")
        dev = self.device
        q = self.model.encode_query(torch.tensor([ids], device=dev), torch.ones(1, len(ids), dtype=torch.bool, device=dev))
        zero = torch.zeros(1, dtype=torch.long, device=dev)
        out = self.model.score_pairs(video.encoding, q, zero, zero)
        wins, sc = PairRanker(video.encoding, q, out, self.cfg.eval.complete_ranking,
                              order=self.cfg.eval.complete_order).windows(0, video.windows, video.duration)
        row = prediction_row(Query(None, video.source, query, video.duration), wins, sc, self.cfg.eval.nms, topk)
        result: dict[str, Any] = {"query": query, "duration": video.duration,
                                  "pred_relevant_windows": row["pred_relevant_windows"], "unknown_words": unknown}
        if return_attention:
            result["attention"] = self.attention(out, q, video, query)
        return result

    def explain(self, qid: Any, split: str = "test") -> tuple[dict[str, Any], list[list[float]]]:
        """One query of the checkpoint's own dataset, predicted with its attention (what Figs. 5-6
        draw): the prediction (with ``vid`` and ``attention``) and the query's ground truth."""
        from vlanet.data.loading import load_splits

        splits = load_splits(self.cfg, need=(split,) if split == "test" else ("train", "val"), words=self.words)
        ds = getattr(splits, split)
        if ds is None:
            raise InputError(f"the checkpoint's dataset has no '{split}' split")
        match = [q for q in ds.queries if str(q.qid) == str(qid)]
        if not match:
            raise InputError(f"no query with qid {qid!r} in the {split} split (e.g. {ds.queries[0].qid!r})")
        q = match[0]
        video = self.encode_features(ds.store.get(q.vid), q.duration, source=q.vid)
        result = self.predict(q.query, video, topk=5, return_attention=True)
        result["vid"] = q.vid
        return result, q.windows

    def attention(self, out, q, video: EncodedVideo, query: str) -> dict[str, Any]:
        """What Figs. 5-6 need: the words, the attended elements' windows and weights, and the
        word x element map (outer product of V and Q after CCA, before pooling)."""
        words = [t for t in tokenize(query) if t in self.words.index]
        n_scales = video.windows.shape[1]
        if out.cca is None:  # CNM, CPL: Gaussian proposals weighted by their scores; no word x element map
            spans = out.element_span[0].float().cpu().numpy() * video.duration
            weights = torch.softmax(out.element_scores[0].float(), 0).cpu().numpy()
            return {"words": words, "element_windows": spans.tolist(), "element_weights": weights.tolist(),
                    "map": None, "scales": n_scales}
        win_idx = out.element_window[0].cpu().numpy()
        mask = out.element_mask[0].cpu().numpy()
        flat = video.windows.reshape(-1, 2)
        weights = out.cca.q2v_weights[-1][0] if out.cca.q2v_weights else out.element_scores[0]
        amap = (out.cca.v[0] @ out.cca.q[0].t()).float().cpu().numpy()  # (K, M)
        return {
            "words": words,
            "element_windows": flat[win_idx[mask]].tolist(),
            "element_weights": weights.float().cpu().numpy()[mask].tolist(),
            "map": amap[mask][:, : len(words)].tolist(),
            "scales": n_scales,
        }
