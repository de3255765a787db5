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


MAX_MESSAGE = 300  # characters of an error line
MAX_TOKEN = 80  # a longer token (id, query, value) is shown by its ends and its length
MAX_PATH = 160  # a longer path is shown by its tail


def shorten(text: str, limit: int = MAX_TOKEN) -> str:
    """``'abc…xyz' (100000 chars)`` for a token longer than ``limit``; shorter ones unchanged."""
    if len(text) <= limit:
        return text
    return f"'{text[:24]}…{text[-12:]}' ({len(text)} chars)"


def one_line(message: str) -> str:
    """An error message as one line of at most ``MAX_MESSAGE`` characters: long tokens shortened
    (a path by its tail past ``MAX_PATH``), line breaks joined, and the rest cut."""
    import re

    def token(m: re.Match) -> str:
        t = m.group(0)
        quote = t[0] if t[0] in "'\"" and t[-1] == t[0] and len(t) > 1 else ""
        bare = t[1:-1] if quote else t
        if "/" in bare and not any(c.isspace() for c in bare):  # a path: whole, or its tail
            return t if len(bare) <= MAX_PATH else "…" + bare[-(MAX_PATH - 1):]
        return shorten(bare)

    text = " ".join(message.split())
    text = re.sub(r"'[^']{%d,}'|\"[^\"]{%d,}\"|\S{%d,}" % (MAX_TOKEN, MAX_TOKEN, MAX_TOKEN + 1), token, text)
    return text if len(text) <= MAX_MESSAGE else text[:MAX_MESSAGE - 1] + "…"


# Operating-system errors on a path the user named: answered as bad input (exit 2).
PATH_ERRORS = {
    "IsADirectoryError": "is a directory, not a file",
    "NotADirectoryError": "a part of this path is a file, not a directory",
    "FileExistsError": "is a file, not a directory (a folder is needed here)",
    "FileNotFoundError": "not found",
    "PermissionError": "permission denied",
}


def path_error(e: OSError) -> InputError | None:
    """The InputError for an OSError about a user's path, or None for other failures."""
    reason = PATH_ERRORS.get(type(e).__name__)
    if reason is None or not e.filename:
        return None
    return InputError(f"{e.filename}: {reason}")
