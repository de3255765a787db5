"""Ctrl-C, handled in one place.

``install()`` (called by the CLI) replaces Python's SIGINT handler by one that records the
interrupt before raising ``KeyboardInterrupt`` as usual.  A ``KeyboardInterrupt`` can be lost:
when the signal lands inside a finaliser (an h5py object being freed, say), Python prints
"Exception ignored" and carries on.  The record survives that: ``check()`` raises again, and
every atomic write (io.atomic_path) and every progress step calls it, so an interrupted command
never renames a temporary file over a prior output and always ends with exit 130.
``finishing()`` covers the moments after the command: a Ctrl-C then also exits 130.
"""

from __future__ import annotations

import os
import signal
import sys

_interrupted = False


def _handler(signum, frame) -> None:
    global _interrupted
    _interrupted = True
    raise KeyboardInterrupt


def _unraisable(hook):
    def quiet(args) -> None:  # a lost KeyboardInterrupt is recorded above: no traceback for it
        if isinstance(args.exc_value, KeyboardInterrupt):
            return
        hook(args)
    return quiet


def install() -> None:
    """Record SIGINT (main thread only; elsewhere Python does not allow a handler)."""
    try:
        signal.signal(signal.SIGINT, _handler)
    except ValueError:
        return
    if not getattr(sys.unraisablehook, "_vlanet", False):
        sys.unraisablehook = _unraisable(sys.unraisablehook)
        sys.unraisablehook._vlanet = True  # type: ignore[attr-defined]


def _late(signum, frame) -> None:
    try:
        sys.stdout.flush()
        sys.stderr.write("vlanet: interrupted\n")
        sys.stderr.flush()
    finally:
        os._exit(130)


def finishing() -> None:
    """From here on (the command has returned or failed; the interpreter is shutting down) a
    Ctrl-C ends the process at once with exit 130 and one line: Python would otherwise re-raise
    it as a death by signal, or print a traceback from a finaliser.  Outputs are already whole."""
    try:
        signal.signal(signal.SIGINT, _late)
    except ValueError:
        pass


def check() -> None:
    """Raise KeyboardInterrupt if one was received, even if it was swallowed since."""
    if _interrupted:
        raise KeyboardInterrupt


def reset() -> None:
    """Forget a recorded interrupt (tests, or an API user who caught it on purpose)."""
    global _interrupted
    _interrupted = False
