"""Ctrl-C, handled in one place.

``install()`` (called by the CLI) replaces Python's SIGINT handler by one that records the
interrupt before raising ``KeyboardInterrupt`` as usual.  A ``KeyboardInterrupt`` can be lost:
when the signal lands inside a finaliser (an h5py object being freed, say), Python prints
"Exception ignored" and carries on.  The record survives that: ``check()`` raises again, and
every atomic write (io.atomic_path) and every progress step calls it, so an interrupted command
never renames a temporary file over a prior output and always ends with exit 130.
``exit_at_once()`` covers the moments outside the command (starting up, and once it has
returned): a Ctrl-C then also exits 130 with one line.
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


def exit_at_once() -> None:
    """From here on a Ctrl-C ends the process at once with exit 130 and one line.  Used while
    the command line starts (imports; nothing is written yet) and once the command has returned
    or failed (the interpreter shutting down; outputs are already whole), where Python would
    otherwise print a traceback or die by the signal."""
    try:
        signal.signal(signal.SIGINT, _late)
    except ValueError:
        pass


def exit_now(code: int | str | None) -> None:
    """End the command line's process with ``code`` (as ``sys.exit`` takes it), skipping Python's
    finalisation: that resets the SIGINT handler, so a Ctrl-C landing then would kill the
    process by the signal.  Outputs are whole and closed by now; logging and stdio are flushed."""
    import logging

    if not isinstance(code, int):
        if code is not None:
            print(code, file=sys.stderr)
        code = 0 if code is None else 1
    try:
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(code)


def check() -> None:
    """Raise KeyboardInterrupt if one was received, even if it was swallowed since."""
    if _interrupted:
        raise KeyboardInterrupt


def reset() -> None:
    """Forget a recorded interrupt (tests, or an API user who caught it on purpose)."""
    global _interrupted
    _interrupted = False
