"""`vlanet run`, `vlanet demo`, `vlanet visualize` and `vlanet report`: a user's video, the figures, the HTML report."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from vlanet.cli.common import (
    COUNT,
    POSITIVE,
    POSITIVE_INT,
    Parser,
    nms_arg,
    port,
)
from vlanet.utils.errors import InputError
from vlanet.utils.io import check_outputs


def cmd_run(args: argparse.Namespace) -> int:
    from vlanet.api import Predictor
    from vlanet.utils.readers import read_text, require_file

    require_file(args.video, "video file")
    queries = list(args.query or [])
    if args.queries:
        found = [line.strip() for line in read_text(args.queries, "queries file").splitlines() if line.strip()]
        if not found:
            raise InputError(f"{args.queries}: no sentence in the queries file (one per line)")
        queries += found
    if not queries:
        raise InputError("run: give a QUERY or --queries FILE (one sentence per line)")
    if args.topk < 1:
        raise InputError("run: --topk must be >= 1")
    check_outputs({"--plot": args.plot}, {"VIDEO": args.video, "--queries": args.queries})
    p = Predictor.from_pretrained(args.checkpoint, args.device)
    video = p.encode_video(args.video, weights=args.weights, progress=not args.quiet)  # the checkpoint's fps
    results = [p.predict(q, video, topk=args.topk, return_attention=bool(args.plot)) for q in queries]
    if args.plot:
        from vlanet.apps.viz import plot_prediction

        plot_prediction(results, args.plot, title=Path(args.video).name)
    for r in results:
        r.pop("attention", None)
        if r["unknown_words"]:
            print(f"vlanet: warning: {r['query']!r}: not in the checkpoint's vocabulary, ignored: "
                  f"{', '.join(r['unknown_words'])}", file=sys.stderr)
        if args.json:
            print(json.dumps(r))
        else:
            print(f"{r['query']}  ({r['duration']:.1f} s video)")
            for i, (s_, e_, sc) in enumerate(r["pred_relevant_windows"], 1):
                print(f"  {i}. {s_:7.2f} - {e_:7.2f} s   score {sc:.4f}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from vlanet.apps.demo import launch

    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"vlanet: warning: serving on {args.host}: anyone who can reach this address can use the demo", file=sys.stderr)
    for e in args.example or []:
        if not Path(e).is_file():
            raise InputError(f"{e}: example video not found")
    launch(args.checkpoint, args.host, args.port, args.example, args.max_upload_mb, args.max_minutes, args.device)
    return 0


def cmd_visualize(args: argparse.Namespace) -> int:
    from vlanet.apps import viz

    check_outputs({"--out": args.out}, {"RUN_DIR/metrics.jsonl": Path(args.run_dir) / "metrics.jsonl",
                                        "RUN_DIR/config.yaml": Path(args.run_dir) / "config.yaml"})

    if args.figure == "curves":
        viz.plot_curves(args.run_dir, args.out)
    else:
        from vlanet.api import Predictor

        result, gt = Predictor.from_pretrained(args.run_dir).explain(args.qid, args.split)
        if args.figure == "attention":
            viz.plot_attention(result, args.out)
        else:
            viz.plot_prediction([result], args.out, title=f"{result['vid']} (query {args.qid})", ground_truth=[gt])
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from vlanet.apps.report import render
    from vlanet.data.annotations import read_ground_truth, read_predictions
    from vlanet.eval.evaluate import Protocol, evaluate_rows
    from vlanet.utils.io import atomic_write_text

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


def add_parsers(sub: argparse._SubParsersAction) -> None:
    rn = sub.add_parser("run", help="moments for sentences in one video file, from a checkpoint")
    rn.add_argument("video")
    rn.add_argument("query", nargs="*", help="one or more sentences")
    rn.add_argument("--queries", help="a text file with one sentence per line")
    rn.add_argument("--checkpoint", required=True, help="run directory or checkpoint directory")
    rn.add_argument("--topk", type=POSITIVE_INT, default=5)
    rn.add_argument("--json", action="store_true", help="one JSON object per query on stdout")
    rn.add_argument("--plot", help="write a timeline figure (.png or .svg)")
    rn.add_argument("--weights", help="backbone weights, for backbones that need them")
    rn.add_argument("--device", default="cpu")
    rn.add_argument("--quiet", action="store_true")
    rn.set_defaults(func=cmd_run)

    dm = sub.add_parser("demo", help="local web demo (Gradio; pip install 'vlanet[demo]')")
    dm.add_argument("--checkpoint", required=True)
    dm.add_argument("--host", default="127.0.0.1", help="bind address (default: localhost only)")
    dm.add_argument("--port", type=port, default=7860, help="TCP port, 1-65535")
    dm.add_argument("--example", action="append", help="an example video offered in the page (repeatable)")
    dm.add_argument("--max-upload-mb", type=POSITIVE, default=200.0)
    dm.add_argument("--max-minutes", type=POSITIVE, default=90.0, help="longest video accepted")
    dm.add_argument("--device", default="cpu")
    dm.set_defaults(func=cmd_demo)

    v = sub.add_parser("visualize", help="figures from a run directory")
    vsub = v.add_subparsers(dest="figure", required=True, parser_class=Parser)
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
    rp.add_argument("--nms", type=nms_arg, default=None)
    rp.add_argument("--hit", default=">=", choices=[">=", ">"])
    rp.add_argument("--limit", type=COUNT, default=0, help="show only the first N queries (0 = all)")
    rp.set_defaults(func=cmd_report)
