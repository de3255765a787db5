"""vlanet/utils/allocator.py: freed blocks are reused instead of faulted in again (glibc only)."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

CYCLES = """
import resource, torch
from vlanet.utils.allocator import retain_freed_memory
applied = retain_freed_memory()
for _ in range(12):  # 64 MB blocks; aligned allocations settle into the heap after a few cycles
    torch.empty(16 << 20).fill_(1.0)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(8):
    torch.empty(16 << 20).fill_(1.0)
print(applied, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _faults(keep: str) -> tuple[str, int]:
    env = dict(os.environ, VLANET_KEEP_FREED_MEMORY=keep)
    out = subprocess.run([sys.executable, "-c", CYCLES], capture_output=True, text=True, env=env, check=True)
    applied, faults = out.stdout.split()
    return applied, int(faults)


@pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_freed_memory_is_reused_without_page_faults():
    applied, kept = _faults("1")
    off, default = _faults("0")
    assert (applied, off) == ("True", "False")
    # glibc's default maps and unmaps a 64 MB block each cycle: 16k page faults (4 KiB) per cycle
    assert default > 8 * 10_000
    assert kept < 8 * 1_000
