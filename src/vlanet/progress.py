"""Progress bars on a terminal only (tqdm on stderr); silent when stderr is not a TTY."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import TypeVar

T = TypeVar("T")


def bar(it: Iterable[T], total: int | None = None, desc: str = "", enabled: bool = True) -> Iterable[T]:
    if not enabled or not sys.stderr.isatty():
        return it
    from tqdm import tqdm

    return tqdm(it, total=total, desc=desc, leave=False, dynamic_ncols=True, file=sys.stderr)
