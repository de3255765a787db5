"""The ``vlanet`` command.  Only this module prints; library code logs.

Exit codes: 0 success, 2 usage or input error (one line on stderr), 1 runtime failure.
Set VLANET_DEBUG=1 to see tracebacks.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from vlanet.errors import InputError, RunLocked
from vlanet.io import check_outputs

# vlanet.eval.calibrate's controls (kept here: importing it loads numpy)
BASELINE_KINDS = ("random", "prior", "oracle", "saliency", "probe", "oracle-bow", "oracle-sentence")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _data_inputs(cfg) -> dict[str, str]:
    """The data files a config reads, named as options, for ``check_outputs``."""
    from vlanet.config import data_paths

    return {f"data.{k}": v for k, v in data_paths(cfg).items()}


def _config_and_overrides(args: argparse.Namespace) -> None:
    """``vlanet train key=value`` with no config: the first positional is an override."""
    if args.config and "=" in args.config and not Path(args.config).exists():
        args.overrides, args.config = [args.config, *args.overrides], None


def _metrics_table(rows: dict[str, dict[str, float]]) -> str:
    from vlanet.eval.evaluate import format_table

    return format_table(rows)


# -- train ------------------------------------------------------------------------------------
def cmd_train(args: argparse.Namespace) -> int:
    from vlanet.config import load_config, resolve_data_paths
    from vlanet.eval.controls import gain_key, language_gain
    from vlanet.train.loop import protocol_for, train

    _config_and_overrides(args)
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

    def on_epoch(rec: dict[str, Any]) -> None:
        if args.quiet:
            return
        val = rec.get("val") or {}
        print(f"epoch {rec['epoch']:3d}  loss {rec['loss']:.4f}  c+ {rec['pos_score']:.3f}  c- {rec['neg_score']:.3f}"
              + (f"  val {cfg.train.select_metric} {val.get(cfg.train.select_metric, float('nan')):.2f}"
                 f"  mIoU {val.get('mIoU', float('nan')):.2f}" if val else "")
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
    gain = language_gain(res.test, res.test_shuffled, cfg.eval.protocol)
    if res.test is not None:
        print(f"\nTest split ({protocol_for(cfg).describe()}; model NMS "
              f"{cfg.eval.nms_threshold:g}, top-{cfg.eval.topk}); run took {res.seconds:.0f}s\n")
        label = {"vlanet": "VLANet", "tga": "TGA"}[cfg.model.name]
        print(_metrics_table({"Random (same proposals, same NMS)": res.random, label: res.test,
                              f"{label}, shuffled queries (control)": res.test_shuffled}))
        print(f"\nlanguage gain ({gain_key(cfg.eval.protocol)}, true minus shuffled queries): {gain:+.2f}")
    print(f"\nrun directory: {res.run_dir}")
    if args.json:
        print(json.dumps({"run_dir": str(res.run_dir), "test": res.test, "random": res.random,
                          "test_shuffled": res.test_shuffled, "language_gain": gain}))
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

    model, cfg, words, meta = load_model(args.checkpoint)
    check_outputs({"--out": args.out, "--gt-out": args.gt_out}, _data_inputs(cfg))
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
    if splits.feature_dim != model.proposal_encoder.fc.in_features:
        raise InputError(f"{cfg.data.features or 'features'}: features have dim {splits.feature_dim}, "
                         f"the checkpoint expects {model.proposal_encoder.fc.in_features}")
    trained_time = meta.get("time")
    if trained_time and trained_time != splits.time.attrs():
        raise InputError(f"{cfg.data.features or 'features'}: time convention {splits.time.attrs()} differs from the "
                         f"checkpoint's {trained_time} (set data.time_convention / fps / frames_per_row / seconds_per_row)")
    if cfg.train.threads:
        torch.set_num_threads(cfg.train.threads)
    if args.control == "shuffled-queries":
        from vlanet.eval.controls import SHUFFLE_SEED
        from vlanet.predict import shuffled_dataset

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


def cmd_report(args: argparse.Namespace) -> int:
    from vlanet.data.annotations import read_ground_truth, read_predictions
    from vlanet.eval.evaluate import Protocol, evaluate_rows
    from vlanet.io import atomic_write_text
    from vlanet.report import render

    check_outputs({"--out": args.out}, {"PREDICTIONS": args.predictions, "--gt": args.gt})

    proto = Protocol(args.protocol, args.nms, args.hit)
    gts = read_ground_truth(args.gt)
    preds = read_predictions(args.predictions)
    metrics = evaluate_rows(preds, gts, proto, args.predictions)
    videos = Path(args.videos) if args.videos else None
    if videos is not None and not videos.is_dir():
        raise InputError(f"{videos}: --videos must be a directory of <video id>.mp4 files")
    out = Path(args.out)
    text = render(preds, gts, metrics, f"{args.predictions} against {args.gt}; {proto.describe()}", out, videos, args.limit)
    atomic_write_text(out, text)
    print(f"wrote {out} ({len(gts)} queries)", file=sys.stderr)
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

    check_outputs({"--out": args.out}, {"--anno": args.anno, "--durations": args.durations})

    if args.dataset == "charades-sta":
        if not args.durations:
            raise InputError("data prepare charades-sta: --durations Charades_v1_{train,test}.csv is required")
        durations: dict[str, float] = {}
        for f in args.durations:
            durations.update(P.read_charades_durations(f))
        queries, rep = P.prepare_charades(args.anno, durations, args.end_policy)
    elif args.dataset == "charades-cd":
        queries, rep = P.prepare_charades_cd(args.anno, args.end_policy)
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


def cmd_data_simulate(args: argparse.Namespace) -> int:
    from vlanet.data.annotations import read_ground_truth
    from vlanet.data.features import TimeConvention
    from vlanet.data.simulate import SimulationSpec, simulate
    from vlanet.data.vocab import load_word_vectors, tokenize

    check_outputs({"--out": args.out}, {"--gt": args.gt, "--word-vectors": args.word_vectors})

    queries = [q for path in args.gt for q in read_ground_truth(path)]
    words = None
    if args.word_vectors:
        words = load_word_vectors(args.word_vectors, {t for q in queries for t in tokenize(q.query)})
    spec = SimulationSpec(**{f.name: getattr(args, f.name) for f in dataclasses.fields(SimulationSpec)})
    time_conv = (TimeConvention("seconds", seconds_per_row=args.seconds_per_row) if args.seconds_per_row > 0
                 else TimeConvention("fps", args.fps, args.frames_per_row))
    t0 = time.perf_counter()
    info = simulate(queries, args.out, spec, words, time_conv, progress=not args.quiet)
    print(f"wrote {args.out}: {info['videos']} videos, {info['rows']} rows of {spec.dim}-d {spec.dtype} "
          f"({time_conv.kind}), from {info['queries']} queries in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return 0


def cmd_features_inspect(args: argparse.Namespace) -> int:
    from vlanet.data.features import inspect_store

    info = inspect_store(args.path, limit=args.limit, check=args.check)
    if args.json:
        print(json.dumps(info))
        return 0
    print(f"{info['path']}: {info['format']}, {info['videos']} videos, dim {info['dim']}, "
          f"rows min/median/max {info['rows_min']}/{info['rows_median']:g}/{info['rows_max']}, dtype {info['dtype']}"
          + (", every video read and valid" if info["checked"] else ""))
    for k, v in info["attrs"].items():
        print(f"  attr {k} = {v}")
    for item in info["examples"]:
        print(f"  {item['id']}: {item['shape']}")
    return 0


def cmd_features_extract(args: argparse.Namespace) -> int:
    from vlanet.extract import extract_to_hdf5

    check_outputs({"--out": args.out}, {"VIDEO": [p for p in args.inputs if not Path(p).is_dir()],
                                        "--weights": args.weights})

    info = extract_to_hdf5(args.inputs, args.out, args.backbone, fps=args.fps, frames_per_row=args.frames_per_row,
                           batch_size=args.batch_size, device=args.device, weights=args.weights,
                           progress=not args.quiet)
    if info["rank"] == 0:
        print(f"wrote {args.out}: {info['videos']} videos ({info['extracted']} extracted, {info['skipped']} already done), "
              f"{info['dim']}-d {args.backbone} rows at {args.fps:g} fps x {args.frames_per_row} frame(s) per row",
              file=sys.stderr)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from vlanet.api import Predictor

    queries = list(args.query or [])
    if args.queries:
        qf = Path(args.queries)
        if not qf.is_file():
            raise InputError(f"{qf}: queries file not found")
        queries += [line.strip() for line in qf.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not queries:
        raise InputError("run: give a QUERY or --queries FILE (one sentence per line)")
    if args.topk < 1:
        raise InputError("run: --topk must be >= 1")
    check_outputs({"--plot": args.plot}, {"VIDEO": args.video, "--queries": args.queries})
    p = Predictor.from_pretrained(args.checkpoint, args.device)
    video = p.encode_video(args.video, fps=p.time.fps, frames_per_row=p.time.frames_per_row, weights=args.weights,
                           progress=not args.quiet)
    results = [p.predict(q, video, topk=args.topk, return_attention=bool(args.plot)) for q in queries]
    if args.plot:
        from vlanet.viz import plot_prediction

        plot_prediction(results, args.plot, title=Path(args.video).name)
    for r in results:
        r.pop("attention", None)
        if args.json:
            print(json.dumps(r))
        else:
            print(f"{r['query']}  ({r['duration']:.1f} s video)")
            for i, (s_, e_, sc) in enumerate(r["pred_relevant_windows"], 1):
                print(f"  {i}. {s_:7.2f} - {e_:7.2f} s   score {sc:.4f}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from vlanet.demo import launch

    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"vlanet: warning: serving on {args.host}: anyone who can reach this address can use the demo", file=sys.stderr)
    for e in args.example or []:
        if not Path(e).is_file():
            raise InputError(f"{e}: example video not found")
    launch(args.checkpoint, args.host, args.port, args.example, args.max_upload_mb, args.max_minutes, args.device)
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
    check_outputs({"--out": args.out}, _data_inputs(cfg))
    bed = load_bed(cfg, args.split, features=args.kind not in GRID_KINDS)
    rows = control_rows(args.kind, cfg, bed)
    write_jsonl(args.out, rows.values())
    print(f"wrote {len(rows)} {args.kind} predictions to {args.out}", file=sys.stderr)
    return 0


def cmd_data_calibrate(args: argparse.Namespace) -> int:
    from vlanet.config import load_config
    from vlanet.eval.calibrate import calibrate, calibration_table

    _config_and_overrides(args)
    cfg = load_config(args.config, args.overrides)
    res = calibrate(cfg, args.split, log=lambda m: print(m, file=sys.stderr, flush=True))
    print(json.dumps(res) if args.json else calibration_table(res))
    return 0


def cmd_visualize(args: argparse.Namespace) -> int:
    from vlanet import viz

    check_outputs({"--out": args.out}, {"RUN_DIR/metrics.jsonl": Path(args.run_dir) / "metrics.jsonl",
                                        "RUN_DIR/config.yaml": Path(args.run_dir) / "config.yaml"})

    if args.figure == "curves":
        viz.plot_curves(args.run_dir, args.out)
    else:
        result, gt = _query_result(args.run_dir, args.qid, args.split)
        if args.figure == "attention":
            viz.plot_attention(result, args.out)
        else:
            viz.plot_prediction([result], args.out, title=f"{result['vid']} (query {args.qid})", ground_truth=[gt])
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


def _query_result(run_dir: str, qid: str, split: str) -> tuple[dict[str, Any], list[list[float]]]:
    """Predict one query of a run's split with attention (Figs. 5-6)."""
    from vlanet.api import Predictor
    from vlanet.data.loading import load_splits

    p = Predictor.from_pretrained(run_dir)
    splits = load_splits(p.cfg, need=(split,) if split == "test" else ("train", "val"), words=p.words)
    ds = getattr(splits, split)
    if ds is None:
        raise InputError(f"{run_dir}: the run's dataset has no '{split}' split")
    match = [q for q in ds.queries if str(q.qid) == str(qid)]
    if not match:
        raise InputError(f"{run_dir}: no query with qid {qid!r} in the {split} split (e.g. {ds.queries[0].qid!r})")
    q = match[0]
    video = p.encode_features(ds.store.get(q.vid), q.duration, source=q.vid)
    result = p.predict(q.query, video, topk=5, return_attention=True)
    result["vid"] = q.vid
    return result, q.windows


