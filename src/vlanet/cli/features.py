"""`vlanet features inspect|extract`: feature files."""

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
)
from vlanet.utils.io import check_outputs


def cmd_features_inspect(args: argparse.Namespace) -> int:
    from vlanet.data.inspect import inspect_store

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
    from vlanet.apps.extract import extract_to_hdf5, list_videos
    from vlanet.utils.readers import require_file

    list_videos(args.inputs)  # missing videos are named before the output checks
    if args.weights:
        require_file(args.weights, "weights file")
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


def add_parsers(sub: argparse._SubParsersAction) -> None:
    fe = sub.add_parser("features", help="feature files")
    fsub = fe.add_subparsers(dest="features_cmd", required=True, parser_class=Parser)
    fi = fsub.add_parser("inspect", help="ids, shapes, dims and attributes of a feature file or directory")
    fi.add_argument("path")
    fi.add_argument("--limit", type=COUNT, default=5, help="example ids to show")
    fi.add_argument("--check", action="store_true", help="read every video: NaN/inf, zero rows, dims")
    fi.add_argument("--json", action="store_true")
    fi.set_defaults(func=cmd_features_inspect)

    fx = fsub.add_parser("extract", help="features from video files (PyAV + an image backbone) into one HDF5 file")
    fx.add_argument("inputs", nargs="+", metavar="VIDEO_OR_DIR")
    fx.add_argument("--backbone", default="efficientnet-lite0", help="efficientnet-lite0 (offline), vgg16-fc7, r3d-18")
    fx.add_argument("--out", required=True)
    fx.add_argument("--fps", type=POSITIVE, default=2.0, help="frames sampled per second")
    fx.add_argument("--frames-per-row", type=POSITIVE_INT, default=1, help="frames averaged (or one 3D clip) per feature row")
    fx.add_argument("--batch-size", type=POSITIVE_INT, default=32)
    fx.add_argument("--weights", help="backbone weights (.safetensors or a .pth state dict); required for vgg16-fc7, r3d-18")
    fx.add_argument("--device", default="cpu")
    fx.add_argument("--quiet", action="store_true")
    fx.set_defaults(func=cmd_features_extract)
