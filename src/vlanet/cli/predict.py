"""`vlanet predict`, `vlanet evaluate` and `vlanet baseline`: predictions, their scores and the controls."""

from __future__ import annotations

import argparse
import json
import sys

from vlanet.cli.common import (
    BASELINE_KINDS,
    SEED,
    data_inputs,
    nms_arg,
)
from vlanet.utils.errors import InputError
from vlanet.utils.io import check_outputs


def cmd_predict(args: argparse.Namespace) -> int:
    import torch

    from vlanet.checkpoint import load_model
    from vlanet.config import apply_override, validate
    from vlanet.data.annotations import write_ground_truth, write_jsonl
    from vlanet.data.loading import load_splits
    from vlanet.predict import check_compatible, predict_dataset
    from vlanet.utils.device import resolve_device

    model, cfg, words, meta = load_model(args.checkpoint)
    check_outputs({"--out": args.out, "--gt-out": args.gt_out}, data_inputs(cfg))
    for item in args.overrides:
        if not item.startswith(("data.", "eval.", "model.rank_by=")):
            raise InputError(f"override '{item}': predict accepts data.*, eval.* and model.rank_by overrides only")
        apply_override(cfg, item)
    validate(cfg, "overrides")  # in place: cfg.model is the model's own config, so rank_by applies
    device = resolve_device(cfg.train.device)
    model.to(device)
    need = ("train", "val") if args.split in ("train", "val") else (args.split,)
    splits = load_splits(cfg, need=need, words=words, device=device)
    ds = getattr(splits, args.split)
    if ds is None:
        raise InputError(f"the checkpoint's dataset has no '{args.split}' split")
    check_compatible(meta.get("time"), splits.time.attrs(), splits.feature_dim, model.feature_dim,
                     cfg.data.features or "features", "set data.time_convention / fps / frames_per_row / seconds_per_row")
    if cfg.train.threads:
        torch.set_num_threads(cfg.train.threads)
    if args.control == "shuffled-queries":
        from vlanet.eval.controls import SHUFFLE_SEED, shuffled_dataset

        ds = shuffled_dataset(ds, args.control_seed)
        print(f"control: each of the {len(ds)} queries is replaced by a query of another video "
              f"(seed {SHUFFLE_SEED if args.control_seed is None else args.control_seed}); "
              "the ground truth is unchanged", file=sys.stderr)
    out = predict_dataset(model, ds, cfg.eval, device, progress=not args.quiet)
    write_jsonl(args.out, out.rows.values())
    if args.gt_out:
        write_ground_truth(args.gt_out, ds.queries)
    print(f"wrote {len(out.rows)} predictions to {args.out}" + (f" and ground truth to {args.gt_out}" if args.gt_out else ""),
          file=sys.stderr)
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from vlanet.eval.evaluate import Protocol, evaluate_files

    proto = Protocol(args.protocol, args.nms, args.hit)
    metrics = evaluate_files(args.predictions, args.ground_truth, proto)
    if args.json:
        print(json.dumps(metrics))
    else:
        print(proto.describe())
        for k, v in metrics.items():
            print(f"{k:>14s}  {v:6.2f}")
    return 0


def cmd_baseline(args: argparse.Namespace) -> int:
    from vlanet.config import load_config
    from vlanet.data.annotations import write_jsonl
    from vlanet.eval.calibrate import GRID_KINDS, control_rows, load_bed

    cfg = load_config(args.data, args.overrides)
    if args.gt:
        setattr(cfg.data, args.split, args.gt)
        cfg.data.source = "files"
    if args.train:
        cfg.data.train = args.train
    if args.protocol:
        cfg.eval.protocol = args.protocol
    if cfg.data.source != "synthetic" and not getattr(cfg.data, args.split):
        raise InputError(f"baseline: no ground truth for split '{args.split}' (give --gt or set data.{args.split})")
    if args.kind == "prior" and cfg.data.source != "synthetic" and not cfg.data.train:
        raise InputError("baseline prior: needs the train split (give --train or set data.train)")
    check_outputs({"--out": args.out}, {"--data": args.data, **data_inputs(cfg)})
    bed = load_bed(cfg, args.split, features=args.kind not in GRID_KINDS)
    rows = control_rows(args.kind, cfg, bed)
    write_jsonl(args.out, rows.values())
    print(f"wrote {len(rows)} {args.kind} predictions to {args.out}", file=sys.stderr)
    return 0


def add_parsers(sub: argparse._SubParsersAction) -> None:
    pr = sub.add_parser("predict", help="write moment_detr-format predictions for a split")
    pr.add_argument("--checkpoint", required=True, help="run directory or checkpoint directory")
    pr.add_argument("--split", default="test", choices=["train", "val", "test"])
    pr.add_argument("--out", required=True, help="predictions JSONL")
    pr.add_argument("--gt-out", help="also write the split's ground truth JSONL")
    pr.add_argument("--control", choices=["none", "shuffled-queries"], default="none",
                    help="shuffled-queries: each sentence replaced by one of another video (language control)")
    pr.add_argument("--control-seed", type=SEED, default=None, help="seed of the shuffle (default: the tables' fixed seed)")
    pr.add_argument("--quiet", action="store_true")
    pr.add_argument("overrides", nargs="*", help="data.* / eval.* / model.rank_by overrides (e.g. data.test=other.jsonl)")
    pr.set_defaults(func=cmd_predict)

    e = sub.add_parser("evaluate", help="score a predictions JSONL against a ground-truth JSONL")
    e.add_argument("predictions")
    e.add_argument("ground_truth")
    e.add_argument("--protocol", default="charades", choices=["charades", "didemo", "anet"])
    e.add_argument("--nms", type=nms_arg, default=None, help="none, tall (m-0.05) or a threshold")
    e.add_argument("--hit", default=">=", choices=[">=", ">"], help="IoU hit rule")
    e.add_argument("--json", action="store_true")
    e.set_defaults(func=cmd_evaluate)

    b = sub.add_parser("baseline", help="controls: random, prior, oracle (ceiling), blind probes (saliency, probe), "
                       "simulator oracles (oracle-bow, oracle-sentence)")
    b.add_argument("kind", choices=BASELINE_KINDS)
    b.add_argument("--data", help="config whose data (features for the probes), splits and proposal grid to use")
    b.add_argument("--split", default="test", choices=["train", "val", "test"])
    b.add_argument("--gt", help="ground-truth JSONL (instead of the config's split)")
    b.add_argument("--train", help="train ground truth for the prior")
    b.add_argument("--protocol", choices=["charades", "didemo", "anet"], help="default: the config's eval.protocol")
    b.add_argument("--out", required=True)
    b.add_argument("overrides", nargs="*", help="section.key=value (e.g. model.stride_frames=6)")
    b.set_defaults(func=cmd_baseline)
