"""Multi-process training: ``torchrun --nproc_per_node N -m vlanet train ...``.

torchrun sets RANK / WORLD_SIZE / LOCAL_RANK; ``setup`` then starts a process group (gloo on
CPU, nccl on CUDA, one GPU per process) and training wraps its loss in DistributedDataParallel.

Sharding (see ``epoch_steps`` in train/batches.py): every rank builds the same global batches from
(seed, epoch).  Each global batch of ``train.batch_size`` queries is split into
``world_size * train.negative_groups`` contiguous groups; rank r takes groups
[r * negative_groups, (r + 1) * negative_groups).  In-batch negatives (Eq. 14) are drawn inside
a group, by a generator seeded from (seed, epoch, step, group), so a run on N ranks computes the
same groups, the same negatives and, after DDP averages the gradients, the same update as one
process with ``train.negative_groups = N`` (tests/train/test_distributed.py checks this).

Rank 0 alone validates, writes checkpoints, metrics and logs; the others wait at a barrier.
Resume works as in one process: every rank loads ``checkpoints/last``.
"""

from __future__ import annotations

import gc
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass
class DistInfo:
    rank: int = 0
    world: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")

    @property
    def enabled(self) -> bool:
        return self.world > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def setup(device: torch.device) -> tuple[DistInfo, torch.device]:
    """Join the process group torchrun describes; returns the rank info and this rank's device."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistInfo(), device
    info = DistInfo(int(os.environ["RANK"]), world, int(os.environ.get("LOCAL_RANK", "0")))
    if device.type == "cuda":
        torch.cuda.set_device(info.local_rank)
        device = torch.device("cuda", info.local_rank)
    info.device = device
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return info, device


def wrap(module: torch.nn.Module, info: DistInfo, device: torch.device) -> torch.nn.Module:
    """The training step as DistributedDataParallel under torchrun, else as it is."""
    if not info.enabled:
        return module
    return torch.nn.parallel.DistributedDataParallel(
        module, device_ids=[device.index] if device.type == "cuda" else None, find_unused_parameters=True,
        broadcast_buffers=False)


def barrier(info: DistInfo) -> None:
    if info.enabled:
        dist.barrier()


def all_sum(info: DistInfo, values: list[float]) -> list[float]:
    """Sum a few scalars over all ranks (epoch loss and score totals)."""
    if not info.enabled:
        return values
    t = torch.tensor(values, dtype=torch.float64, device=info.device)
    dist.all_reduce(t)
    return t.tolist()


def teardown(info: DistInfo) -> None:
    """Leave the process group.  Call it after dropping every DistributedDataParallel wrapper.

    Order matters with gloo: if a DDP Reducer holds the last reference to the process group, its
    destructor joins gloo's worker threads while holding the GIL, and a worker that is still
    freeing the tensors of the last collective waits for the GIL: the rank hangs at exit (1 run
    in 2 to 4 on a loaded 2-core machine before this order; tests/train/test_distributed.py).  So the
    wrapper is collected first, while the group is still registered, and the last reference then
    goes with ``destroy_process_group``, whose binding releases the GIL.
    """
    if info.enabled and dist.is_initialized():
        gc.collect()  # a DDP wrapper caught in a reference cycle goes now, not at some later collection
        dist.barrier()
        dist.destroy_process_group()
