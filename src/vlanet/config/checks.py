"""What a valid config is: the allowed values of each choice field, the fields that must be
positive or non-negative, and ``validate``, which refuses impossible values with one line naming
the field (and fills the few settings another one implies)."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from vlanet.config.paths import test_splits
from vlanet.utils.errors import InputError

# train.select_metric that picks the epoch without timestamps: mean c(V, Q+) - c(V, Q-) over the
# validation pairs, each query against one of another video (predict.predict_dataset's negatives)
VAL_CONTRAST = "val_contrast"

CHOICES: dict[str, tuple[str, ...]] = {
    "data.source": ("synthetic", "files"),
    "data.time_convention": ("auto", "fps", "uniform", "seconds"),
    "data.preload": ("none", "ram", "device"),
    "model.name": ("vlanet", "tga", "cnm", "cpl"),
    "model.window_overflow": ("clip", "drop"),
    "model.attention_scale": ("none", "count", "residual"),
    "model.vla_reduce": ("sum", "mean"),
    "model.vcomp_pool": ("sum", "mean"),
    "model.rank_by": ("q2v_last", "q2v_mean", "vla"),
    "model.cca_impl": ("fused", "literal"),
    "model.selection": ("argmax", "straight-through"),
    "model.score_weights": ("own", "last_q2v"),
    "eval.complete_order": ("groups", "rounds"),
    "train.negatives": ("both", "query", "video"),
    "train.negative_reduce": ("mean", "max"),
    "train.negative_vcomp": ("recomputed", "reused"),
    "train.device": ("cpu", "cuda", "auto"),
    "train.autocast": ("none", "bf16"),
    "eval.protocol": ("charades", "didemo", "anet"),
}

POSITIVE = {
    "model.hidden_dim", "model.stride_frames", "train.epochs", "train.batch_size", "train.lr", "train.negative_groups",
    "eval.topk", "eval.batch_size", "data.fps", "data.frames_per_row", "model.vla_temperature",
    "data.synthetic_train_videos", "data.synthetic_test_videos", "data.synthetic_dim", "model.selection_temperature",
    *(f"{m}.{f}" for m in ("cnm", "cpl") for f in ("hidden_dim", "heads", "layers", "num_clips", "recon_stride",
                                                  "mask_every")),
    "cnm.alpha", "cnm.max_width", "cpl.num_props", "cpl.sigma",
}
NON_NEGATIVE = {
    "model.cascade_steps", "train.lr_halve_every", "train.weight_decay", "train.grad_clip",
    "train.margin", "train.num_negatives", "train.num_workers", "train.threads", "train.bucket_batches", "data.seconds_per_row", "data.word_dim",
    "model.proposal_span_s",
    "model.dropout", "train.selection_weight", "train.seed", "data.synthetic_seed",
    *(f"{m}.{f}" for m in ("cnm", "cpl") for f in ("content_weight", "label_smoothing")),
    "cnm.beta_1", "cnm.beta_2", "cpl.gamma", "cpl.margin_1", "cpl.margin_2", "cpl.lambda_div", "cpl.alpha_1", "cpl.alpha_2",
}


def validate(cfg: Any, source: str = "config") -> Any:
    """Check choices and ranges; raise InputError naming the first bad field."""
    _check_values(cfg, source)
    _check_combinations(cfg, source)
    _check_eval(cfg, source)
    return cfg


def _check_values(cfg: Any, source: str) -> None:
    """Each field on its own: choices, finite numbers, ranges."""
    for key, allowed in CHOICES.items():
        sec, name = key.split(".")
        v = getattr(getattr(cfg, sec), name)
        if v not in allowed:
            raise InputError(f"{source}: field '{key}' must be one of {', '.join(allowed)}; got {v!r}")
    for sec_name in (f.name for f in dataclasses.fields(cfg)):  # every number is finite
        for f in dataclasses.fields(getattr(cfg, sec_name)):
            v = getattr(getattr(cfg, sec_name), f.name)
            for x in (v if isinstance(v, list) else [v]):
                if isinstance(x, float) and not math.isfinite(x):
                    raise InputError(f"{source}: field '{sec_name}.{f.name}' must be a finite number; got {x!r}")
                if isinstance(x, int) and not isinstance(x, bool) and abs(x) >= 2**31:
                    raise InputError(f"{source}: field '{sec_name}.{f.name}' is out of range; got {x:.3g}")
    for key, v in (("model.dropout", cfg.model.dropout), ("cnm.dropout", cfg.cnm.dropout), ("cpl.dropout", cfg.cpl.dropout),
                   ("cnm.label_smoothing", cfg.cnm.label_smoothing), ("cpl.label_smoothing", cfg.cpl.label_smoothing)):
        if not 0.0 <= v < 1.0:
            raise InputError(f"{source}: field '{key}' must be in [0, 1); got {v}")
    for sec in ("cnm", "cpl"):
        rc = getattr(cfg, sec)
        if rc.hidden_dim % rc.heads:
            raise InputError(f"{source}: field '{sec}.heads' must divide {sec}.hidden_dim ({rc.hidden_dim}); got {rc.heads}")
        if rc.num_clips < 2:
            raise InputError(f"{source}: field '{sec}.num_clips' must be at least 2; got {rc.num_clips}")
    for key in POSITIVE | NON_NEGATIVE:
        sec, name = key.split(".")
        v = getattr(getattr(cfg, sec), name)
        if key in POSITIVE and not v > 0:
            raise InputError(f"{source}: field '{key}' must be > 0; got {v!r}")
        if key in NON_NEGATIVE and v < 0:
            raise InputError(f"{source}: field '{key}' must be >= 0; got {v!r}")


def _check_combinations(cfg: Any, source: str) -> None:
    """Fields read together: the proposal grid, the test splits, the data fractions, the models."""
    if not cfg.model.window_frames or any(w <= 0 for w in cfg.model.window_frames):
        raise InputError(f"{source}: field 'model.window_frames' must be a non-empty list of positive frame counts")
    test_splits(cfg)  # distinct names for the test splits
    if not 0.0 < cfg.data.video_fraction <= 1.0:
        raise InputError(f"{source}: field 'data.video_fraction' must be in (0, 1]; got {cfg.data.video_fraction}")
    if not 0.0 <= cfg.data.val_fraction < 1.0:
        raise InputError(f"{source}: field 'data.val_fraction' must be in [0, 1); got {cfg.data.val_fraction}")
    if cfg.data.time_convention == "seconds" and cfg.data.seconds_per_row <= 0:
        raise InputError(f"{source}: field 'data.seconds_per_row' must be > 0 when data.time_convention=seconds")
    if cfg.model.name != "vlanet":  # only VLANet has an Eq. (3) score to train: the others record no selection term
        cfg.train.selection_weight = 0.0
    if cfg.model.name != "vlanet" and cfg.train.negative_vcomp != "recomputed":
        raise InputError(f"{source}: field 'train.negative_vcomp' must be 'recomputed' for model.name={cfg.model.name} "
                         "(only VLANet has a v_comp of Eq. 13 to reuse)")
    if not cfg.model.cross_attention and cfg.model.rank_by != "vla":
        # Without cross-attention there are no Q2V weights; rank surrogates by E(s_k, Q) instead.
        cfg.model.rank_by = "vla"


def _check_eval(cfg: Any, source: str) -> None:
    """The evaluation's thresholds and the metric that picks the best epoch."""
    if any(not 0 < t <= 1 for t in cfg.eval.iou_thresholds):
        raise InputError(f"{source}: field 'eval.iou_thresholds' must lie in (0, 1]")
    if any(n <= 0 for n in cfg.eval.recall_at):
        raise InputError(f"{source}: field 'eval.recall_at' must be positive integers")
    if cfg.eval.protocol == "didemo":
        known = ["R@1", "R@5", "mIoU"]
    else:
        known = [f"R@{n},IoU={m:g}" for n in cfg.eval.recall_at for m in cfg.eval.iou_thresholds] + ["mIoU"]
    known.append(VAL_CONTRAST)  # the one metric that reads no validation timestamp
    if cfg.train.select_metric not in known:
        raise InputError(f"{source}: field 'train.select_metric' must be one of {', '.join(known)} "
                         f"for eval.protocol={cfg.eval.protocol}; got {cfg.train.select_metric!r}")
