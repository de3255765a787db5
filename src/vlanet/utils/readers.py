"""The checks every reader of a user's file needs, in one place: the path is a readable file,
the text is UTF-8 (a byte-order mark is dropped), the JSON parses, and required fields exist
with the right types.  Each failure is an ``InputError`` naming the file, line and field, so
the CLI answers one line and exit 2 (never a traceback).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from vlanet.utils.errors import InputError

TYPE_NAMES = {dict: "an object", list: "a list", str: "a string", int: "an integer", float: "a number",
              bool: "true or false"}


def require_file(path: str | Path, what: str = "file") -> Path:
    """``path`` as a Path when it is an existing regular file, else a clear InputError."""
    p = Path(path)
    if p.is_dir():
        raise InputError(f"{p}: is a directory, not a {what}")
    if not p.is_file():
        raise InputError(f"{p}: {what} not found")
    return p


def read_text(path: str | Path, what: str = "file") -> str:
    p = require_file(path, what)
    try:
        return p.read_text(encoding="utf-8-sig")  # a byte-order mark is not part of the first line
    except UnicodeDecodeError as e:
        raise InputError(f"{p}: not UTF-8 text (byte {e.start})") from None
    except OSError as e:
        raise InputError(f"{p}: cannot be read ({e.strerror})") from None


def parse_json(text: str, where: str) -> Any:
    """``json.loads`` whose every failure, damaged input included, is one InputError at ``where``."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(f"{where}: not valid JSON ({e.msg}, column {e.colno})") from None
    except RecursionError:
        raise InputError(f"{where}: not valid JSON (nested too deeply)") from None
    except ValueError as e:  # e.g. an integer of more than 4300 digits
        raise InputError(f"{where}: not valid JSON ({str(e).split(';')[0]})") from None


def read_json(path: str | Path, what: str = "file") -> Any:
    """A whole-file JSON document."""
    return parse_json(read_text(path, what), str(path))


def require(obj: Any, where: str, **fields: type | tuple[type, ...]) -> dict[str, Any]:
    """``obj`` is an object holding each field with one of the given types (bool is not a number)."""
    if not isinstance(obj, dict):
        raise InputError(f"{where}: expected a JSON object, got {type(obj).__name__}")
    for name, types in fields.items():
        if name not in obj:
            raise InputError(f"{where}: missing field '{name}'")
        types = types if isinstance(types, tuple) else (types,)
        v = obj[name]
        if not isinstance(v, types) or (isinstance(v, bool) and bool not in types):
            want = " or ".join(TYPE_NAMES.get(t, t.__name__) for t in types)
            raise InputError(f"{where}: field '{name}' must be {want}, got {type(v).__name__}")
    return obj
