"""Simulated test beds (version 2): C3D-like feature rows for *real* annotations.  A bed's
settings and a sentence's appearance are appearance.py; the events of a video (merged moments,
swaps, fill) are events.py; this module renders them and writes the versioned file.

``vlanet data simulate --gt train.jsonl test.jsonl --out feats.h5`` writes one HDF5 dataset per
video id, in the format and time convention of the published features, for every video of the
given ground-truth files.  Durations, moments and sentences are real; only the pixels are
simulated.  The embedded synthetic dataset (``data/synthetic.py``) renders its rows with the
same code.

A test bed is honest when **no moment can be found without the sentence**: a language-blind
probe must do no better than the blind prior, while an oracle that knows the sentence's
appearance must do far better.  Version 1 failed that test (a linear probe with no text reached
R@1,IoU=0.5 55.9 against a prior of 28.9): every moment carried one shared "something happens"
direction, overlapping queries stacked their evidence, and distractors sat uniformly in time.
Version 2 is built so that the only cue to a moment is what the sentence says:

* **events, not queries**: the queries of a video whose windows overlap (IoU >= ``merge_iou``)
  are one event, rendered once, so paraphrases do not stack;
* **no shared direction**: a word's appearance is a random direction of its own, mixed with a
  fixed random map of its *centred* word vector (``glove_share``; centring removes the direction
  that all GloVe vectors share);
* **non-additive binding**: an event's appearance is ``sqrt(1 - binding^2) * bag-of-words +
  binding * pair``, where *pair* is a random direction of its (first, second) content word, in
  practice (verb, object); a bag of words does not explain it;
* **swap distractors**: with probability ``swaps`` a described event gets two undescribed
  events in the same video, (other verb, same object) and (same verb, other object);
* **a full timeline**: ``fill`` undescribed actions per video (Poisson mean), sentences of
  other videos, placed where the split's real moments lie (their start and end as fractions of
  the duration), so "some action is here" points to where moments usually are and no further;
* **realistic rows**: a scene that drifts within the video, AR(1) noise, a per-video gain,
  event boundaries jittered against the annotation (``jitter_s``), and non-negative rows
  (a ReLU, as in C3D fc7).

Calibration uses oracles only (``vlanet data calibrate``): the true-sentence oracle, the
bag-of-words oracle, the blind probes and the prior; never a trained model.  Deterministic from
``seed``: each video draws from its own generator seeded by (seed, video id).  Files record
``simulator_version`` and the settings; readers refuse another version.  Limits: real clip
features are not a linear map of words, and the binding here is one random direction per
word pair.  Numbers on these beds measure whether a method grounds language under weak
supervision; they are not Charades-STA or DiDeMo results.
"""

from __future__ import annotations

import json
import math
import zlib
from dataclasses import asdict, fields
from pathlib import Path

import numpy as np

from vlanet.data.annotations import Query
from vlanet.data.appearance import Appearance, SimulationSpec, _stable_seed, _unit
from vlanet.data.events import Event, Pools, group_videos, plan_video
from vlanet.data.timing import TimeConvention
from vlanet.data.vocab import WordVectors
from vlanet.utils.errors import InputError
from vlanet.utils.io import atomic_path
from vlanet.utils.progress import bar

SIM_VERSION = 2


def _coverage(t0: np.ndarray, spr: float, start: float, end: float) -> np.ndarray:
    return np.clip((np.minimum(end, t0 + spr) - np.maximum(start, t0)) / spr, 0.0, 1.0)


def render_video(vid: str, duration: float, events: list[Event], spec: SimulationSpec,
                 proj: np.ndarray, time: TimeConvention) -> np.ndarray:
    """Rows (T, dim) for one video from its events."""
    rng = np.random.default_rng(_stable_seed(spec.seed, "video", vid))
    spr = time.row_seconds(1, duration)
    n_rows = max(1, int(math.ceil(duration / spr - 1e-6)))
    t0 = np.arange(n_rows) * spr
    k = spec.latent_dim
    frac = (t0 / max(duration, 1e-6))[:, None]
    scene = _unit(rng.standard_normal(k)) * spec.scene + frac * _unit(rng.standard_normal(k)) * spec.drift
    eps = rng.standard_normal((n_rows, k)) * spec.noise / math.sqrt(k)
    rho = spec.smoothness
    for t in range(1, n_rows):
        eps[t] = rho * eps[t - 1] + math.sqrt(1 - rho * rho) * eps[t]
    x = scene + eps
    for ev in events:
        x += spec.signal * _coverage(t0, spr, ev.start, ev.end)[:, None] * ev.appearance[None, :]
    out = x.astype(np.float32) @ proj
    out += rng.standard_normal(out.shape, dtype=np.float32) * np.float32(spec.iso_noise / math.sqrt(spec.dim))
    gain = math.exp(rng.normal(0.0, spec.gain))
    return np.maximum(out, 0.0) * np.float32(gain)


def projection(spec: SimulationSpec) -> np.ndarray:
    """The fixed latent -> feature map, norm-preserving on average."""
    rng = np.random.default_rng(_stable_seed(spec.seed, "projection"))
    return rng.standard_normal((spec.latent_dim, spec.dim)).astype(np.float32) / math.sqrt(spec.dim)


