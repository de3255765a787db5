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

from vlanet import faults
from vlanet.allocator import retain_freed_memory
from vlanet.checkpoint import (
    build_model,
    commit_dir,
    load_model,
    load_train_state,
    recover_dir,
    save_model,
    save_train_state,
)
from vlanet.config import OWN_SECTION, Config, dump_config
from vlanet.config_checks import VAL_CONTRAST
from vlanet.data.dataset import MomentDataset, batch_loader
from vlanet.data.loading import Splits, load_splits
from vlanet.device import resolve_device
from vlanet.errors import InputError
from vlanet.eval.baselines import random_predictions
from vlanet.eval.calibrate import blind_rows
from vlanet.eval.controls import language_gain, shuffled_dataset, shuffled_video_dataset
from vlanet.eval.evaluate import Protocol, evaluate_rows, model_protocol
from vlanet.io import atomic_write_text, locked_dir
from vlanet.predict import predict_dataset
from vlanet.progress import bar
from vlanet.train import distributed
from vlanet.train.batches import epoch_steps, group_generator
from vlanet.train.step import LossStep, batch_loss  # noqa: F401  (batch_loss: benchmarks/ab_step.py runs older trees)

log = logging.getLogger("vlanet.train")


def protocol_for(cfg: Config) -> Protocol:
    """The protocol training validates with (``eval.evaluate.model_protocol``)."""
    return model_protocol(cfg)


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

    def parts(self) -> dict[str, dict[str, Any]]:
        """Every test split's part (test, test_shuffled, random, blind, language_gain), ``test`` first."""
        return self.splits

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


