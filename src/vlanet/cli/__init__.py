"""The ``vlanet`` command: one thin module per command family, each parsing its arguments and
calling the library.  Only this package prints; library code logs.

Exit codes: 0 success, 2 usage or input error (one line on stderr), 1 runtime failure.
Set VLANET_DEBUG=1 to see tracebacks.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from vlanet.cli import apps, data, experiments, features, predict, train
from vlanet.cli.common import Parser, fill_help
from vlanet.utils import interrupts
from vlanet.utils.errors import InputError, one_line, path_error

FAMILIES = (train, predict, data, features, apps, experiments)  # each adds its commands' parsers


def build_parser() -> argparse.ArgumentParser:
    from vlanet import __version__

    p = Parser(prog="vlanet", description="VLANet: weakly-supervised video moment retrieval.")
    p.add_argument("--version", action="version", version=f"vlanet {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=Parser)
    for family in FAMILIES:
        family.add_parsers(sub)
    fill_help(p)
    return p


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:  # overrides may also follow the options: `vlanet experiment table3 --data X train.epochs=2`
        if isinstance(getattr(args, "overrides", None), list) and all(
                "=" in e and not e.startswith("-") for e in extra):
            args.overrides += extra
        else:
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
    return args


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="vlanet: %(message)s")
    interrupts.install()
    try:
        args = _parse(argv)
        code = int(args.func(args) or 0)
        interrupts.check()  # a Ctrl-C swallowed by a finaliser during the command
        return code
    except InputError as e:
        print(f"vlanet: error: {one_line(str(e))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("vlanet: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # runtime failure: one line unless debugging
        if os.environ.get("VLANET_DEBUG"):
            raise
        if isinstance(e, OSError) and (bad := path_error(e)) is not None:  # a path the user named
            print(f"vlanet: error: {one_line(str(bad))}", file=sys.stderr)
            return 2
        print(f"vlanet: runtime error: {one_line(f'{type(e).__name__}: {e}')}", file=sys.stderr)
        return 1
    finally:
        if argv is None:  # the command line (not an in-process call): Ctrl-C from here on too
            interrupts.exit_at_once()
