"""`vlanet data ...`: prepare official annotations, write the synthetic set, simulate and calibrate beds."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time

from vlanet.cli.common import (
    POSITIVE,
    POSITIVE_INT,
    SEED,
    Parser,
    config_and_overrides,
    number,
)
from vlanet.utils.errors import InputError
from vlanet.utils.io import check_outputs


def cmd_data_synthetic(args: argparse.Namespace) -> int:
    from vlanet.data.synthetic import SyntheticSpec, write_files

    spec = SyntheticSpec(seed=args.seed, n_train_videos=args.train_videos, n_test_videos=args.test_videos, dim=args.dim)
    info = write_files(spec, args.out)
    print(f"wrote {args.out}: features.h5 ({info['videos']} videos, dim {spec.dim}), "
          f"train.jsonl ({info['train']} queries), test.jsonl ({info['test']}), word_vectors.npz "
          f"({info['words']} words), config.yaml", file=sys.stderr)
    return 0


def cmd_data_prepare(args: argparse.Namespace) -> int:
    from vlanet.data import prepare as P
    from vlanet.data.annotations import write_ground_truth

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
    from vlanet.data.simulate import SimulationSpec, simulate
    from vlanet.data.timing import TimeConvention
    from vlanet.data.vocab import load_word_vectors, tokenize

    check_outputs({"--out": args.out}, {"--gt": args.gt, "--word-vectors": args.word_vectors})

    splits = [read_ground_truth(path) for path in args.gt]
    queries = [q for split in splits for q in split]
    words = None
    if args.word_vectors:
        words = load_word_vectors(args.word_vectors, {t for q in queries for t in tokenize(q.query)})
    spec = SimulationSpec(**{f.name: getattr(args, f.name) for f in dataclasses.fields(SimulationSpec)})
    time_conv = (TimeConvention("seconds", seconds_per_row=args.seconds_per_row) if args.seconds_per_row > 0
                 else TimeConvention("fps", args.fps, args.frames_per_row))
    t0 = time.perf_counter()
    info = simulate(queries, args.out, spec, words, time_conv, progress=not args.quiet, splits=splits)
    print(f"wrote {args.out}: {info['videos']} videos, {info['rows']} rows of {spec.dim}-d {spec.dtype} "
          f"({time_conv.kind}), from {info['queries']} queries in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return 0


def cmd_data_calibrate(args: argparse.Namespace) -> int:
    from vlanet.config import load_config
    from vlanet.eval.calibrate import calibrate, calibration_table

    config_and_overrides(args)
    cfg = load_config(args.config, args.overrides)
    res = calibrate(cfg, args.split, log=lambda m: print(m, file=sys.stderr, flush=True))
    print(json.dumps(res) if args.json else calibration_table(res))
    return 0


def sim_type(name: str, default: object):
    """The parser type of a ``SimulationSpec`` option: widths positive, other numbers finite
    (``SimulationSpec.check`` then says which range each one needs)."""
    if isinstance(default, str):
        return str
    if isinstance(default, int):
        return POSITIVE_INT if name in ("dim", "latent_dim") else SEED if name == "seed" else number(int)
    return number(float)


def add_parsers(sub: argparse._SubParsersAction) -> None:
    d = sub.add_parser("data", help="dataset utilities")
    dsub = d.add_subparsers(dest="data_command", required=True, parser_class=Parser)
    s = dsub.add_parser("synthetic", help="write the embedded synthetic dataset to disk")
    s.add_argument("--out", required=True)
    from vlanet.config import DataConfig

    syn = DataConfig()  # the embedded default's size
    s.add_argument("--seed", type=SEED, default=syn.synthetic_seed)
    s.add_argument("--train-videos", type=POSITIVE_INT, default=syn.synthetic_train_videos)
    s.add_argument("--test-videos", type=POSITIVE_INT, default=syn.synthetic_test_videos)
    s.add_argument("--dim", type=POSITIVE_INT, default=syn.synthetic_dim)
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
    from vlanet.data.appearance import FILL_POSITIONS, SIM_HELP, SimulationSpec

    for f in dataclasses.fields(SimulationSpec):
        opt = "--" + f.name.replace("_", "-")
        if f.name in ("dtype", "fill_positions"):
            sm.add_argument(opt, default=f.default, choices={"dtype": ["float32", "float16"],
                                                              "fill_positions": list(FILL_POSITIONS)}[f.name],
                            help=f"{SIM_HELP[f.name]}")
        else:
            sm.add_argument(opt, type=sim_type(f.name, f.default), default=f.default, help=f"{SIM_HELP[f.name]}")
    sm.add_argument("--fps", type=POSITIVE, default=24.0)
    sm.add_argument("--frames-per-row", type=POSITIVE_INT, default=16)
    sm.add_argument("--seconds-per-row", type=number(float, 0, strict=False), default=0.0, help="> 0: rows of this many seconds (DiDeMo: 5)")
    sm.add_argument("--quiet", action="store_true")
    sm.set_defaults(func=cmd_data_simulate)

    ca = dsub.add_parser("calibrate", help="a bed's controls: random, prior, blind probes and (simulated) oracles")
    ca.add_argument("config", nargs="?", help="dataset config (default: the embedded synthetic dataset)")
    ca.add_argument("overrides", nargs="*", help="section.key=value overrides")
    ca.add_argument("--split", default="test", help="val, test, or the name of one of data.extra_tests")
    ca.add_argument("--json", action="store_true")
    ca.set_defaults(func=cmd_data_calibrate)
