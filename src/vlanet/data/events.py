"""The events of one simulated video: the described moments (overlapping queries merged into one
event), their swap distractors and the undescribed actions that fill the timeline, each at a
real moment position (``plan_video``).  simulate.py renders them into feature rows."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from vlanet.data.annotations import Query
from vlanet.data.appearance import Appearance, _content_index, _stable_seed, _unit
from vlanet.data.vocab import tokenize
from vlanet.utils.errors import InputError


def _iou(a: tuple[float, float], b: tuple[float, float]) -> float:
    inter = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    union = max(a[1], b[1]) - min(a[0], b[0])
    return inter / union if union > 0 else 0.0


def merge_events(moments: list[tuple[tuple[float, float], str]], merge_iou: float
                 ) -> list[tuple[tuple[float, float], list[str]]]:
    """Group a video's (window, sentence) pairs whose windows overlap at ``merge_iou`` or more
    (transitively): one event per group, its window the members' mean."""
    parent = list(range(len(moments)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(len(moments)):
        for j in range(i):
            if _iou(moments[i][0], moments[j][0]) >= merge_iou:
                parent[root(i)] = root(j)
    groups: dict[int, list[int]] = {}
    for i in range(len(moments)):
        groups.setdefault(root(i), []).append(i)
    out = []
    for members in groups.values():
        s = float(np.mean([moments[i][0][0] for i in members]))
        e = float(np.mean([moments[i][0][1] for i in members]))
        out.append(((s, e), [moments[i][1] for i in members]))
    return out


@dataclass
class Pools:
    """What undescribed actions are drawn from: sentences of the beds' videos and the real
    moment positions (start, end as fractions of the duration)."""

    sentences: list[tuple[str, str]]  # (video id, sentence), sorted
    positions: np.ndarray  # (N, 2)
    first: list[str]  # first content words seen (verbs, in practice)
    second: list[str]  # second content words seen (objects)

    @classmethod
    def from_queries(cls, queries: list[Query], canon: dict[str, str] | None = None) -> Pools:
        sents = sorted({(q.vid, q.query) for q in queries})
        pos = cls.positions_of(queries)
        first, second = set(), set()
        for _, s in sents:
            toks = tokenize(s)
            idx = _content_index(toks, canon)
            if len(idx) >= 2:
                first.add(toks[idx[0]])
                second.add(toks[idx[1]])
        return cls(sents, pos, sorted(first), sorted(second))

    @staticmethod
    def positions_of(queries: list[Query]) -> np.ndarray:
        """(N, 2) moment positions as fractions of the duration (each query's consensus window)."""
        pos = [(s / q.duration, e / q.duration) for q in queries if q.windows and q.duration > 0
               for s, e in [consensus(q.windows)]]
        if not pos:
            raise InputError("simulate: the ground truth holds no moments")
        return np.clip(np.asarray(sorted(pos)), 0.0, 1.0)


def _swap(text: str, slot: int, pool: list[str], rng: np.random.Generator, app: Appearance,
          avoid: set) -> str | None:
    """The sentence with its ``slot``-th content word replaced by another from ``pool``, such
    that its (verb, object) pair is none of ``avoid``."""
    toks = tokenize(text)
    idx = _content_index(toks, app.canon)
    if len(idx) < 2 or not pool:
        return None
    for _ in range(10):
        new = list(toks)
        new[idx[slot]] = pool[int(rng.integers(len(pool)))]
        cand = " ".join(new)
        if app.pair_key(cand) not in avoid:
            return cand
    return None


@dataclass
class Event:
    start: float
    end: float
    appearance: np.ndarray  # (latent_dim,) unit
    kind: str  # described | swap | fill
    texts: tuple[str, ...] = ()  # the sentences it shows (a described event: every merged query's)
    of: int = -1  # a swap: the index of the described event it was made from


def plan_video(vid: str, duration: float, moments: list[tuple[tuple[float, float], str]],
               pools: Pools, app: Appearance, positions: np.ndarray | None = None) -> list[Event]:
    """Every event of one video: the described ones (merged), their swaps, the fill (undescribed
    actions and swaps at moment positions drawn from ``positions``, default every file's)."""
    positions = pools.positions if positions is None else positions
    spec = app.spec
    rng = np.random.default_rng(_stable_seed(spec.seed, "plan", vid))
    events: list[Event] = []
    keys = {app.pair_key(s) for _, s in moments}

    def place(s: float, e: float) -> tuple[float, float]:
        s, e = s + rng.normal(0, spec.jitter_s), e + rng.normal(0, spec.jitter_s)
        s, e = min(max(s, 0.0), duration), min(max(e, 0.0), duration)
        if e - s < 0.5:
            mid = (s + e) / 2
            s, e = max(0.0, mid - 0.25), min(duration, mid + 0.25)
        return s, e

    def at_real_position() -> tuple[float, float]:
        a, b = positions[int(rng.integers(len(positions)))]
        return place(a * duration, b * duration)

    for (s, e), texts in merge_events(moments, spec.merge_iou):
        look = _unit(sum(app.sentence(t) for t in texts))
        me = len(events)
        events.append(Event(*place(s, e), look, "described", tuple(texts)))
        if rng.random() < spec.swaps:
            for slot, pool in ((0, pools.first), (1, pools.second)):
                text = _swap(texts[0], slot, pool, rng, app, keys)
                if text is not None:
                    events.append(Event(*at_real_position(), app.sentence(text), "swap", (text,), me))
    for _ in range(int(rng.poisson(spec.fill))):
        for _try in range(20):
            other, text = pools.sentences[int(rng.integers(len(pools.sentences)))]
            if other != vid and app.pair_key(text) not in keys:
                events.append(Event(*at_real_position(), app.sentence(text), "fill", (text,)))
                break
    return events


def consensus(windows: list[list[float]]) -> tuple[float, float]:
    """The window most annotators chose (DiDeMo has about 4 per query; ties: the first)."""
    counts = Counter((float(s), float(e)) for s, e in windows)
    return max(counts, key=lambda w: (counts[w], -list(counts).index(w)))


def group_videos(queries: list[Query]) -> dict[str, tuple[float, list[tuple[tuple[float, float], str]]]]:
    """video id -> (duration, [(window, sentence)] sorted), one ``consensus`` window per query."""
    videos: dict[str, tuple[float, list]] = {}
    for q in queries:
        dur, moments = videos.setdefault(q.vid, (q.duration, []))
        if abs(dur - q.duration) > 1e-3:
            raise InputError(f"video '{q.vid}': durations differ between queries ({dur} vs {q.duration})")
        if q.windows:
            moments.append((consensus(q.windows), q.query))
    for _, moments in videos.values():
        moments.sort()  # the file's order does not change the bed
    return videos
