"""A full-scale simulated test bed: C3D-like visual features for *real* annotations.

``vlanet data simulate --gt train.jsonl test.jsonl --out feats.h5`` writes one HDF5 dataset per
video id, in the same format and time convention as the published C3D features, for every video
of the given ground-truth files (e.g. the 6,672 Charades-STA videos).  Everything except the
pixels is real: durations, moments, sentences, and (at training time) the GloVe vectors.

How a video's rows are made (all in a ``latent_dim`` space, then mapped to ``dim``):

* a per-video **scene** vector on every row, plus **AR(1) noise** (coefficient ``smoothness``),
  so neighbouring rows are correlated as in real clip features;
* each **described moment** adds ``signal * (g + m)`` to the rows it covers, with fractional
  coverage at its edges (annotators' windows are averaged for DiDeMo).  ``g`` is a shared
  "something happens" direction, ``m`` the unit-norm appearance of the sentence;
* the appearance of a sentence is the IDF-weighted sum of its words' appearances, so frequent
  words ("a", "person", "the") carry almost nothing.  A word's appearance is a **hidden
  mapping**: ``glove_share`` of it is a fixed random linear map of the word's GloVe vector (so
  synonyms look alike, as they do in real video) and the rest is a random direction of its own;
* ``distractors`` undescribed actions per video (Poisson mean), each the appearance of a
  sentence from a *different* video, at a random place with a real moment length, so "find any
  activity" is not enough;
* the latent rows are mapped to ``dim`` by a fixed random matrix and ``iso_noise`` of
  independent full-dimension noise is added.

Deterministic from ``seed``: each video draws from its own generator seeded by (seed, video id),
so the output does not depend on file order.  Nothing but the rows is written: no times, no
sentences.  Limits: real clip features are not linear in the words of a sentence, actions in
real video do not add up, and the scene does not change within a video here.  Numbers on the
test bed measure whether a method can learn weak alignment at full scale; they are not
Charades-STA results.
"""

from __future__ import annotations

import json
import math
import zlib
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from vlanet.data.annotations import Query
from vlanet.data.features import TimeConvention
from vlanet.data.vocab import WordVectors, tokenize
from vlanet.errors import InputError
from vlanet.io import atomic_path
from vlanet.progress import bar


@dataclass
class SimulationSpec:
    dim: int = 4096  # C3D fc6/fc7 width
    latent_dim: int = 256
    seed: int = 0
    signal: float = 0.2  # norm of a moment's appearance (the difficulty knob; calibrated, see README)
    scene: float = 1.5  # norm of the per-video scene vector
    noise: float = 1.0  # norm of the per-row AR(1) noise
    smoothness: float = 0.6  # AR(1) coefficient of the noise
    iso_noise: float = 0.5  # norm of independent noise added in the full dimension
    distractors: float = 1.5  # mean number of undescribed actions per video
    glove_share: float = 0.6  # share of a word's appearance that follows its GloVe vector
    dtype: str = "float32"  # float32 | float16 (half the disk)


