"""Fault injection for the kill-and-resume and Ctrl-C tests: ``VLANET_KILL_AT=<point>`` makes the
process signal itself when it reaches that point, so a test can stop training exactly there.
The signal is SIGKILL, or SIGINT with ``VLANET_KILL_SIGNAL=INT`` (a Ctrl-C at that moment).

Points: ``epoch<E>.batch<B>`` (before batch B of epoch E, both from 1), ``save.<name>`` (while
checkpoint <name> is being written beside it: model written, train state not yet),
``epoch<E>.saved-best`` (after the best checkpoint of epoch E is committed, before the last one),
``commit.<name>`` (inside the directory swap of checkpoint <name>, after the old copy moved
aside) and ``epoch<E>.end`` (after everything of epoch E is written).  Unset, it costs one dict
lookup.
"""

from __future__ import annotations

import os
import signal

_TARGET = os.environ.get("VLANET_KILL_AT")
_SIGNAL = signal.SIGINT if os.environ.get("VLANET_KILL_SIGNAL") == "INT" else signal.SIGKILL


def point(name: str) -> None:
    if _TARGET is not None and name == _TARGET:
        os.kill(os.getpid(), _SIGNAL)
