"""The op timer of benchmarks/op_times.py (bench.py imports it too): wall time per ATen op,
taken around the op itself by a TorchDispatchMode.  A module of its own, so that the two
scripts import it and not each other."""

from __future__ import annotations

import math
import time

import torch
from torch.utils._python_dispatch import TorchDispatchMode

MATMUL_OPS = ("mm", "bmm", "addmm", "baddbmm", "addbmm")


class OpTimer(TorchDispatchMode):
    """Wall time and calls per (op name, input shapes) of everything run under it."""

    def __init__(self):
        super().__init__()
        self.times: dict[tuple[str, tuple], list] = {}

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        t0 = time.perf_counter()
        out = func(*args, **(kwargs or {}))
        dt = time.perf_counter() - t0
        key = (func.overloadpacket.__name__, tuple(sh for sh in map(_shape, args) if sh is not None))
        entry = self.times.setdefault(key, [0.0, 0])
        entry[0] += dt
        entry[1] += 1
        return out

    def seconds(self, names: tuple[str, ...] | None = None) -> float:
        return sum(t for (name, _), (t, _) in self.times.items() if names is None or name in names)


def _shape(a):
    if isinstance(a, torch.Tensor):
        return tuple(a.shape)
    if isinstance(a, (list, tuple)) and a and all(isinstance(x, torch.Tensor) for x in a):
        return tuple(tuple(x.shape) for x in a)
    return None


def matmul_flops(name: str, shapes: tuple) -> float:
    """2*m*n*k of a (batched) product from its input shapes; 0 for other ops."""
    if name not in MATMUL_OPS:
        return 0.0
    a, b = shapes[-2], shapes[-1]  # addmm / baddbmm: (bias, a, b)
    return 2.0 * math.prod(a) * b[-1]
