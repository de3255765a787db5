"""The training loop, shared by every command that trains (``vlanet train``, experiments, DDP).

Per epoch: shuffle the training queries (generator seeded by seed and epoch), and for each batch
score the positive pairs and sampled in-batch negatives with one ``score_pairs`` call, apply
Eq. (14), step Adam.  Then predict the validation split and evaluate it with the shared
evaluator; the best epoch on ``train.select_metric`` is kept as ``checkpoints/best`` (never
chosen on test).  ``checkpoints/last`` plus the training state allow ``--resume``; every epoch's
randomness is derived from (seed, epoch), so a resumed run equals an uninterrupted one.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from vlanet.checkpoint import (
    build_model,
    commit_dir,
    load_model,
    load_train_state,
    recover_dir,
    save_model,
    save_train_state,
)
from vlanet.config import OWN_SECTION, RUNTIME_FIELDS, Config, dump_config
from vlanet.config.checks import VAL_CONTRAST
from vlanet.data.dataset import MomentDataset, batch_loader
from vlanet.data.loading import Splits, load_splits
from vlanet.eval.baselines import random_predictions
from vlanet.eval.calibrate import blind_rows
from vlanet.eval.controls import language_gain, shuffled_dataset, shuffled_video_dataset
from vlanet.eval.evaluate import Protocol, evaluate_rows, model_protocol
from vlanet.predict import predict_dataset
from vlanet.train import distributed
from vlanet.train.batches import epoch_steps, group_generator
from vlanet.train.step import LossStep
from vlanet.utils import faults
from vlanet.utils.allocator import retain_freed_memory
from vlanet.utils.device import resolve_device
from vlanet.utils.errors import InputError
from vlanet.utils.io import atomic_write_text, locked_dir
from vlanet.utils.progress import bar

log = logging.getLogger("vlanet.train")


@dataclass
class TrainResult:
    """What a run measured: its history and, per test split, ``score_split``'s part (the split
    ``test`` first, then data.extra_tests by name).  ``to_json`` is result.json and ``--json``."""

    run_dir: Path
    history: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    splits: dict[str, dict[str, Any]] = field(default_factory=dict)
    model: str = ""
    seed: int = 0
    protocol: str = ""

    def _main(self, key: str) -> Any:
        return self.splits.get("test", {}).get(key)

    @property
    def test(self) -> dict[str, float] | None:
        return self._main("test")

    @property
    def test_shuffled(self) -> dict[str, float] | None:  # the shuffled-query control (eval/controls.py)
        return self._main("test_shuffled")

    @property
    def random(self) -> dict[str, float] | None:
        return self._main("random")

    @property
    def language_gain(self) -> float | None:  # test minus test_shuffled at eval/controls.gain_key
        return self._main("language_gain")

    @property
    def extra(self) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.splits.items() if k != "test"}

    def to_json(self) -> dict[str, Any]:
        main = self.splits.get("test", {})
        return {"run_dir": str(self.run_dir), "model": self.model, "seed": self.seed,
                "test": main.get("test"), "test_shuffled": main.get("test_shuffled"),
                "language_gain": main.get("language_gain"), "test_shuffled_video": main.get("test_shuffled_video"),
                "visual_gain": main.get("visual_gain"), "random": main.get("random"),
                "blind": main.get("blind"), "extra_tests": self.extra, "seconds": round(self.seconds, 1),
                "protocol": self.protocol}


def train(cfg: Config, run_dir: str | Path, resume: bool = False, progress: bool = True,
          splits: Splits | None = None, on_epoch=None) -> TrainResult:
    """Train into ``run_dir``, holding its lock (rank 0 writes; under torchrun the others do not
    lock).  A fresh run refuses a directory that already holds checkpoints."""
    if int(os.environ.get("RANK", "0")) != 0:
        return _train(cfg, run_dir, resume, progress, splits, on_epoch)
    with locked_dir(run_dir):
        if not resume and (Path(run_dir) / "checkpoints").exists():
            raise InputError(f"{run_dir}: run directory already holds checkpoints "
                             f"(use --resume {run_dir} or another --run-dir)")
        return _train(cfg, run_dir, resume, progress, splits, on_epoch)


@dataclass
class _Session:
    """What the steps of one training run share."""

    cfg: Config
    run: Path
    dinfo: distributed.DistInfo
    device: torch.device
    splits: Splits
    model: torch.nn.Module
    opt: torch.optim.Optimizer
    params: list[torch.nn.Parameter]
    protocol: Protocol
    start_epoch: int = 0
    best: float = -math.inf
    history: list[dict[str, Any]] = field(default_factory=list)

    @property
    def checkpoints(self) -> Path:
        return self.run / "checkpoints"


def _train(cfg: Config, run_dir: str | Path, resume: bool, progress: bool, splits: Splits | None,
           on_epoch) -> TrainResult:
    t_start = time.perf_counter()
    s = _set_up(cfg, Path(run_dir), splits)
    progress = progress and s.dinfo.is_main
    if resume:
        _resume(s)
    if s.dinfo.is_main:
        s.run.mkdir(parents=True, exist_ok=True)
        atomic_write_text(s.run / "config.yaml", dump_config(cfg))
    step_fn = distributed.wrap(LossStep(s.model, cfg.train), s.dinfo, s.device)
    for epoch in range(s.start_epoch, cfg.train.epochs):
        rec = _train_epoch(s, step_fn, epoch, progress)
        if s.dinfo.is_main:  # rank 0 validates and writes; the others wait for it
            _validate_and_save(s, rec)
            if on_epoch is not None:
                on_epoch(rec)
            faults.point(f"epoch{epoch + 1}.end")
        distributed.barrier(s.dinfo)
    result = TrainResult(s.run, s.history, model=cfg.model.name, seed=cfg.train.seed, protocol=s.protocol.describe())
    del step_fn  # the DDP wrapper goes first: see distributed.teardown
    distributed.teardown(s.dinfo)
    if s.dinfo.is_main:
        result.splits = _final_tests(s)
        result.seconds = time.perf_counter() - t_start
        atomic_write_text(s.run / "result.json", json.dumps(result.to_json(), indent=1))
    return result


def _set_up(cfg: Config, run: Path, splits: Splits | None) -> _Session:
    """Threads, allocator, determinism, the process group, the data, a fresh model and Adam."""
    if cfg.train.threads:
        torch.set_num_threads(cfg.train.threads)
    retain_freed_memory()
    torch.use_deterministic_algorithms(cfg.train.deterministic, warn_only=True)
    dinfo, device = distributed.setup(resolve_device(cfg.train.device))
    splits = splits or load_splits(cfg, device=device)
    _check_training_split(cfg, splits)
    if dinfo.is_main:
        parts = [d for d in (splits.train, splits.val, splits.test) if d is not None]
        log.info("data: %s queries; %d-d features; vocabulary %d words, %d unknown tokens skipped",
                 ", ".join(f"{len(d)} {d.name}" for d in parts), splits.feature_dim, len(splits.words.words) - 1,
                 sum(d.oov_tokens for d in parts))
    torch.manual_seed(cfg.train.seed)
    model = build_model(cfg, splits.feature_dim, splits.words).to(device)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=cfg.train.lr, weight_decay=cfg.train.weight_decay)
    return _Session(cfg, run, dinfo, device, splits, model, opt, params, model_protocol(cfg))


def _check_training_split(cfg: Config, splits: Splits) -> None:
    if splits.train is None or len(splits.train) == 0:
        raise InputError("config: the training split is empty (check data.train)")
    if len({q.vid for q in splits.train.queries}) < 2:
        raise InputError(f"{cfg.data.train or 'the training split'}: every training query is on one video, so no "
                         "negative pair (Eq. 14) can be formed; training needs queries of at least 2 videos")


def _resume(s: _Session) -> None:
    """Load checkpoints/last (model, Adam, best, history) into the session, refusing a changed model."""
    ck = s.checkpoints
    if s.dinfo.is_main:
        for name in ("last", "best"):
            recover_dir(ck / name)
    distributed.barrier(s.dinfo)
    if not (ck / "last" / "train_state.json").exists():
        log.info("resuming %s: no finished epoch yet, starting from epoch 1", s.run)
        return
    loaded, trained_cfg, _, _ = load_model(ck / "last", s.device)
    cfg = s.cfg
    for sec in ["model"] + ([cfg.model.name] if cfg.model.name in OWN_SECTION else []):
        for f in dataclasses.fields(getattr(cfg, sec)):
            now, then = getattr(getattr(cfg, sec), f.name), getattr(getattr(trained_cfg, sec), f.name)
            if now != then and f"{sec}.{f.name}" not in RUNTIME_FIELDS:
                raise InputError(f"{s.run / 'config.yaml'}: field '{sec}.{f.name}' is {now!r} but the run was trained "
                                 f"with {then!r}; a resumed run keeps its model (start a new --run-dir)")
    s.model.load_state_dict(loaded.state_dict())
    state = load_train_state(ck / "last", s.opt)
    s.start_epoch, s.best, s.history = state["epoch"] + 1, state["best"], state["history"]
    log.info("resuming %s at epoch %d", s.run, s.start_epoch)


def _train_epoch(s: _Session, step_fn: torch.nn.Module, epoch: int, progress: bool) -> dict[str, Any]:
    """One pass over the training queries; every random draw is a function of (seed, epoch, step)."""
    tcfg = s.cfg.train
    t0 = time.perf_counter()
    torch.manual_seed(tcfg.seed * 1_000_003 + epoch)  # dropout etc.
    gen = torch.Generator().manual_seed(tcfg.seed * 1_000_003 + epoch)
    lr = tcfg.lr * (0.5 ** (epoch // tcfg.lr_halve_every) if tcfg.lr_halve_every else 1.0)
    for g in s.opt.param_groups:
        g["lr"] = lr
    steps = epoch_steps(s.splits.train, tcfg, gen, s.dinfo.rank, s.dinfo.world)
    s.model.train()
    if hasattr(s.model, "start_epoch"):  # CPL's negatives follow the training's progress
        s.model.start_epoch(epoch, tcfg.epochs)
    totals = [0.0] * 5  # loss x positives, sum of c+, sum of c-, positives, negatives
    loader = batch_loader(s.splits.train, [[idx for _, idx in groups] for _, groups in steps], tcfg.num_workers)
    last = f" (last: {epoch_summary(s.history[-1], tcfg.select_metric)})" if s.history else ""
    for (step, groups), batches in bar(zip(steps, loader), total=len(steps), desc=f"epoch {epoch + 1}/{tcfg.epochs}{last}",
                                       enabled=progress):
        faults.point(f"epoch{epoch + 1}.batch{step + 1}")
        gens = [group_generator(tcfg.seed, epoch, step, g) for g, _ in groups]
        loss, pos, neg = step_fn([b.to(s.device) for b in batches], gens)
        s.opt.zero_grad(set_to_none=True)
        loss.backward()
        if tcfg.grad_clip:
            torch.nn.utils.clip_grad_norm_(s.params, tcfg.grad_clip)
        s.opt.step()
        for i, v in enumerate((float(loss.detach()) * len(pos), float(pos.sum()), float(neg.sum()), len(pos), len(neg))):
            totals[i] += v
    tot_loss, tot_pos, tot_neg, n_pos, n_neg = distributed.all_sum(s.dinfo, totals)
    return {"epoch": epoch + 1, "lr": lr, "loss": tot_loss / max(n_pos, 1), "pos_score": tot_pos / max(n_pos, 1),
            "neg_score": tot_neg / max(n_neg, 1), "train_seconds": round(time.perf_counter() - t0, 3)}


def _validate_and_save(s: _Session, rec: dict[str, Any]) -> None:
    """Score the validation split into ``rec``, keep checkpoints/best on train.select_metric,
    write checkpoints/last with the training state and metrics.jsonl."""
    cfg, val = s.cfg, s.splits.val
    if val is not None:
        vp = predict_dataset(s.model, val, cfg.eval, s.device, num_workers=cfg.train.num_workers, negatives=True)
        rec["val"] = evaluate_rows(vp.rows, val.queries, s.protocol, "validation")
        rec["val_pos_score"], rec["val_neg_score"] = vp.pos_score, vp.neg_score
        rec["val"][VAL_CONTRAST] = vp.pos_score - vp.neg_score  # reads no timestamp
        score = rec["val"].get(cfg.train.select_metric)
        if score is None:
            raise InputError(f"config: field 'train.select_metric' {cfg.train.select_metric!r} is not a metric "
                             f"(choose from {', '.join(rec['val'])})")
    else:
        score = -rec["loss"]
    s.history.append(rec)
    meta = {"epoch": rec["epoch"], "time": s.splits.time.attrs()}
    if "backbone" in s.splits.feature_attrs:
        meta["backbone"] = str(s.splits.feature_attrs["backbone"])
    if score > s.best:
        s.best = score
        _save(s, "best", meta)
        faults.point(f"epoch{rec['epoch']}.saved-best")
    _save(s, "last", meta, {"epoch": rec["epoch"] - 1, "best": s.best, "history": s.history})
    atomic_write_text(s.run / "metrics.jsonl", "".join(json.dumps(h) + "\n" for h in s.history))


def _save(s: _Session, name: str, meta: dict[str, Any], state: dict[str, Any] | None = None) -> None:
    """checkpoints/<name>, written beside it and committed whole (checkpoint.commit_dir).  An
    interrupt or error on the way leaves the complete copy in place and no ``<name>.tmp``."""
    tmp, final = s.checkpoints / f"{name}.tmp", s.checkpoints / name
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        save_model(tmp, s.model, s.cfg, s.splits.feature_dim, s.splits.words, meta)
        faults.point(f"save.{name}")
        if state is not None:
            save_train_state(tmp, s.opt, state)
        commit_dir(tmp, final)  # each file's atomic write above already re-raised a swallowed Ctrl-C
    except BaseException:
        recover_dir(final)
        raise


def _final_tests(s: _Session) -> dict[str, dict[str, Any]]:
    """Every test split (``test`` first, then data.extra_tests) scored by the best checkpoint."""
    tests = ({"test": s.splits.test} if s.splits.test is not None else {}) | s.splits.extra
    if not tests:
        return {}
    best_model, _, _, _ = load_model(s.checkpoints / "best", s.device)
    return {name: score_split(best_model, ds, s.cfg, s.device, s.protocol, s.splits.train.queries)
            for name, ds in tests.items()}


def val_text(metric: str, value: float) -> str:
    """A validation figure as printed: val_contrast (a small difference of scores) to 4 decimals,
    a metric in % to 2."""
    return f"{value:.4f}" if metric == VAL_CONTRAST else f"{value:.2f}"


def epoch_summary(rec: dict[str, Any], metric: str) -> str:
    """'loss 0.41, val R@1,IoU=0.5 35.20': what the progress bar shows of the last epoch."""
    val = rec.get("val") or {}
    return f"loss {rec['loss']:.3f}" + (f", val {metric} {val_text(metric, val[metric])}" if metric in val else "")


def score_split(model: torch.nn.Module, ds: MomentDataset, cfg: Config, device: torch.device, protocol: Protocol,
                train_queries: list | None = None) -> dict[str, Any]:
    """A test split's part of result.json: metrics with the true queries (``test``), with the
    shuffled-query control (``test_shuffled``, eval/controls.py), with the shuffled-video control
    (``test_shuffled_video``, and ``visual_gain`` beside the language gain), for the random baseline on the
    same proposals (``random``), the ``language_gain``, and (``eval.blind_controls``, given the
    training queries) the ``blind`` rows: the prior and the blind probes fitted on them."""
    tp = predict_dataset(model, ds, cfg.eval, device, num_workers=cfg.train.num_workers)
    true = evaluate_rows(tp.rows, ds.queries, protocol, ds.name)
    shuffled = shuffled_dataset(ds)
    sp = predict_dataset(model, shuffled, cfg.eval, device, num_workers=cfg.train.num_workers)
    control = evaluate_rows(sp.rows, shuffled.queries, protocol, f"{ds.name}, shuffled queries")
    moved = shuffled_video_dataset(ds)
    vp = predict_dataset(model, moved, cfg.eval, device, num_workers=cfg.train.num_workers)
    visual = evaluate_rows(vp.rows, moved.queries, protocol, f"{ds.name}, shuffled videos")
    random = evaluate_rows(random_predictions(ds, cfg.eval, cfg.train.seed), ds.queries, protocol,
                           f"{ds.name}, random baseline")
    blind = None
    if cfg.eval.blind_controls and train_queries:
        blind = blind_rows(cfg, train_queries, ds.queries, ds.store, ds.time)
    return {"test": true, "test_shuffled": control, "random": random, "blind": blind,
            "language_gain": language_gain(true, control, cfg.eval.protocol),
            "test_shuffled_video": visual, "visual_gain": language_gain(true, visual, cfg.eval.protocol)}
