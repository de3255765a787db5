"""The controls of a dataset config, from one place: random, prior, the blind probes and, on a
simulated bed, the oracles.  ``vlanet data calibrate CONFIG`` prints them; ``vlanet baseline``
and ``vlanet experiment`` take their blind rows from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vlanet.config import Config
from vlanet.config.paths import split_name, test_splits
from vlanet.data.annotations import Query, read_ground_truth
from vlanet.data.dataset import ProposalSpec
from vlanet.data.features import FeatureStore, open_store
from vlanet.data.loading import video_subset
from vlanet.data.timing import TimeConvention, convention_from
from vlanet.eval import probes
from vlanet.eval.baselines import didemo_baseline, grid_baseline, position_prior
from vlanet.eval.evaluate import evaluate_rows, model_protocol
from vlanet.utils.errors import InputError

GRID_KINDS = ("random", "prior", "oracle")


@dataclass
class Bed:
    train: list[Query]
    test: list[Query]  # the split the controls are measured on
    store: FeatureStore
    time: TimeConvention
    simulator: Any  # vlanet.data.simulate.Simulator, or None for real features


def load_bed(cfg: Config, split: str = "test", features: bool = True) -> Bed:
    """The train split and ``split`` of a config, with its store and (simulated beds) simulator."""
    if cfg.data.source == "synthetic":
        from vlanet.data.loading import synthetic_spec
        from vlanet.data.synthetic import generate

        syn = generate(synthetic_spec(cfg))
        if split != "test":
            raise InputError("the synthetic dataset has train and test splits only")
        frac = cfg.data.video_fraction
        return Bed(video_subset(syn.splits["train"], frac), video_subset(syn.splits["test"], frac), syn.store,
                   syn.time, syn.simulator)
    tests = test_splits(cfg)
    by_stem = {split_name(p): p for p in tests.values()}  # data.test also by its stem
    path = cfg.data.val if split == "val" else tests.get(split) or by_stem.get(split, "")
    if not path:
        if split in ("val", "test"):
            raise InputError(f"config: field 'data.{split}' is required for the controls")
        raise InputError(f"config: no test split named {split!r} (test splits: {', '.join(tests) or 'none'})")
    test = video_subset(read_ground_truth(path), cfg.data.video_fraction)
    train = video_subset(read_ground_truth(cfg.data.train), cfg.data.video_fraction) if cfg.data.train else []
    if not features:
        return Bed(train, test, None, None, None)
    if not cfg.data.features:
        raise InputError("config: field 'data.features' is required for the blind probes")
    store = open_store(cfg.data.features)
    time = convention_from(cfg.data, store.attrs)
    sim = None
    if store.attrs.get("simulated"):
        sim = _simulator(cfg, store, time)
    return Bed(train, test, store, time, sim)


def _simulator(cfg: Config, store: FeatureStore, time: TimeConvention):
    from vlanet.data.simulate import (
        Simulator,
        sentence_fingerprint,
        spec_from_attrs,
        words_fingerprint,
    )
    from vlanet.data.vocab import load_word_vectors, tokenize

    spec = spec_from_attrs(store.attrs, str(store.path))
    paths = list(dict.fromkeys(p for p in (cfg.data.train, cfg.data.val, *test_splits(cfg).values()) if p))
    splits: list[list[Query]] = []
    for p in paths:  # a file that repeats an earlier one (a copy of the test split) adds nothing
        qs = read_ground_truth(p)
        if qs not in splits:
            splits.append(qs)
    queries = [q for split in splits for q in split]
    if sentence_fingerprint(queries) != store.attrs.get("annotations"):
        raise InputError(f"{store.path}: simulated from other annotations than data.train/val/test/extra_tests "
                         f"({', '.join(paths)}); the oracles need the same files")
    words = None
    if store.attrs.get("word_vectors", "none") != "none":
        words = load_word_vectors(cfg.data.word_vectors, {t for q in queries for t in tokenize(q.query)})
        if words_fingerprint(words) != store.attrs["word_vectors"]:
            raise InputError(f"{store.path}: simulated with other word vectors than data.word_vectors "
                             f"({cfg.data.word_vectors}); the oracles need the same table")
    if store.attrs.get("world") == "synthetic":  # written by `vlanet data synthetic`: its synonyms
        from vlanet.data.synthetic import world_simulator

        return world_simulator(queries, spec, words, time, splits)
    return Simulator(queries, spec, words, time, splits=splits)


def control_rows(kind: str, cfg: Config, bed: Bed) -> dict[Any, dict[str, Any]]:
    """Prediction rows of one control on ``bed.test``."""
    spec = ProposalSpec.from_config(cfg)
    if kind in GRID_KINDS:
        if cfg.eval.protocol == "didemo":
            return didemo_baseline(kind, bed.test, bed.train or None, cfg.train.seed)
        return grid_baseline(kind, bed.test, bed.train or None, spec, cfg.eval, cfg.train.seed)
    if kind in probes.ORACLE_KINDS and bed.simulator is None:
        raise InputError(f"{kind}: the oracles need a simulated bed (data.features written by `vlanet data simulate`)")
    probe = None
    if kind == "probe":
        if not bed.train:
            raise InputError("the probe baseline is fitted on the train split (set data.train)")
        prior = position_prior(bed.train, cfg.eval.protocol, cfg.train.seed)
        probe = probes.fit_probe(bed.train, bed.store, spec, bed.time, prior, cfg.train.seed), prior
    return probes.score_rows(kind, bed.test, bed.store, spec, bed.time, cfg.eval, probe, bed.simulator)


BLIND_ROWS = ("prior", *probes.BLIND_KINDS)  # the blind rows every trained model is read against


def blind_rows(cfg: Config, train: list[Query], test: list[Query], store: FeatureStore, time: TimeConvention
               ) -> dict[str, dict[str, float]]:
    """The metrics of the prior and the blind probes on ``test``, fitted on ``train`` (the
    queries the model trained on): what ``vlanet train`` prints beside the model."""
    bed = Bed(train, test, store, time, None)
    proto = model_protocol(cfg)
    return {kind: evaluate_rows(control_rows(kind, cfg, bed), test, proto, kind) for kind in BLIND_ROWS}


def best_blind(rows: dict[str, dict[str, float]], key: str) -> tuple[str, float]:
    """The blind row (prior, saliency or probe) with the highest ``key``: what a model must beat."""
    name = max(rows, key=lambda k: rows[k][key])
    return name, rows[name][key]


def calibrate(cfg: Config, split: str = "test", log=lambda m: None) -> dict[str, Any]:
    """Every control's metrics on ``split``, and on a simulated bed the oracles' swap picks."""
    return calibrate_bed(cfg, load_bed(cfg, split), split, log)


def calibrate_bed(cfg: Config, bed: Bed, split: str = "test", log=lambda m: None) -> dict[str, Any]:
    """``calibrate`` on a bed already loaded (e.g. a subset of videos rendered in memory)."""
    proto = model_protocol(cfg)
    rows: dict[str, dict[str, float]] = {}
    swaps: dict[str, Any] = {}
    for kind in (*GRID_KINDS, *probes.iter_kinds(bed.simulator)):
        log(f"calibrate: {kind}")
        preds = control_rows(kind, cfg, bed)
        rows[kind] = evaluate_rows(preds, bed.test, proto, kind)
        if kind in probes.ORACLE_KINDS:
            share, n = probes.swap_picks(preds, bed.test, bed.simulator)
            swaps[kind] = {"picks_swap": share, "swap_queries": n}
    spec = None
    if bed.simulator is not None:
        from dataclasses import asdict

        spec = asdict(bed.simulator.spec)
    return {"split": split, "queries": len(bed.test), "metrics": rows, "swaps": swaps, "simulation": spec}


LABELS = {
    "random": "random (same proposals, same NMS)", "prior": "prior (blind: train moment positions)",
    "oracle": "ceiling (best proposal first)", "saliency": "saliency (blind probe, no learning)",
    "probe": "linear probe (blind: prior + features, fitted on train)", "oracle-bow": "bag-of-words oracle",
    "oracle-sentence": "true-sentence oracle",
}


def calibration_table(res: dict[str, Any]) -> str:
    """The controls as a Markdown table, with the swap picks of the oracles."""
    from vlanet.eval.evaluate import format_table

    text = format_table({LABELS[k]: m for k, m in res["metrics"].items()})
    for kind, s in res["swaps"].items():
        text += (f"\n{LABELS[kind]}: top-1 on a swap distractor for {s['picks_swap']:.1f} % of the "
                 f"{s['swap_queries']} queries that have one")
    return f"{res['queries']} {res['split']} queries\n\n{text}"
