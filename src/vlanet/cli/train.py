"""`vlanet train` and `vlanet config`: train a model, show the configs it reads."""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from vlanet.cli.common import (
    Parser,
    config_and_overrides,
    metrics_table,
)
from vlanet.config import MODEL_LABELS
from vlanet.utils.errors import InputError, RunLocked


def cmd_config_list(args: argparse.Namespace) -> int:
    from vlanet.config import shipped_configs

    for name, path in shipped_configs().items():
        first = path.read_text(encoding="utf-8").splitlines()[0].lstrip("# ").strip()
        print(f"{name:18s} {first}")
    return 0


def cmd_config_show(args: argparse.Namespace) -> int:
    from vlanet.config import dump_config, load_config

    config_and_overrides(args)
    print(dump_config(load_config(args.config, args.overrides)), end="")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from vlanet.config import load_config
    from vlanet.config.paths import resolve_data_paths
    from vlanet.eval.controls import gain_key
    from vlanet.eval.evaluate import model_protocol
    from vlanet.train.loop import train, val_text

    config_and_overrides(args)
    if args.resume:
        run = Path(args.resume)
        if not (run / "config.yaml").is_file():
            raise InputError(f"{run}: not a run directory (no config.yaml) -- nothing to resume")
        cfg = load_config(run / "config.yaml", args.overrides)
    else:
        cfg = load_config(args.config, args.overrides)
        resolve_data_paths(cfg)
        run = Path(args.run_dir or f"runs/{cfg.model.name}-{time.strftime('%Y%m%d-%H%M%S')}")
    progress = not args.quiet
    if progress:
        logging.getLogger("vlanet.train").setLevel(logging.INFO)

    metric, key = cfg.train.select_metric, gain_key(cfg.eval.protocol)

    def on_epoch(rec: dict[str, Any]) -> None:
        if args.quiet:
            return
        val = rec.get("val") or {}
        print(f"epoch {rec['epoch']:3d}  loss {rec['loss']:.4f}  c+ {rec['pos_score']:.3f}  c- {rec['neg_score']:.3f}"
              + (f"  val {metric} {val_text(metric, val.get(metric, float('nan')))}"
                 + (f"  {key} {val[key]:.2f}" if key != metric and key in val else "")
                 + f"  mIoU {val.get('mIoU', float('nan')):.2f}" if val else "")
              + f"  ({rec['train_seconds']:.1f}s)", file=sys.stderr, flush=True)

    fresh = not run.exists()
    try:
        res = train(cfg, run, resume=bool(args.resume), progress=progress, on_epoch=on_epoch)
    except RunLocked:
        raise  # the directory is another process's: leave it alone
    except InputError:
        if fresh and not (run / "checkpoints").exists():
            shutil.rmtree(run, ignore_errors=True)  # no half-made run directory for an input error
        raise
    if int(os.environ.get("RANK", "0")) != 0:
        return 0  # under torchrun, rank 0 reports
    label = MODEL_LABELS[cfg.model.name]
    out = sys.stderr if args.json else sys.stdout  # with --json, stdout holds the JSON only
    for name, m in res.splits.items():
        print(f"\n{'Test split' if name == 'test' else f'Test split {name}'} ({model_protocol(cfg).describe()}; "
              f"model NMS {cfg.eval.nms_threshold:g}, top-{cfg.eval.topk}); run took {res.seconds:.0f}s\n", file=out)
        print(metrics_table(result_rows(label, m, gain_key(cfg.eval.protocol))), file=out)
        print(f"\n{summary_line(m, gain_key(cfg.eval.protocol))}", file=out)
    print(f"\nrun directory: {res.run_dir}", file=out)
    if args.json:
        print(json.dumps(res.to_json()))
    return 0


BLIND_LABELS = {"prior": "Prior (blind: train moment positions)", "saliency": "Saliency (blind probe)",
                "probe": "Linear probe (blind: prior + features)"}


def result_rows(label: str, part: dict[str, Any], key: str) -> dict[str, dict[str, float]]:
    """A test split's table, controls as rows: random, the prior, the best blind probe, the
    model, the model with other videos' sentences and the model on other videos."""
    from vlanet.eval.calibrate import best_blind

    rows = {"Random (same proposals, same NMS)": part["random"]}
    blind = part.get("blind")
    if blind:
        rows[BLIND_LABELS["prior"]] = blind["prior"]
        probe, _ = best_blind({k: v for k, v in blind.items() if k != "prior"}, key)
        rows[f"Best blind probe: {BLIND_LABELS[probe][:1].lower()}{BLIND_LABELS[probe][1:]}"] = blind[probe]
    rows[label] = part["test"]
    rows[f"{label}, shuffled queries (control)"] = part["test_shuffled"]
    if part.get("test_shuffled_video"):  # runs written before the visual control lack it
        rows[f"{label}, shuffled videos (control)"] = part["test_shuffled_video"]
    return rows


def summary_line(part: dict[str, Any], key: str) -> str:
    """The language gain and, with the blind rows, the margin over the best of them."""
    from vlanet.eval.calibrate import best_blind

    text = f"language gain ({key}, true minus shuffled queries): {part['language_gain']:+.2f}"
    if part.get("visual_gain") is not None:
        text += f"; visual gain (true minus shuffled videos): {part['visual_gain']:+.2f}"
    if part.get("blind"):
        name, value = best_blind(part["blind"], key)
        text += f"; over the best blind row ({name}, {value:.2f}): {part['test'][key] - value:+.2f}"
    return text


def add_parsers(sub: argparse._SubParsersAction) -> None:
    cf = sub.add_parser("config", help="the shipped configs: list them, or print one resolved")
    cfs = cf.add_subparsers(dest="config_command", required=True, parser_class=Parser)
    cl = cfs.add_parser("list", help="names of the configs shipped in the package")
    cl.set_defaults(func=cmd_config_list)
    cs = cfs.add_parser("show", help="a config with every field, defaults and overrides applied")
    cs.add_argument("config", nargs="?", help="a shipped config's name or a YAML file (default: the embedded synthetic one)")
    cs.add_argument("overrides", nargs="*", help="section.key=value overrides")
    cs.set_defaults(func=cmd_config_show)

    t = sub.add_parser("train", help="train VLANet (default: the embedded synthetic dataset)")
    t.add_argument("config", nargs="?", help="a shipped config's name (vlanet config list) or a YAML file")
    t.add_argument("overrides", nargs="*", help="section.key=value overrides, e.g. train.epochs=5")
    t.add_argument("--run-dir", help="where to write config, metrics.jsonl and checkpoints")
    t.add_argument("--resume", metavar="RUN_DIR", help="continue an interrupted run")
    t.add_argument("--json", action="store_true", help="stdout: one JSON object with the test metrics (the tables go to stderr)")
    t.add_argument("--quiet", action="store_true", help="no progress bars or per-epoch lines")
    t.set_defaults(func=cmd_train)
