"""Error types shared by every command.

``InputError`` is a user mistake (bad file, bad config value, bad flag): the CLI prints its
one-line message and exits with code 2.  Anything else that escapes is a runtime failure
(exit code 1).
"""

from __future__ import annotations


class InputError(Exception):
    """A problem with something the user supplied. The message names the file/line/field."""


class RunLocked(InputError):
    """A directory that another live process is writing (its lock is held)."""


def where(path: object, line: int | None = None, field: str | None = None) -> str:
    """Format a location prefix such as ``train.jsonl:12: field 'duration'``."""
    out = str(path)
    if line is not None:
        out += f":{line}"
    if field is not None:
        out += f": field '{field}'"
    return out