def cmd_experiment(args: argparse.Namespace) -> int:
    from vlanet.experiments import run_table

    text = run_table(args.table, args.data, args.out, args.overrides, progress=not args.quiet,
                     log=lambda m: print(m, file=sys.stderr, flush=True), seeds=args.seeds)
    print(text)
    print(f"wrote {Path(args.out) / (args.table + '.md')}", file=sys.stderr)
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from vlanet.experiments import compare_runs

    print(compare_runs(args.run_dirs))
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
    pr.add_argument("--control", choices=["none", "shuffled-queries"], default="none",
                    help="shuffled-queries: each sentence replaced by one of another video (language control)")
    pr.add_argument("--control-seed", type=int, default=None, help="seed of the shuffle (default: the tables' fixed seed)")
    pr.add_argument("--quiet", action="store_true")
    pr.add_argument("overrides", nargs="*", help="data.* / eval.* / model.rank_by overrides (e.g. data.test=other.jsonl)")
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
    pp.add_argument("dataset", choices=["charades-sta", "charades-cd", "didemo", "activitynet"])
    pp.add_argument("--anno", required=True, help="charades_sta_*.txt, charades_{train,val,test_iid,test_ood}.json (Charades-CD), "
                    "{val,test}_data.json or ActivityNet {train,val,test}.json")
    pp.add_argument("--durations", nargs="+", help="Charades_v1_*.csv (Charades-STA only)")
    pp.add_argument("--end-policy", default="clip", choices=["clip", "drop", "keep"],
                    help="ends past the video duration (Charades-STA, Charades-CD; default clip)")
    pp.add_argument("--out", required=True)
    pp.set_defaults(func=cmd_data_prepare)

    sm = dsub.add_parser("simulate", help="simulated C3D-like features for real annotations (full-scale test bed)")
    sm.add_argument("--gt", nargs="+", required=True, help="ground-truth JSONL files (e.g. train and test)")
    sm.add_argument("--out", required=True, help="HDF5 file to write")
    sm.add_argument("--word-vectors", help="word vectors; when given, part of each word's appearance follows them")
    from vlanet.data.simulate import SIM_HELP, SimulationSpec

    for f in dataclasses.fields(SimulationSpec):
        opt = "--" + f.name.replace("_", "-")
        if f.name == "dtype":
            sm.add_argument(opt, default=f.default, choices=["float32", "float16"], help=SIM_HELP[f.name])
        else:
            sm.add_argument(opt, type=type(f.default), default=f.default, help=f"{SIM_HELP[f.name]} (default {f.default})")
    sm.add_argument("--fps", type=float, default=24.0)
    sm.add_argument("--frames-per-row", type=int, default=16)
    sm.add_argument("--seconds-per-row", type=float, default=0.0, help="> 0: rows of this many seconds (DiDeMo: 5)")
    sm.add_argument("--quiet", action="store_true")
    sm.set_defaults(func=cmd_data_simulate)

    ca = dsub.add_parser("calibrate", help="a bed's controls: random, prior, blind probes and (simulated) oracles")
    ca.add_argument("config", nargs="?", help="dataset config (default: the embedded synthetic dataset)")
    ca.add_argument("overrides", nargs="*", help="section.key=value overrides")
    ca.add_argument("--split", default="test", choices=["val", "test"])
    ca.add_argument("--json", action="store_true")
    ca.set_defaults(func=cmd_data_calibrate)

    fe = sub.add_parser("features", help="feature files")
    fsub = fe.add_subparsers(dest="features_cmd", required=True, parser_class=_Parser)
    fi = fsub.add_parser("inspect", help="ids, shapes, dims and attributes of a feature file or directory")
    fi.add_argument("path")
    fi.add_argument("--limit", type=int, default=5, help="example ids to show")
    fi.add_argument("--check", action="store_true", help="read every video: NaN/inf, zero rows, dims")
    fi.add_argument("--json", action="store_true")
    fi.set_defaults(func=cmd_features_inspect)

    fx = fsub.add_parser("extract", help="features from video files (PyAV + an image backbone) into one HDF5 file")
    fx.add_argument("inputs", nargs="+", metavar="VIDEO_OR_DIR")
    fx.add_argument("--backbone", default="efficientnet-lite0", help="efficientnet-lite0 (offline), vgg16-fc7, r3d-18")
    fx.add_argument("--out", required=True)
    fx.add_argument("--fps", type=float, default=2.0, help="frames sampled per second")
    fx.add_argument("--frames-per-row", type=int, default=1, help="frames averaged (or one 3D clip) per feature row")
    fx.add_argument("--batch-size", type=int, default=32)
    fx.add_argument("--weights", help="backbone weights (.safetensors or a .pth state dict); required for vgg16-fc7, r3d-18")
    fx.add_argument("--device", default="cpu")
    fx.add_argument("--quiet", action="store_true")
    fx.set_defaults(func=cmd_features_extract)

    rn = sub.add_parser("run", help="moments for sentences in one video file, from a checkpoint")
    rn.add_argument("video")
    rn.add_argument("query", nargs="*", help="one or more sentences")
    rn.add_argument("--queries", help="a text file with one sentence per line")
    rn.add_argument("--checkpoint", required=True, help="run directory or checkpoint directory")
    rn.add_argument("--topk", type=int, default=5)
    rn.add_argument("--json", action="store_true", help="one JSON object per query on stdout")
    rn.add_argument("--plot", help="write a timeline figure (.png or .svg)")
    rn.add_argument("--weights", help="backbone weights, for backbones that need them")
    rn.add_argument("--device", default="cpu")
    rn.add_argument("--quiet", action="store_true")
    rn.set_defaults(func=cmd_run)

    dm = sub.add_parser("demo", help="local web demo (Gradio; pip install 'vlanet[demo]')")
    dm.add_argument("--checkpoint", required=True)
    dm.add_argument("--host", default="127.0.0.1", help="bind address (default: localhost only)")
    dm.add_argument("--port", type=int, default=7860)
    dm.add_argument("--example", action="append", help="an example video offered in the page (repeatable)")
    dm.add_argument("--max-upload-mb", type=float, default=200.0)
    dm.add_argument("--max-minutes", type=float, default=90.0, help="longest video accepted")
    dm.add_argument("--device", default="cpu")
    dm.set_defaults(func=cmd_demo)

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

    v = sub.add_parser("visualize", help="figures from a run directory")
    vsub = v.add_subparsers(dest="figure", required=True, parser_class=_Parser)
    c = vsub.add_parser("curves", help="Fig. 4: mean positive/negative score per epoch")
    c.add_argument("run_dir")
    c.add_argument("--out", required=True, help=".png or .svg")
    c.set_defaults(func=cmd_visualize)
    for fig, text in (("attention", "Fig. 5: words x video elements after CCA, for one query"),
                      ("timeline", "Fig. 6: proposals by attention, top-2 predictions and ground truth")):
        f = vsub.add_parser(fig, help=text)
        f.add_argument("run_dir")
        f.add_argument("--qid", required=True, help="query id in the run's split")
        f.add_argument("--split", default="test", choices=["train", "val", "test"])
        f.add_argument("--out", required=True, help=".png or .svg")
        f.set_defaults(func=cmd_visualize)

    rp = sub.add_parser("report", help="a static HTML report: metrics and a timeline per query")
    rp.add_argument("predictions")
    rp.add_argument("--gt", required=True)
    rp.add_argument("--videos", help="folder with <video id>.mp4: adds a player that seeks to each prediction")
    rp.add_argument("--out", required=True)
    rp.add_argument("--protocol", default="charades", choices=["charades", "didemo", "anet"])
    rp.add_argument("--nms", type=_nms_arg, default=None)
    rp.add_argument("--hit", default=">=", choices=[">=", ">"])
    rp.add_argument("--limit", type=int, default=0, help="show only the first N queries (0 = all)")
    rp.set_defaults(func=cmd_report)

    x = sub.add_parser("experiment", help="reproduce a table of the paper (runs, resumes, writes Markdown)")
    x.add_argument("table", choices=["table1", "table2", "table3"])
    x.add_argument("--data", help="dataset config (default: the embedded synthetic dataset)")
    x.add_argument("--out", default="runs/experiments", help="folder for the runs and the table")
    x.add_argument("--seeds", type=int, default=1, help="train every model row with seeds 0..N-1; mean ± std (default 1)")
    x.add_argument("--quiet", action="store_true")
    x.add_argument("overrides", nargs="*", help="section.key=value applied to every run (e.g. train.epochs=4)")
    x.set_defaults(func=cmd_experiment)

    cp = sub.add_parser("compare", help="a Markdown table from finished run directories")
    cp.add_argument("run_dirs", nargs="+")
    cp.set_defaults(func=cmd_compare)
    return p


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="vlanet: %(message)s")
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:  # overrides may also follow the options: `vlanet experiment table3 --data X train.epochs=2`
        if isinstance(getattr(args, "overrides", None), list) and all(
                "=" in e and not e.startswith("-") for e in extra):
            args.overrides += extra
        else:
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
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
