"""What every command module shares: the one-line argparse error, argument types, config
arguments and the metrics table."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from vlanet.errors import one_line

# vlanet.eval.calibrate's controls (kept here: importing it loads numpy)
BASELINE_KINDS = ("random", "prior", "oracle", "saliency", "probe", "oracle-bow", "oracle-sentence")


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2
        self.exit(2, f"{self.prog}: error: {one_line(message)} (see '{self.prog} --help')\n")


def bounded(text: str, cast: type, lo: float, hi: float, what: str) -> Any:
    """An argparse value of type ``cast`` in [lo, hi], or a usage error naming ``what``."""
    try:
        v = cast(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{what} must be a {cast.__name__} in [{lo:g}, {hi:g}], got {text!r}") from None
    if not lo <= v <= hi:
        raise argparse.ArgumentTypeError(f"{what} must be in [{lo:g}, {hi:g}], got {text}")
    return v


def port(text: str) -> int:
    return bounded(text, int, 1, 65535, "--port (a TCP port)")


def nms_arg(v: str) -> float | str | None:
    if v in ("none", "tall"):
        return None if v == "none" else v
    return bounded(v, float, 0, 1, "--nms (none, tall or a threshold)")


def data_inputs(cfg) -> dict[str, str]:
    """The data files a config reads, named as options, for ``check_outputs``."""
    from vlanet.config import data_paths

    return {f"data.{k}": v for k, v in data_paths(cfg).items()}


def config_and_overrides(args: argparse.Namespace) -> None:
    """``vlanet train key=value`` with no config: the first positional is an override."""
    if args.config and "=" in args.config and not Path(args.config).exists():
        args.overrides, args.config = [args.config, *args.overrides], None


def metrics_table(rows: dict[str, dict[str, float]]) -> str:
    from vlanet.eval.evaluate import format_table

    return format_table(rows)
