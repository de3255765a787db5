"""`vlanet experiment`, `vlanet compare` and `vlanet export`: the paper's tables, tables of
finished runs, and a run's model as a shareable folder."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from vlanet.cli.common import POSITIVE_INT
from vlanet.experiments.tables import TABLES


def cmd_experiment(args: argparse.Namespace) -> int:
    from vlanet.experiments import run_table

    text = run_table(args.table, args.data, args.out, args.overrides, progress=not args.quiet,
                     log=lambda m: print(m, file=sys.stderr, flush=True), seeds=args.seeds,
                     rows=[r for r in (args.rows or "").split(",") if r])
    print(text)
    print(f"wrote {Path(args.out) / (args.table + '.md')}", file=sys.stderr)
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from vlanet.experiments import compare_runs

    print(compare_runs(args.run_dirs))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from vlanet.apps.hub import export

    info = export(args.run, args.out)
    print(f"wrote {info['out']}: {', '.join(info['files'])}"
          + ("" if info["has_results"] else " (no result.json in the run: the model card has no numbers)"), file=sys.stderr)
    return 0


def add_parsers(sub: argparse._SubParsersAction) -> None:
    x = sub.add_parser("experiment", help="reproduce a table of the paper, or the methods table (runs, resumes, writes Markdown)")
    x.add_argument("table", choices=list(TABLES))
    x.add_argument("--data", help="dataset config (default: the embedded synthetic dataset)")
    x.add_argument("--out", default="runs/experiments", help="folder for the runs and the table")
    x.add_argument("--seeds", type=POSITIVE_INT, default=1, help="train every model row with seeds 0..N-1; mean ± std")
    x.add_argument("--rows", help="train only these model rows, comma-separated slugs as in the run folders "
                   "(e.g. full-model,w-o-surrogate); the controls always run")
    x.add_argument("--quiet", action="store_true")
    x.add_argument("overrides", nargs="*", help="section.key=value applied to every run (e.g. train.epochs=4)")
    x.set_defaults(func=cmd_experiment)

    cp = sub.add_parser("compare", help="a Markdown table from finished run directories")
    cp.add_argument("run_dirs", nargs="+")
    cp.set_defaults(func=cmd_compare)

    ex = sub.add_parser("export", help="a run's best checkpoint as a shareable folder (a Hugging Face model repo)")
    ex.add_argument("run", help="run directory or checkpoint directory")
    ex.add_argument("--out", required=True, help="new folder: model.json, model.safetensors, config.yaml, README.md")
    ex.set_defaults(func=cmd_export)
