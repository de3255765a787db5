"""An epoch's batches: shuffled query indices (bucketed by video length), split into the groups
inside which negatives are drawn, and the generator of each group, a function of its
coordinates (seed, epoch, step, group) only, so one process and N ranks draw the same."""

from __future__ import annotations

import torch

from vlanet.config import TrainConfig
from vlanet.data.dataset import MomentDataset


def epoch_batches(ds: MomentDataset, tcfg: TrainConfig, gen: torch.Generator) -> list[list[int]]:
    """One epoch's batches of query indices, a function of the generator's state.

    Shuffle; with ``bucket_batches`` = n > 0, cut the order into pools of n batches and sort
    each pool by video duration before batching, so a batch holds videos of similar length and
    little padding (Charades-STA runs 10-194 s; padding to the longest video in a random batch
    doubles the cost).  Batch order is shuffled again.  Batches of one query are dropped (no
    negatives).
    """
    perm = torch.randperm(len(ds), generator=gen).tolist()
    size = tcfg.batch_size
    if tcfg.bucket_batches > 0:
        pool = size * tcfg.bucket_batches
        perm = [i for s in range(0, len(perm), pool)
                for i in sorted(perm[s:s + pool], key=lambda i: ds.queries[i].duration)]
    batches = [perm[i:i + size] for i in range(0, len(perm), size)]
    if tcfg.bucket_batches > 0:
        batches = [batches[j] for j in torch.randperm(len(batches), generator=gen).tolist()]
    return [bt for bt in batches if len(bt) > 1]


def group_generator(seed: int, epoch: int, step: int, group: int) -> torch.Generator:
    """The generator that draws the negatives of one group: a function of its coordinates only,
    so one process and N ranks draw the same negatives (see train/distributed.py)."""
    key = ((seed * 1_000_003 + epoch) * 1_000_033 + step) * 1_009 + group
    return torch.Generator().manual_seed(key % (2**63 - 1))


def epoch_steps(ds: MomentDataset, tcfg: TrainConfig, gen: torch.Generator, rank: int = 0, world: int = 1
                ) -> list[tuple[int, list[tuple[int, list[int]]]]]:
    """This rank's share of the epoch: per step, (step number, [(group number, query indices)]).

    Each global batch is split into ``world * negative_groups`` contiguous groups (in-batch
    negatives stay inside a group); rank r takes ``negative_groups`` of them.  A step with a
    group of fewer than 2 queries is skipped on every rank.
    """
    n_groups = world * tcfg.negative_groups
    steps = []
    for step, bt in enumerate(epoch_batches(ds, tcfg, gen)):
        size, extra = divmod(len(bt), n_groups)
        if size < 2:
            continue
        bounds = [g * size + min(g, extra) for g in range(n_groups + 1)]
        mine = range(rank * tcfg.negative_groups, (rank + 1) * tcfg.negative_groups)
        steps.append((step, [(g, bt[bounds[g]:bounds[g + 1]]) for g in mine]))
    return steps