def _unit(v: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.maximum(n, 1e-12)


def _stable_seed(*parts: object) -> int:
    return zlib.crc32("\x1f".join(map(str, parts)).encode())


class Appearance:
    """The hidden word -> appearance mapping and the IDF word weights."""

    def __init__(self, spec: SimulationSpec, sentences: list[str], words: WordVectors | None):
        self.spec = spec
        self.words = words
        docs = [set(tokenize(s)) for s in sentences]
        df = Counter(t for d in docs for t in d)
        n = max(len(docs), 2)
        self.weight = {t: math.log(n / c) / math.log(n) for t, c in df.items()}
        rng = np.random.default_rng(_stable_seed(spec.seed, "glove-map"))
        wdim = words.dim if words is not None else 1
        self.glove_map = rng.standard_normal((spec.latent_dim, wdim)).astype(np.float32)
        self.generic = _unit(rng.standard_normal(spec.latent_dim))
        self._cache: dict[str, np.ndarray] = {}

    def word(self, w: str) -> np.ndarray:
        a = self._cache.get(w)
        if a is None:
            own = _unit(np.random.default_rng(_stable_seed(self.spec.seed, "word", w)).standard_normal(self.spec.latent_dim))
            share = self.spec.glove_share
            if self.words is not None and w in self.words.index:
                g = _unit(self.glove_map @ self.words.vectors[self.words.index[w]])
                a = _unit(share * g + math.sqrt(max(0.0, 1 - share * share)) * own)
            else:
                a = own
            self._cache[w] = a
        return a

    def sentence(self, text: str) -> np.ndarray:
        toks = tokenize(text)
        acc = np.zeros(self.spec.latent_dim)
        for t in toks:
            acc += self.weight.get(t, 1.0) * self.word(t)
        return _unit(self.generic + _unit(acc))


def _coverage(t0: np.ndarray, spr: float, start: float, end: float) -> np.ndarray:
    return np.clip((np.minimum(end, t0 + spr) - np.maximum(start, t0)) / spr, 0.0, 1.0)


def simulate_video(vid: str, duration: float, moments: list[tuple[list[list[float]], str]],
                   pool: list[tuple[str, str, float]], app: Appearance, proj: np.ndarray,
                   time: TimeConvention) -> np.ndarray:
    """Rows (T, dim) for one video. ``moments``: (annotators' windows, sentence) per query;
    ``pool``: (vid, sentence, length) of all moments, for distractors from other videos."""
    spec = app.spec
    rng = np.random.default_rng(_stable_seed(spec.seed, "video", vid))
    spr = time.row_seconds(1, duration)
    n_rows = max(1, int(math.ceil(duration / spr - 1e-6)))
    t0 = np.arange(n_rows) * spr
    k = spec.latent_dim
    x = np.tile(_unit(rng.standard_normal(k)) * spec.scene, (n_rows, 1))
    eps = rng.standard_normal((n_rows, k)) * spec.noise / math.sqrt(k)
    rho = spec.smoothness
    for t in range(1, n_rows):
        eps[t] = rho * eps[t - 1] + math.sqrt(1 - rho * rho) * eps[t]
    x += eps
    for windows, sentence in moments:
        cover = np.mean([_coverage(t0, spr, s, e) for s, e in windows], axis=0)
        x += spec.signal * cover[:, None] * app.sentence(sentence)[None, :]
    for _ in range(int(rng.poisson(spec.distractors))):
        for _try in range(10):
            other, sentence, length = pool[int(rng.integers(len(pool)))]
            if other != vid:
                break
        length = min(length, duration)
        start = float(rng.uniform(0.0, duration - length))
        x += spec.signal * _coverage(t0, spr, start, start + length)[:, None] * app.sentence(sentence)[None, :]
    out = x.astype(np.float32) @ proj
    out += rng.standard_normal(out.shape, dtype=np.float32) * (spec.iso_noise / math.sqrt(spec.dim))
    return out


def simulate(queries: list[Query], out: str | Path, spec: SimulationSpec,
             words: WordVectors | None = None, time: TimeConvention | None = None,
             progress: bool = True) -> dict[str, int]:
    """Write the simulated features of every video in ``queries`` to the HDF5 file ``out``."""
    import h5py

    if spec.dtype not in ("float32", "float16"):
        raise InputError(f"simulate: dtype must be float32 or float16, got {spec.dtype!r}")
    if spec.dim < 1 or spec.latent_dim < 1:
        raise InputError("simulate: dim and latent_dim must be positive")
    time = time or TimeConvention("fps", 24.0, 16)
    if time.kind not in ("fps", "seconds") or time.row_seconds(1, 1.0) <= 0:
        raise InputError("simulate: the time convention must be fps or seconds with a positive row length")
    videos: dict[str, tuple[float, list[tuple[list[list[float]], str]]]] = {}
    for q in queries:
        dur, moments = videos.setdefault(q.vid, (q.duration, []))
        if abs(dur - q.duration) > 1e-3:
            raise InputError(f"video '{q.vid}': durations differ between queries ({dur} vs {q.duration})")
        if q.windows:
            moments.append((q.windows, q.query))
    pool = sorted((q.vid, q.query, float(np.mean([e - s for s, e in q.windows]))) for q in queries if q.windows)
    if not pool:
        raise InputError("simulate: the ground truth holds no moments")
    app = Appearance(spec, [q.query for q in queries], words)
    proj = np.random.default_rng(_stable_seed(spec.seed, "projection")).standard_normal(
        (spec.latent_dim, spec.dim)).astype(np.float32) / math.sqrt(spec.dim)  # norm-preserving on average
    rows = 0
    with atomic_path(out) as tmp:
        with h5py.File(tmp, "w") as f:
            for key, value in time.attrs().items():
                f.attrs[key] = value
            f.attrs["simulated"] = True
            f.attrs["simulation"] = json.dumps(asdict(spec))
            for vid in bar(sorted(videos), total=len(videos), desc="simulate", enabled=progress):
                duration, moments = videos[vid]
                x = simulate_video(vid, duration, moments, pool, app, proj, time)
                f.create_dataset(vid, data=x.astype(spec.dtype))
                rows += len(x)
    return {"videos": len(videos), "rows": rows, "queries": len(queries)}
