"""What every command module shares: the one-line argparse error, argument types, config
arguments and the metrics table."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from vlanet.utils.errors import one_line

# vlanet.eval.calibrate's controls (kept here: importing it loads numpy)
BASELINE_KINDS = ("random", "prior", "oracle", "saliency", "probe", "oracle-bow", "oracle-sentence")


class Parser(argparse.ArgumentParser):
    """One-line usage errors (exit 2) with a suggestion for a mistyped command or option, and
    every option's default shown in --help."""

    def __init__(self, *args: Any, **kwargs: Any):
        kwargs.setdefault("formatter_class", argparse.ArgumentDefaultsHelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:  # one line, exit 2
        self.exit(2, f"{self.prog}: error: {one_line(message + suggestion(self, message))} (see '{self.prog} --help')\n")


def number(kind: type, low: float | None = None, strict: bool = True):
    """An argparse type: a finite ``kind`` (int or float), above ``low`` (``strict``) or at
    least ``low``; '0', 'inf', 'nan' or '1e400' for a rate or a size is refused by the parser."""
    import math

    bound = "" if low is None else f" {'>' if strict else '>='} {low:g}"

    def parse(text: str):
        try:
            v = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {'an integer' if kind is int else 'a number'}{bound}, "
                                             f"got {text!r}") from None
        if not math.isfinite(v) or (low is not None and (v <= low if strict else v < low)):
            raise argparse.ArgumentTypeError(f"must be a finite number{bound}, got {text!r}")
        return v

    parse.__name__ = kind.__name__  # argparse names the type in its messages
    parse.bound = (low, strict)  # read by the tests that try every numeric option
    return parse


POSITIVE_INT, POSITIVE, COUNT = number(int, 0), number(float, 0), number(int, 0, strict=False)
SEED = COUNT  # random generators take no negative seed


def suggestion(parser: argparse.ArgumentParser, message: str) -> str:
    """'; did you mean X?' for an invalid choice or an unrecognised option close to a known one."""
    import difflib
    import re

    m = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
    if m:
        word, known = m.group(1), re.findall(r"'([^']*)'", m.group(2))
    else:
        m = re.search(r"unrecognized arguments: (\S+)", message)
        if not m or not m.group(1).startswith("--"):
            return ""
        word, known = m.group(1), sorted(_option_strings(parser))
    close = difflib.get_close_matches(word, known, n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def _option_strings(parser: argparse.ArgumentParser) -> set[str]:
    """Every --option of a parser and of its subcommands."""
    out = {s for a in parser._actions for s in a.option_strings if s.startswith("--")}
    for a in parser._actions:
        if isinstance(a, argparse._SubParsersAction):
            for sub in a.choices.values():
                out |= _option_strings(sub)
    return out


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
    from vlanet.config.paths import data_paths

    return {f"data.{k}": v for k, v in data_paths(cfg).items()}


def config_and_overrides(args: argparse.Namespace) -> None:
    """``vlanet train key=value`` with no config: the first positional is an override."""
    if args.config and "=" in args.config and not Path(args.config).exists():
        args.overrides, args.config = [args.config, *args.overrides], None


def metrics_table(rows: dict[str, dict[str, float]]) -> str:
    from vlanet.eval.evaluate import format_table

    return format_table(rows)


# Help for the arguments many commands share (build_parser fills in any argument left without one)
SHARED_HELP = {
    "quiet": "no progress output", "json": "print JSON instead of a table", "out": "file to write",
    "split": "which split of the config", "protocol": "evaluation protocol (docs: evaluation protocols)",
    "device": "cpu, cuda, cuda:N or auto", "topk": "windows returned per sentence",
    "predictions": "predictions JSONL (moment_detr format)", "ground_truth": "ground-truth JSONL",
    "gt": "ground-truth JSONL", "kind": "which control", "nms": "evaluator-side NMS: none, tall or a threshold",
    "hit": "a hit is IoU >= m or IoU > m", "seed": "random seed", "train_videos": "training videos",
    "test_videos": "test videos", "dim": "feature width", "dataset": "which dataset's official format",
    "fps": "frames per second the rows refer to", "frames_per_row": "frames per feature row",
    "path": "feature HDF5 file or directory of .npy/.npz", "inputs": "video files or folders of videos",
    "batch_size": "frames (or clips) per backbone batch", "video": "a video file",
    "checkpoint": "run directory or checkpoint directory", "max_upload_mb": "largest upload accepted",
    "run_dir": "a vlanet run directory", "table": "which table", "run_dirs": "finished run directories",
}


def fill_help(parser: argparse.ArgumentParser) -> None:
    """Give every argument of ``parser`` and its subcommands a help text (so --help also shows its default)."""
    for a in parser._actions:
        if isinstance(a, argparse._SubParsersAction):
            for sub in a.choices.values():
                fill_help(sub)
        elif a.help is None and a.dest in SHARED_HELP:
            a.help = SHARED_HELP[a.dest]
