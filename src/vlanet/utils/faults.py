"""Fault injection for the kill-and-resume tests: ``VLANET_KILL_AT=<point>`` makes the process
SIGKILL itself when it reaches that point, so a test can stop training exactly there.

Points: ``epoch<E>.batch<B>`` (before batch B of epoch E, both from 1), ``epoch<E>.saved-best``
(after the best checkpoint of epoch E is committed, before the last one), ``commit.<name>``
(inside the directory swap of checkpoint <name>, after the old copy moved aside) and
``epoch<E>.end`` (after everything of epoch E is written).  Unset, it costs one dict lookup.
"""

from __future__ import annotations

import os
import signal

_TARGET = os.environ.get("VLANET_KILL_AT")


def point(name: str) -> None:
    if _TARGET is not None and name == _TARGET:
        os.kill(os.getpid(), signal.SIGKILL)