def _train(cfg: Config, run_dir: str | Path, resume: bool, progress: bool, splits: Splits | None,
           on_epoch) -> TrainResult:
    t_start = time.perf_counter()
    run = Path(run_dir)
    ck = run / "checkpoints"
    if cfg.train.threads:
        torch.set_num_threads(cfg.train.threads)
    retain_freed_memory()  # ~20 % of a CPU step was page faults of re-allocated tensors
    torch.use_deterministic_algorithms(cfg.train.deterministic, warn_only=True)
    dinfo, device = distributed.setup(resolve_device(cfg.train.device))
    progress = progress and dinfo.is_main
    splits = splits or load_splits(cfg, device=device)
    if splits.train is None or len(splits.train) == 0:
        raise InputError("config: the training split is empty (check data.train)")
    if len({q.vid for q in splits.train.queries}) < 2:
        raise InputError(f"{cfg.data.train or 'the training split'}: every training query is on one video, so no "
                         "negative pair (Eq. 14) can be formed; training needs queries of at least 2 videos")
    if dinfo.is_main:
        sizes = ", ".join(f"{len(d)} {d.name}" for d in (splits.train, splits.val, splits.test) if d is not None)
        oov = sum(d.oov_tokens for d in (splits.train, splits.val, splits.test) if d is not None)
        log.info("data: %s queries; %d-d features; vocabulary %d words, %d unknown tokens skipped",
                 sizes, splits.feature_dim, len(splits.words.words) - 1, oov)
    torch.manual_seed(cfg.train.seed)
    model = build_model(cfg, splits.feature_dim, splits.words).to(device)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=cfg.train.lr, weight_decay=cfg.train.weight_decay)
    history: list[dict[str, Any]] = []
    start_epoch, best = 0, -math.inf
    if resume and dinfo.is_main:
        for name in ("last", "best"):
            recover_dir(ck / name)
    distributed.barrier(dinfo)
    if resume and (ck / "last" / "train_state.json").exists():
        loaded, trained_cfg, _, _ = load_model(ck / "last", device)
        sections = ["model"] + ([cfg.model.name] if cfg.model.name in OWN_SECTION else [])
        for sec in sections:
            for f in dataclasses.fields(getattr(cfg, sec)):
                now, then = getattr(getattr(cfg, sec), f.name), getattr(getattr(trained_cfg, sec), f.name)
                if now != then:
                    raise InputError(f"{run / 'config.yaml'}: field '{sec}.{f.name}' is {now!r} but the run was trained "
                                     f"with {then!r}; a resumed run keeps its model (start a new --run-dir)")
        model.load_state_dict(loaded.state_dict())
        state = load_train_state(ck / "last", opt)
        start_epoch, best, history = state["epoch"] + 1, state["best"], state["history"]
        log.info("resuming %s at epoch %d", run, start_epoch)
    elif resume:
        log.info("resuming %s: no finished epoch yet, starting from epoch 1", run)
    if dinfo.is_main:
        run.mkdir(parents=True, exist_ok=True)
        atomic_write_text(run / "config.yaml", dump_config(cfg))
    protocol = protocol_for(cfg)
    tcfg = cfg.train
    step_fn: torch.nn.Module = LossStep(model, tcfg)
    if dinfo.enabled:
        step_fn = torch.nn.parallel.DistributedDataParallel(
            step_fn, device_ids=[device.index] if device.type == "cuda" else None, find_unused_parameters=True,
            broadcast_buffers=False)
    for epoch in range(start_epoch, tcfg.epochs):
        t0 = time.perf_counter()
        torch.manual_seed(tcfg.seed * 1_000_003 + epoch)  # dropout etc.: a function of (seed, epoch)
        gen = torch.Generator().manual_seed(tcfg.seed * 1_000_003 + epoch)
        lr = tcfg.lr * (0.5 ** (epoch // tcfg.lr_halve_every) if tcfg.lr_halve_every else 1.0)
        for g in opt.param_groups:
            g["lr"] = lr
        steps = epoch_steps(splits.train, tcfg, gen, dinfo.rank, dinfo.world)
        model.train()
        if hasattr(model, "start_epoch"):  # CPL's negatives follow the training's progress
            model.start_epoch(epoch, tcfg.epochs)
        tot_loss = tot_pos = tot_neg = 0.0
        n_pos = n_neg = 0
        loader = batch_loader(splits.train, [[idx for _, idx in groups] for _, groups in steps], tcfg.num_workers)
        desc = f"epoch {epoch + 1}/{tcfg.epochs}" + (f" (last: {epoch_summary(history[-1], tcfg.select_metric)})"
                                                     if history else "")
        for (step, groups), batches in bar(zip(steps, loader), total=len(steps), desc=desc, enabled=progress):
            faults.point(f"epoch{epoch + 1}.batch{step + 1}")
            gens = [group_generator(tcfg.seed, epoch, step, g) for g, _ in groups]
            loss, pos, neg = step_fn([b.to(device) for b in batches], gens)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if tcfg.grad_clip:
                torch.nn.utils.clip_grad_norm_(params, tcfg.grad_clip)
            opt.step()
            tot_loss += float(loss.detach()) * len(pos)
            tot_pos += float(pos.sum())
            tot_neg += float(neg.sum())
            n_pos += len(pos)
            n_neg += len(neg)
        tot_loss, tot_pos, tot_neg, n_pos, n_neg = distributed.all_sum(dinfo, [tot_loss, tot_pos, tot_neg, n_pos, n_neg])
        rec: dict[str, Any] = {"epoch": epoch + 1, "lr": lr, "loss": tot_loss / max(n_pos, 1),
                               "pos_score": tot_pos / max(n_pos, 1), "neg_score": tot_neg / max(n_neg, 1),
                               "train_seconds": round(time.perf_counter() - t0, 3)}
        if not dinfo.is_main:  # rank 0 validates and writes; the others wait for it
            distributed.barrier(dinfo)
            continue
        if splits.val is not None:
            vp = predict_dataset(model, splits.val, cfg.eval, device, num_workers=tcfg.num_workers, negatives=True)
            rec["val"] = evaluate_rows(vp.rows, splits.val.queries, protocol, "validation")
            rec["val_pos_score"], rec["val_neg_score"] = vp.pos_score, vp.neg_score
            rec["val"][VAL_CONTRAST] = vp.pos_score - vp.neg_score  # reads no timestamp
            score = rec["val"].get(tcfg.select_metric)
            if score is None:
                raise InputError(f"config: field 'train.select_metric' {tcfg.select_metric!r} is not a metric "
                                 f"(choose from {', '.join(rec['val'])})")
        else:
            score = -rec["loss"]
        history.append(rec)
        meta = {"epoch": epoch + 1, "time": splits.time.attrs()}
        if "backbone" in splits.feature_attrs:
            meta["backbone"] = str(splits.feature_attrs["backbone"])
        if score > best:
            best = score
            tmp = ck / "best.tmp"
            shutil.rmtree(tmp, ignore_errors=True)
            save_model(tmp, model, cfg, splits.feature_dim, splits.words, meta)
            commit_dir(tmp, ck / "best")
            faults.point(f"epoch{epoch + 1}.saved-best")
        tmp = ck / "last.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        save_model(tmp, model, cfg, splits.feature_dim, splits.words, meta)
        save_train_state(tmp, opt, {"epoch": epoch, "best": best, "history": history})
        commit_dir(tmp, ck / "last")
        atomic_write_text(run / "metrics.jsonl", "".join(json.dumps(h) + "\n" for h in history))
        if on_epoch is not None:
            on_epoch(rec)
        faults.point(f"epoch{epoch + 1}.end")
        distributed.barrier(dinfo)
    result = TrainResult(run, history, model=cfg.model.name, seed=tcfg.seed, protocol=protocol.describe())
    del step_fn  # the DDP wrapper goes first: see distributed.teardown
    distributed.teardown(dinfo)
    if not dinfo.is_main:
        return result
    if splits.test is not None or splits.extra:
        best_model, _, _, _ = load_model(ck / "best", device)
        tests = ({"test": splits.test} if splits.test is not None else {}) | splits.extra
        result.splits = {name: score_split(best_model, ds, cfg, device, protocol, splits.train.queries)
                         for name, ds in tests.items()}
    result.seconds = time.perf_counter() - t_start
    atomic_write_text(run / "result.json", json.dumps(result.to_json(), indent=1))
    return result


def epoch_summary(rec: dict[str, Any], metric: str) -> str:
    """'loss 0.41, val R@1,IoU=0.5 35.2': what the progress bar shows of the last epoch."""
    val = rec.get("val") or {}
    return f"loss {rec['loss']:.3f}" + (f", val {metric} {val[metric]:.1f}" if metric in val else "")


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
