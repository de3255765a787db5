"""Keep freed memory in the process instead of handing it back to the OS (glibc only).

glibc serves the tens-of-MB tensors of a CPU training step with fresh ``mmap`` pages and returns
them on ``free``, so every step faults the same memory in again.  ``retain_freed_memory`` raises
the mmap threshold to 1 GiB and turns heap trimming off (``mallopt``) so freed blocks are reused.
RSS then stays at its high-water mark, so only training turns it on (``train()`` calls it).
``VLANET_KEEP_FREED_MEMORY=0`` keeps the system allocator's behaviour; elsewhere (musl, macOS,
Windows) it does nothing.  Measured in docs/CHOICES.md ("Freed memory during training").
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # from glibc's malloc.h
_applied: bool | None = None


def retain_freed_memory(threshold: int = 1 << 30) -> bool:
    """Apply the setting once per process; True if glibc accepted it."""
    global _applied
    if _applied is not None:
        return _applied
    _applied = False
    if os.environ.get("VLANET_KEEP_FREED_MEMORY", "1") == "0":
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    # Trim threshold -1: the heap's top is never given back.  Measured over 7 cycles of 64 + 12
    # + 40 MB tensors: 29k page faults per cycle with glibc's defaults, 14k with a 1-GiB trim
    # threshold, 6.6k with trimming off, and 0 once the heap has settled (tests/utils/test_allocator.py).
    _applied = bool(mallopt(_M_MMAP_THRESHOLD, threshold)) and bool(mallopt(_M_TRIM_THRESHOLD, -1))
    return _applied
