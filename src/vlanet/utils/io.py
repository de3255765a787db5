"""Atomic file writing: write to a temporary file in the same folder, then rename."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from vlanet.utils import interrupts


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it over ``path`` only if the block succeeds."""
    dest = Path(path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        interrupts.check()  # an interrupt swallowed while writing must not replace the prior output
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; outputs get ordinary permissions
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def atomic_write(path: str | Path, writer: Callable[[Path], None]) -> None:
    with atomic_path(path) as tmp:
        writer(tmp)


def check_outputs(outputs: dict[str, str | Path | None], inputs: dict[str, str | Path | list | None]) -> None:
    """Refuse, before any work, an output path that is one of the inputs or another output
    (same file after resolving links and '..'), or an existing directory where a file goes.
    ``outputs`` and ``inputs``: option name -> path (or list of paths; None = not given)."""
    from vlanet.utils.errors import InputError

    def flat(d: dict) -> list[tuple[str, Path]]:
        out = []
        for name, v in d.items():
            for p in (v if isinstance(v, (list, tuple)) else [v]):
                if p:
                    out.append((name, Path(p).expanduser().resolve()))
        return out

    seen: dict[Path, str] = {p: name for name, p in flat(inputs)}
    for name, p in flat(outputs):
        if p in seen:
            raise InputError(f"{name} {p}: is also {seen[p]}; refusing to overwrite it (choose another path)")
        if p.is_dir():
            raise InputError(f"{name} {p}: is a directory; give a file path")
        require_folder_parent(p, name)
        seen[p] = name


def check_output_dir(path: str | Path, name: str) -> None:
    """Refuse, before any work, a folder output that is an existing file or sits under one."""
    from vlanet.utils.errors import InputError

    p = Path(path).expanduser().resolve()
    if p.exists() and not p.is_dir():
        raise InputError(f"{name} {p}: is a file, not a directory")
    require_folder_parent(p, name)


def require_folder_parent(path: Path, name: str) -> None:
    """The nearest existing ancestor of an output path must be a directory, not a file."""
    from vlanet.utils.errors import InputError

    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise InputError(f"{name} {path}: {parent} is a file, not a directory")
            return


@contextmanager
def locked_dir(path: str | Path, what: str = "run directory") -> Iterator[Path]:
    """Hold an exclusive lock on ``path/.lock`` (created with the folder) for the block.  A
    second process fails at once; a killed process's lock goes with it (flock), so a later
    ``--resume`` is never blocked by a stale lock file."""
    import fcntl

    from vlanet.utils.errors import InputError, RunLocked

    d = Path(path)
    if d.exists() and not d.is_dir():
        raise InputError(f"{d}: is a file, not a {what}")
    try:
        d.mkdir(parents=True, exist_ok=True)
        f = open(d / ".lock", "a+")
    except OSError as e:
        raise InputError(f"{d}: cannot be used as a {what} ({e.strerror})") from None
    try:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunLocked(f"{d}: another process is writing to this {what} (its .lock is held); "
                            "wait for it or choose another directory") from None
        yield d
    finally:
        f.close()
