"""The ``vlanet`` command.  Only this module prints; library code logs.

Exit codes: 0 success, 2 usage or input error (one line on stderr), 1 runtime failure.
Set VLANET_DEBUG=1 to see tracebacks.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

from vlanet.errors import InputError

BASELINE_KINDS = ("random", "prior", "oracle")  # vlanet.eval.baselines (kept here: importing it loads numpy)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _abs_data_paths(cfg) -> None:
    """Make data paths absolute so a run directory works from any working directory."""
    for name in ("features", "train", "val", "test", "word_vectors"):
        v = getattr(cfg.data, name)
        if v:
            setattr(cfg.data, name, str(Path(v).expanduser().resolve()))


def _metrics_table(rows: dict[str, dict[str, float]]) -> str:
    from vlanet.eval.evaluate import format_table

    return format_table(rows)


# -- train ------------------------------------------------------------------------------------
def cmd_train(args: argparse.Namespace) -> int:
    from vlanet.config import load_config
    from vlanet.train.loop import protocol_for, train

    if args.config and "=" in args.config and not Path(args.config).exists():
        args.overrides, args.config = [args.config, *args.overrides], None
    if args.resume:
        run = Path(args.resume)
        if not (run / "config.yaml").is_file():
            raise InputError(f"{run}: not a run directory (no config.yaml) -- nothing to resume")
        cfg = load_config(run / "config.yaml", args.overrides)
    else:
        cfg = load_config(args.config, args.overrides)
        _abs_data_paths(cfg)
        run = Path(args.run_dir or f"runs/{cfg.model.name}-{time.strftime('%Y%m%d-%H%M%S')}")
        if (run / "checkpoints").exists():
            raise InputError(f"{run}: run directory already holds checkpoints (use --resume {run} or another --run-dir)")
    progress = not args.quiet

    def on_epoch(rec: dict[str, Any]) -> None:
        if args.quiet:
            return
        val = rec.get("val") or {}
        print(f"epoch {rec['epoch']:3d}  loss {rec['loss']:.4f}  c+ {rec['pos_score']:.3f}  c- {rec['neg_score']:.3f}"
              + (f"  val {cfg.train.select_metric} {val.get(cfg.train.select_metric, float('nan')):.2f}"
                 f"  mIoU {val.get('mIoU', float('nan')):.2f}" if val else "")
              + f"  ({rec['train_seconds']:.1f}s)", file=sys.stderr, flush=True)

    res = train(cfg, run, resume=bool(args.resume), progress=progress, on_epoch=on_epoch)
    if res.test is not None:
        print(f"\nTest split ({protocol_for(cfg).describe()}; model NMS "
              f"{cfg.eval.nms_threshold:g}, top-{cfg.eval.topk}); run took {res.seconds:.0f}s\n")
        print(_metrics_table({"Random (same proposals, same NMS)": res.random, "VLANet": res.test}))
    print(f"\nrun directory: {res.run_dir}")
    if args.json:
        print(json.dumps({"run_dir": str(res.run_dir), "test": res.test, "random": res.random}))
    return 0


# -- predict ----------------------------------------------------------------------------------
def cmd_predict(args: argparse.Namespace) -> int:
    import torch

    from vlanet.checkpoint import load_model
    from vlanet.config import apply_override, validate
    from vlanet.data.annotations import write_ground_truth, write_jsonl
    from vlanet.data.loading import load_splits
    from vlanet.predict import predict_dataset
    from vlanet.train.loop import resolve_device

    model, cfg, words, _ = load_model(args.checkpoint)
    for item in args.overrides:
        if not item.startswith(("data.", "eval.")):
            raise InputError(f"override '{item}': predict accepts data.* and eval.* overrides only")
        apply_override(cfg, item)
    validate(cfg, "overrides")
    device = resolve_device(cfg.train.device)
    model.to(device)
    need = ("train", "val") if args.split in ("train", "val") else (args.split,)
    splits = load_splits(cfg, need=need, words=words)
    ds = getattr(splits, args.split)
    if ds is None:
        raise InputError(f"the checkpoint's dataset has no '{args.split}' split")
    if splits.feature_dim != model.proposal_encoder.fc.in_features:
        raise InputError(f"features have dim {splits.feature_dim}, the checkpoint expects {model.proposal_encoder.fc.in_features}")
    if cfg.train.threads:
        torch.set_num_threads(cfg.train.threads)
    out = predict_dataset(model, ds, cfg.eval, device, progress=not args.quiet)
    write_jsonl(args.out, out.rows.values())
    if args.gt_out:
        write_ground_truth(args.gt_out, ds.queries)
    print(f"wrote {len(out.rows)} predictions to {args.out}" + (f" and ground truth to {args.gt_out}" if args.gt_out else ""),
          file=sys.stderr)
    return 0


# -- evaluate ---------------------------------------------------------------------------------
def _nms_arg(v: str) -> float | str | None:
    if v == "none":
        return None
    if v == "tall":
        return "tall"
    try:
        t = float(v)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--nms must be none, tall or a threshold in [0, 1], got {v!r}") from None
    if not 0 <= t <= 1:
        raise argparse.ArgumentTypeError(f"--nms threshold must be in [0, 1], got {v}")
    return t


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


# -- data -------------------------------------------------------------------------------------
def cmd_data_synthetic(args: argparse.Namespace) -> int:
    import h5py

    from vlanet.data.annotations import write_ground_truth
    from vlanet.data.synthetic import SyntheticSpec, generate
    from vlanet.data.vocab import save_word_vectors
    from vlanet.io import atomic_path, atomic_write_text

    spec = SyntheticSpec(seed=args.seed, n_train_videos=args.train_videos, n_test_videos=args.test_videos, dim=args.dim)
    syn = generate(spec)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(out / "features.h5") as tmp:
        with h5py.File(tmp, "w") as f:
            for k, v in syn.time.attrs().items():
                f.attrs[k] = v
            for vid in syn.store.ids():
                f.create_dataset(vid, data=syn.store.get(vid))
    for split, qs in syn.splits.items():
        write_ground_truth(out / f"{split}.jsonl", qs)
    save_word_vectors(out / "word_vectors.npz", syn.words)
    atomic_write_text(out / "config.yaml", (
        "# Train on the files written by `vlanet data synthetic` like any dataset:\n"
        f"#   vlanet train {out / 'config.yaml'}\n"
        "data:\n  source: files\n"
        f"  features: {(out / 'features.h5').resolve()}\n  train: {(out / 'train.jsonl').resolve()}\n"
        f"  test: {(out / 'test.jsonl').resolve()}\n  word_vectors: {(out / 'word_vectors.npz').resolve()}\n"))
    n_q = {k: len(v) for k, v in syn.splits.items()}
    print(f"wrote {out}: features.h5 ({len(list(syn.store.ids()))} videos, dim {spec.dim}), "
          f"train.jsonl ({n_q['train']} queries), test.jsonl ({n_q['test']}), word_vectors.npz "
          f"({len(syn.words.words)} words), config.yaml", file=sys.stderr)
    return 0


def cmd_data_prepare(args: argparse.Namespace) -> int:
    from vlanet.data.annotations import write_ground_truth
    from vlanet.data import prepare as P

    if args.dataset == "charades-sta":
        if not args.durations:
            raise InputError("data prepare charades-sta: --durations Charades_v1_{train,test}.csv is required")
        durations: dict[str, float] = {}
        for f in args.durations:
            durations.update(P.read_charades_durations(f))
        queries, rep = P.prepare_charades(args.anno, durations, args.end_policy)
    elif args.dataset == "didemo":
        queries, rep = P.prepare_didemo(args.anno)
    else:
        queries, rep = P.prepare_activitynet(args.anno)
    if rep.clipped or rep.dropped_past_end or rep.dropped_reversed:
        print(f"vlanet: warning: {args.anno}: {rep.clipped} end(s) past the duration clipped, "
              f"{rep.dropped_past_end} dropped (end policy '{args.end_policy}'), "
              f"{rep.dropped_reversed} line(s) with start >= end dropped", file=sys.stderr)
    write_ground_truth(args.out, queries)
    print(f"wrote {args.out}: {rep.summary()}", file=sys.stderr)
    return 0


def cmd_baseline(args: argparse.Namespace) -> int:
    from vlanet.config import load_config
    from vlanet.data.annotations import read_ground_truth, write_jsonl
    from vlanet.data.dataset import ProposalSpec
    from vlanet.eval.baselines import didemo_baseline, grid_baseline

    cfg = load_config(args.data, args.overrides)
    gt_path = args.gt or getattr(cfg.data, args.split)
    if not gt_path:
        raise InputError(f"baseline: no ground truth for split '{args.split}' (give --gt or set data.{args.split})")
    queries = read_ground_truth(gt_path)
    train_path = args.train or cfg.data.train
    train = read_ground_truth(train_path) if (args.kind == "prior" and train_path) else None
    if args.kind == "prior" and train is None:
        raise InputError("baseline prior: needs the train split (give --train or set data.train)")
    if args.protocol == "didemo":
        rows = didemo_baseline(args.kind, queries, train, cfg.train.seed)
    else:
        spec = ProposalSpec.from_config(cfg)
        rows = grid_baseline(args.kind, queries, train, spec.stride_s, spec.windows_s, spec.overflow, cfg.eval, cfg.train.seed)
    write_jsonl(args.out, rows.values())
    print(f"wrote {len(rows)} {args.kind} predictions to {args.out}", file=sys.stderr)
    return 0


def cmd_visualize(args: argparse.Namespace) -> int:
    from vlanet.viz import plot_curves

    plot_curves(args.run_dir, args.out)
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="vlanet", description="VLANet: weakly-supervised video moment retrieval.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    t = sub.add_parser("train", help="train VLANet (default: the embedded synthetic dataset)")
    t.add_argument("config", nargs="?", help="YAML config (see configs/)")
    t.add_argument("overrides", nargs="*", help="section.key=value overrides, e.g. train.epochs=5")
    t.add_argument("--run-dir", help="where to write config, metrics.jsonl and checkpoints")
    t.add_argument("--resume", metavar="RUN_DIR", help="continue an interrupted run")
    t.add_argument("--json", action="store_true", help="last stdout line: a JSON object with the test metrics")
    t.add_argument("--quiet", action="store_true", help="no progress bars or per-epoch lines")
    t.set_defaults(func=cmd_train)

    pr = sub.add_parser("predict", help="write moment_detr-format predictions for a split")
    pr.add_argument("--checkpoint", required=True, help="run directory or checkpoint directory")
    pr.add_argument("--split", default="test", choices=["train", "val", "test"])
    pr.add_argument("--out", required=True, help="predictions JSONL")
    pr.add_argument("--gt-out", help="also write the split's ground truth JSONL")
    pr.add_argument("--quiet", action="store_true")
    pr.add_argument("overrides", nargs="*", help="data.* / eval.* overrides (e.g. data.test=other.jsonl)")
    pr.set_defaults(func=cmd_predict)

    e = sub.add_parser("evaluate", help="score a predictions JSONL against a ground-truth JSONL")
    e.add_argument("predictions")
    e.add_argument("ground_truth")
    e.add_argument("--protocol", default="charades", choices=["charades", "didemo", "anet"])
    e.add_argument("--nms", type=_nms_arg, default=None, help="none (default), tall (m-0.05) or a threshold")
    e.add_argument("--hit", default=">=", choices=[">=", ">"], help="IoU hit rule (default >=)")
    e.add_argument("--json", action="store_true")
    e.set_defaults(func=cmd_evaluate)

    d = sub.add_parser("data", help="dataset utilities")
    dsub = d.add_subparsers(dest="data_command", required=True, parser_class=_Parser)
    s = dsub.add_parser("synthetic", help="write the embedded synthetic dataset to disk")
    s.add_argument("--out", required=True)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--train-videos", type=int, default=600)
    s.add_argument("--test-videos", type=int, default=200)
    s.add_argument("--dim", type=int, default=128)
    s.set_defaults(func=cmd_data_synthetic)
    pp = dsub.add_parser("prepare", help="convert official annotations to ground-truth JSONL")
    pp.add_argument("dataset", choices=["charades-sta", "didemo", "activitynet"])
    pp.add_argument("--anno", required=True, help="charades_sta_*.txt, {val,test}_data.json or ActivityNet {train,val,test}.json")
    pp.add_argument("--durations", nargs="+", help="Charades_v1_*.csv (Charades-STA only)")
    pp.add_argument("--end-policy", default="clip", choices=["clip", "drop", "keep"],
                    help="ends past the video duration (Charades-STA; default clip)")
    pp.add_argument("--out", required=True)
    pp.set_defaults(func=cmd_data_prepare)

    b = sub.add_parser("baseline", help="blind baselines: random, prior, oracle")
    b.add_argument("kind", choices=BASELINE_KINDS)
    b.add_argument("--data", help="config whose data.train/data.test (and proposal grid) to use")
    b.add_argument("--split", default="test", choices=["train", "val", "test"])
    b.add_argument("--gt", help="ground-truth JSONL (instead of the config's split)")
    b.add_argument("--train", help="train ground truth for the prior")
    b.add_argument("--protocol", default="charades", choices=["charades", "didemo", "anet"])
    b.add_argument("--out", required=True)
    b.add_argument("overrides", nargs="*", help="section.key=value (e.g. model.stride_frames=6)")
    b.set_defaults(func=cmd_baseline)

    v = sub.add_parser("visualize", help="figures from a run directory")
    vsub = v.add_subparsers(dest="figure", required=True, parser_class=_Parser)
    c = vsub.add_parser("curves", help="Fig. 4: mean positive/negative score per epoch")
    c.add_argument("run_dir")
    c.add_argument("--out", required=True, help=".png or .svg")
    c.set_defaults(func=cmd_visualize)
    return p


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="vlanet: %(message)s")
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except InputError as e:
        print(f"vlanet: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("vlanet: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # runtime failure: one line unless debugging
        if os.environ.get("VLANET_DEBUG"):
            raise
        print(f"vlanet: runtime error: {type(e).__name__}: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
