"""Language controls: does a model use the sentence at all?

The shuffled-query control replaces each query's sentence by the sentence of a query from
another video (seeded), keeping its ground truth.  A model that grounds language loses accuracy;
one that ranks by "where moments usually are" does not.  The **language gain** of a model is
R@1 (IoU=0.5; DiDeMo: R@1) with the true sentences minus R@1 with shuffled ones.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from vlanet.data.annotations import Query
from vlanet.data.dataset import MomentDataset

SHUFFLE_SEED = 1234  # fixed so every model of a table is tested with the same shuffled sentences


def gain_key(protocol: str) -> str:
    """The metric the language gain is measured on."""
    return "R@1" if protocol == "didemo" else "R@1,IoU=0.5"


def shuffled_queries(queries: list[Query], seed: int = SHUFFLE_SEED) -> list[Query]:
    """Each query with the sentence of a query from another video (a permutation of the
    sentences, moved on where it would keep a video's own sentence)."""
    n = len(queries)
    if n == 0:
        return []
    order = np.random.default_rng(seed).permutation(n)
    out = []
    for pos, i in enumerate(order):
        q = queries[i]
        for step in range(1, n + 1):
            j = order[(pos + step) % n]
            if queries[j].vid != q.vid:
                break
        else:  # one video only: no other sentence exists; keep it (the gain is then 0)
            j = i
        out.append((i, replace(q, query=queries[j].query)))
    return [q for _, q in sorted(out, key=lambda t: t[0])]


def language_gain(true: dict[str, float] | None, shuffled: dict[str, float] | None, protocol: str) -> float | None:
    if not true or not shuffled:
        return None
    key = gain_key(protocol)
    return round(true[key] - shuffled[key], 2)


def shuffled_dataset(ds: MomentDataset, seed: int | None = None) -> MomentDataset:
    """The same dataset with each sentence replaced by one of another video (the language
    control); ground truth, videos and proposals unchanged."""
    qs = shuffled_queries(ds.queries, SHUFFLE_SEED if seed is None else seed)
    return MomentDataset(qs, ds.store, ds.words, ds.time, ds.spec, name=f"{ds.name} (shuffled queries)")