class Simulator:
    """Everything a bed is made of, from the queries and the spec: used to write a bed, to
    render the synthetic dataset, and by the oracles to know each sentence's appearance."""

    def __init__(self, queries: list[Query], spec: SimulationSpec, words: WordVectors | None = None,
                 time: TimeConvention | None = None, canon: dict[str, str] | None = None,
                 splits: list[list[Query]] | None = None):
        """``splits``: the queries by input file, for ``spec.fill_positions`` split or train (a
        video belongs to the first file that lists it; the first file is the training split)."""
        spec.check()
        self.spec = spec
        self.time = time or TimeConvention("fps", 24.0, 16)
        if self.time.kind not in ("fps", "seconds") or self.time.row_seconds(1, 1.0) <= 0:
            raise InputError("simulate: the time convention must be fps or seconds with a positive row length")
        self.videos = group_videos(queries)
        self.pools = Pools.from_queries(queries, canon)
        self.app = Appearance(spec, [q.query for q in queries], words, canon)
        self.proj = projection(spec)
        self.own_positions: dict[str, np.ndarray] = {}  # fill_positions split/train: video -> positions
        if spec.fill_positions != "all":
            if not splits:
                raise InputError(f"simulate: fill_positions={spec.fill_positions} needs the queries by split "
                                 "(one --gt file each, the training split first)")
            train = Pools.positions_of(splits[0])
            for split in splits:
                pos = Pools.positions_of(split) if spec.fill_positions == "split" else train
                for q in split:
                    self.own_positions.setdefault(q.vid, pos)

    def events(self, vid: str) -> list[Event]:
        duration, moments = self.videos[vid]
        return plan_video(vid, duration, moments, self.pools, self.app, self.own_positions.get(vid))

    def rows(self, vid: str) -> np.ndarray:
        return render_video(vid, self.videos[vid][0], self.events(vid), self.spec, self.proj, self.time)

    def direction(self, text: str, bag_only: bool = False) -> np.ndarray:
        """A sentence's appearance in feature space (the oracles' knowledge)."""
        a = self.app.bag(text) if bag_only else self.app.sentence(text)
        return (a.astype(np.float32) @ self.proj)


def sentence_fingerprint(queries: list[Query]) -> str:
    """Identifies the annotations a bed was simulated from (the IDF weights depend on them)."""
    return f"{zlib.crc32(json.dumps(sorted((q.vid, q.query) for q in queries)).encode()):08x}"


def words_fingerprint(words: WordVectors | None) -> str:
    """Identifies the word vectors a bed was simulated with (part of each word's appearance)."""
    if words is None:
        return "none"
    blob = "|".join(words.words).encode() + np.ascontiguousarray(words.vectors, dtype=np.float32).tobytes()
    return f"{zlib.crc32(blob):08x}"


def bed_attrs(spec: SimulationSpec, queries: list[Query], words: WordVectors | None) -> dict[str, object]:
    """The HDF5 attributes that identify a simulated file: the simulator version (readers
    refuse another), the spec, and fingerprints of the annotations and word vectors."""
    return {"simulated": True, "simulator_version": SIM_VERSION, "simulation": json.dumps(asdict(spec)),
            "annotations": sentence_fingerprint(queries), "word_vectors": words_fingerprint(words)}


def simulate(queries: list[Query], out: str | Path, spec: SimulationSpec,
             words: WordVectors | None = None, time: TimeConvention | None = None,
             progress: bool = True, splits: list[list[Query]] | None = None) -> dict[str, int]:
    """Write the simulated features of every video in ``queries`` to the HDF5 file ``out``
    (``splits``: the same queries by input file, see ``Simulator``)."""
    import h5py

    sim = Simulator(queries, spec, words, time, splits=splits)
    rows = 0
    with atomic_path(out) as tmp:
        with h5py.File(tmp, "w") as f:
            for key, value in {**sim.time.attrs(), **bed_attrs(spec, queries, words)}.items():
                f.attrs[key] = value
            for vid in bar(sorted(sim.videos), total=len(sim.videos), desc="simulate", enabled=progress):
                x = sim.rows(vid)
                f.create_dataset(vid, data=x.astype(spec.dtype))
                rows += len(x)
    return {"videos": len(sim.videos), "rows": rows, "queries": len(queries)}


def check_version(attrs: dict, source: str) -> None:
    """A simulated file from another simulator version is refused (its beds are not these)."""
    if attrs.get("simulated"):
        version = int(attrs.get("simulator_version", 1))
        if version != SIM_VERSION:
            raise InputError(f"{source}: simulated test bed of version {version}; this vlanet reads version "
                             f"{SIM_VERSION} only (write it again with `vlanet data simulate`)")


def spec_from_attrs(attrs: dict, source: str) -> SimulationSpec:
    """The spec a simulated file was written with; another simulator version is refused."""
    if not attrs.get("simulated"):
        raise InputError(f"{source}: not a simulated feature file (no 'simulated' attribute)")
    check_version(attrs, source)
    try:
        raw = json.loads(attrs["simulation"])
        names = {f.name for f in fields(SimulationSpec)}
        return SimulationSpec(**{k: v for k, v in raw.items() if k in names})
    except (KeyError, TypeError, ValueError) as e:
        raise InputError(f"{source}: unreadable 'simulation' attribute ({e})") from None
