"""Controls: does a model use the sentence, and the video, at all?

The shuffled-query control replaces each query's sentence by the sentence of a query from
another video (seeded), keeping its ground truth.  A model that grounds language loses accuracy;
one that ranks by "where moments usually are" does not.  The **language gain** of a model is
R@1 (IoU=0.5; DiDeMo: R@1) with the true sentences minus R@1 with shuffled ones.

The shuffled-video control (Otani et al.'s visual sanity check) scores each query on another
video of the split, the one of nearest duration, and evaluates it against its own moment.  A
model that reads the video drops towards the prior; the **visual gain** is R@1 with the true
videos minus R@1 with the shuffled ones.
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


def shuffled_videos(queries: list[Query]) -> list[Query]:
    """Each query moved to the split's other video of nearest duration (the next longer one on
    a tie; itself when the split has one video), keeping its sentence and ground truth."""
    videos = sorted({(q.duration, q.vid) for q in queries})
    index = {v: i for i, (_, v) in enumerate(videos)}
    out = []
    for q in queries:
        i = index[q.vid]
        near = [j for j in (i - 1, i + 1) if 0 <= j < len(videos)]
        if not near:
            out.append(q)
            continue
        j = min(near, key=lambda j: (abs(videos[j][0] - q.duration), -j))
        out.append(replace(q, vid=videos[j][1], duration=videos[j][0]))
    return out


def language_gain(true: dict[str, float] | None, shuffled: dict[str, float] | None, protocol: str) -> float | None:
    if not true or not shuffled:
        return None
    key = gain_key(protocol)
    return round(true[key] - shuffled[key], 2)


def shuffled_video_dataset(ds: MomentDataset) -> MomentDataset:
    """The same dataset with each query on another video of nearest duration (the visual
    control); sentences and ground truth unchanged."""
    return MomentDataset(shuffled_videos(ds.queries), ds.store, ds.words, ds.time, ds.spec,
                         name=f"{ds.name} (shuffled videos)")


def shuffled_dataset(ds: MomentDataset, seed: int | None = None) -> MomentDataset:
    """The same dataset with each sentence replaced by one of another video (the language
    control); ground truth, videos and proposals unchanged."""
    qs = shuffled_queries(ds.queries, SHUFFLE_SEED if seed is None else seed)
    return MomentDataset(qs, ds.store, ds.words, ds.time, ds.spec, name=f"{ds.name} (shuffled queries)")
