"""Build the train / val / test datasets a config describes (synthetic or files on disk)."""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vlanet.config import Config
from vlanet.config.paths import test_splits
from vlanet.data.annotations import Query, read_ground_truth
from vlanet.data.dataset import MomentDataset, ProposalSpec
from vlanet.data.features import FeatureStore, ResidentStore, open_store
from vlanet.data.simulate import check_version
from vlanet.data.synthetic import SyntheticSpec, generate
from vlanet.data.timing import TimeConvention, convention_from
from vlanet.data.vocab import WordVectors, load_word_vectors, tokenize
from vlanet.utils.errors import InputError


@dataclass
class Splits:
    train: MomentDataset | None
    val: MomentDataset | None
    test: MomentDataset | None
    words: WordVectors
    time: TimeConvention
    feature_dim: int
    feature_attrs: dict = field(default_factory=dict)  # the store's attributes (backbone, ...)
    extra: dict[str, MomentDataset] = field(default_factory=dict)  # data.extra_tests, by name


def carve_validation(queries: list[Query], fraction: float, seed: int) -> tuple[list[Query], list[Query]]:
    """Split train queries by *video* (no video in both), deterministic in the seed."""
    if fraction <= 0:
        return queries, []
    vids = sorted({q.vid for q in queries})
    rng = np.random.default_rng(seed + 7919)
    n_val = max(1, int(round(len(vids) * fraction)))
    val_vids = set(rng.permutation(vids)[:n_val].tolist())
    return [q for q in queries if q.vid not in val_vids], [q for q in queries if q.vid in val_vids]


def video_subset(queries: list[Query], fraction: float) -> list[Query]:
    """The queries of a ``fraction`` of the videos, chosen by a hash of the video id: the same
    videos for every run, seed and model, and a video is in or out whatever split lists it."""
    if fraction >= 1.0:
        return queries
    return [q for q in queries if zlib.crc32(q.vid.encode()) / 2**32 < fraction]


def synthetic_spec(cfg: Config) -> SyntheticSpec:
    d = cfg.data
    return SyntheticSpec(seed=d.synthetic_seed, n_train_videos=d.synthetic_train_videos,
                         n_test_videos=d.synthetic_test_videos, dim=d.synthetic_dim)


def load_splits(cfg: Config, need: tuple[str, ...] = ("train", "val", "test"),
                words: WordVectors | None = None, device: Any = None) -> Splits:
    """Datasets for the requested splits.  ``words`` (from a checkpoint) overrides the config's
    table; ``device`` is where ``data.preload=device`` puts the features (default: CPU)."""
    spec = ProposalSpec.from_config(cfg)
    raw: dict[str, list[Query]] = {}
    if cfg.data.source == "synthetic":
        syn = generate(synthetic_spec(cfg))
        store: FeatureStore = syn.store
        time = syn.time
        table = words or syn.words
        raw["train"], raw["test"] = syn.splits["train"], syn.splits["test"]
    else:
        if not cfg.data.features:
            raise InputError("config: field 'data.features' is required when data.source=files")
        store = open_store(cfg.data.features)
        check_version(store.attrs, str(cfg.data.features))
        time = convention_from(cfg.data, store.attrs)
        for split in ("train", "val", "test"):
            path = getattr(cfg.data, split)
            if path and (split in need or (split == "train" and "val" in need and not cfg.data.val)):
                raw[split] = read_ground_truth(path)
        if "test" in need:
            extra = {name: path for name, path in test_splits(cfg).items() if name != "test"}
            raw.update({name: read_ground_truth(path) for name, path in extra.items()})
        if words is None:
            if not cfg.data.word_vectors:
                raise InputError("config: field 'data.word_vectors' is required when data.source=files")
            vocab = {t for qs in raw.values() for q in qs for t in tokenize(q.query)}
            table = load_word_vectors(cfg.data.word_vectors, vocab, cfg.data.word_dim)
        else:
            table = words
    raw = {split: video_subset(qs, cfg.data.video_fraction) for split, qs in raw.items()}
    longest = max((q.duration for qs in raw.values() for q in qs), default=0.0)
    if raw and min(spec.windows_s) > max(longest, spec.span_s) + 1e-6:
        raise InputError(f"config: field 'model.window_frames': the smallest window ({min(spec.windows_s):g} s) is "
                         f"longer than every video (longest {longest:g} s)")
    if "val" in need and "val" not in raw and "train" in raw:
        raw["train"], raw["val"] = carve_validation(raw["train"], cfg.data.val_fraction, cfg.train.seed)

    if cfg.data.preload != "none" and cfg.data.source == "files":
        vids = [q.vid for split, qs in raw.items() if split in need or split not in ("train", "val") for q in qs]
        store = ResidentStore(store, vids, device if cfg.data.preload == "device" and device is not None else "cpu")

    def make(split: str) -> MomentDataset | None:
        if split not in need or not raw.get(split):
            return None
        return MomentDataset(raw[split], store, table, time, spec, name=split)

    extra = {name: MomentDataset(qs, store, table, time, spec, name=name)
             for name, qs in raw.items() if name not in ("train", "val", "test")}
    return Splits(make("train"), make("val"), make("test"), table, time, store.dim, dict(store.attrs), extra)
