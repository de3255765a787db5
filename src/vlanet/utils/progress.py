"""Progress of long work on stderr: a tqdm bar on a terminal, and otherwise (a log file, a CI
job, a batch scheduler) one plain line about every ``LINE_SECONDS`` seconds.  Every step also
checks for a recorded Ctrl-C (interrupts.py)."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from typing import TypeVar

from vlanet.utils import interrupts

T = TypeVar("T")
LINE_SECONDS = 30.0


def bar(it: Iterable[T], total: int | None = None, desc: str = "", enabled: bool = True) -> Iterable[T]:
    if not enabled:
        return _checked(it)
    if not sys.stderr.isatty():
        return _lines(it, total, desc)
    from tqdm import tqdm

    return _checked(tqdm(it, total=total, desc=desc, leave=False, dynamic_ncols=True, file=sys.stderr))


def _checked(it: Iterable[T]) -> Iterator[T]:
    for x in it:
        interrupts.check()
        yield x


def _lines(it: Iterable[T], total: int | None, desc: str, every: float | None = None) -> Iterator[T]:
    """Plain progress lines: '<desc>: 1200/6670 (18 %), 31 s'."""
    every = LINE_SECONDS if every is None else every
    t0 = last = time.monotonic()
    n = 0
    for x in it:
        interrupts.check()
        yield x
        n += 1
        now = time.monotonic()
        if now - last >= every:
            last = now
            share = f" ({100 * n / total:.0f} %)" if total else ""
            print(f"{desc}: {n}{f'/{total}' if total else ''}{share}, {now - t0:.0f} s", file=sys.stderr, flush=True)
