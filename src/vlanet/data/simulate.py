"""Simulated test beds (version 2): C3D-like feature rows for *real* annotations.

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
from collections import Counter
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np

from vlanet.data.annotations import Query
from vlanet.data.timing import TimeConvention
from vlanet.data.vocab import WordVectors, tokenize
from vlanet.errors import InputError
from vlanet.io import atomic_path
from vlanet.progress import bar

SIM_VERSION = 2

# Words that name no action or object: the subject, articles, pronouns, particles.  The first two
# tokens outside this list are the event's (verb, object) pair for binding and swaps.
STOP = frozenset("""a an the person persons people someone somebody man woman guy girl boy they their them
he she his her him it its is are was were be being been of to on in into onto at from with and or then
some another up down out off over begins starts start begin starting beginning continues while as by for
there this that again back around through while other one two""".split())


FILL_POSITIONS = ("all", "split", "train")


@dataclass
class SimulationSpec:
    dim: int = 4096  # C3D fc6/fc7 width
    latent_dim: int = 256
    seed: int = 0
    signal: float = 0.35  # norm of an event's appearance (the difficulty; calibrated with oracles)
    binding: float = 0.75  # share of an event's appearance that belongs to its word pair, not its words
    glove_share: float = 0.6  # share of a word's appearance that follows its (centred) word vector
    scene: float = 1.5  # norm of the per-video scene vector
    drift: float = 0.5  # norm of the scene's change from the first row to the last
    noise: float = 1.0  # norm of the per-row AR(1) noise
    smoothness: float = 0.6  # AR(1) coefficient of the noise
    iso_noise: float = 0.5  # independent noise in the full dimension, before the ReLU
    gain: float = 0.25  # std of the log of the per-video gain
    fill: float = 10.0  # mean number of undescribed actions per video, at real moment positions
    swaps: float = 0.5  # probability that a described event gets its two swap distractors
    jitter_s: float = 1.0  # std (s) of each event edge against the annotation
    merge_iou: float = 0.5  # queries of a video overlapping at this IoU are one event
    # Where undescribed actions are placed: 'all' draws from the moment positions of every input
    # file, 'split' from those of the video's own file, 'train' from those of the first file (the
    # training split).  They agree where the splits share one position distribution (Charades-STA,
    # DiDeMo).  Charades-CD's test_ood does not: its bed uses 'train', so a video's undescribed
    # activity sits where activity usually is and only the described moment is out of place
    # (docs/TESTBEDS.md measures all three).
    fill_positions: str = "all"
    dtype: str = "float32"  # float32 | float16 (half the disk)
    # Defaults: signal, fill and swaps were set with the oracles of `vlanet data calibrate` on the
    # Charades-STA bed (docs/TESTBEDS.md), never with a trained model.

    def check(self) -> None:
        if self.dtype not in ("float32", "float16"):
            raise InputError(f"simulate: dtype must be float32 or float16, got {self.dtype!r}")
        if self.dim < 1 or self.latent_dim < 1:
            raise InputError("simulate: dim and latent_dim must be positive")
        for name in ("signal", "scene", "drift", "noise", "iso_noise", "gain", "fill", "jitter_s"):
            v = getattr(self, name)
            if not (math.isfinite(v) and v >= 0):
                raise InputError(f"simulate: {name} must be a finite number >= 0, got {v!r}")
        for name in ("binding", "glove_share", "swaps", "merge_iou"):
            v = getattr(self, name)
            if not (math.isfinite(v) and 0 <= v <= 1):
                raise InputError(f"simulate: {name} must be in [0, 1], got {v!r}")
        if self.fill_positions not in FILL_POSITIONS:
            raise InputError(f"simulate: fill_positions must be one of {', '.join(FILL_POSITIONS)}, "
                             f"got {self.fill_positions!r}")
        if not (math.isfinite(self.smoothness) and 0 <= self.smoothness < 1):
            raise InputError(f"simulate: smoothness must be in [0, 1), got {self.smoothness!r}")


SIM_HELP = {
    "dim": "feature width", "latent_dim": "width of the hidden space events are drawn in",
    "seed": "seed of everything simulated", "signal": "norm of an event's appearance (the difficulty)",
    "binding": "share of an event's appearance that belongs to its (verb, object) pair",
    "glove_share": "share of a word's appearance that follows its centred word vector",
    "scene": "norm of the per-video scene vector", "drift": "norm of the scene's change over the video",
    "noise": "norm of the per-row AR(1) noise", "smoothness": "AR(1) coefficient of the noise",
    "iso_noise": "independent noise in the full dimension", "gain": "std of the log per-video gain",
    "fill": "mean undescribed actions per video, at real moment positions",
    "swaps": "probability that a described event gets its two swap distractors",
    "jitter_s": "std in seconds of each event edge against its annotation",
    "merge_iou": "overlapping queries of a video at this IoU are one event", "dtype": "stored dtype",
    "fill_positions": "undescribed actions at the moment positions of every file (all), of the video's own file "
                      "(split) or of the first file, the training split (train)",
}


def _unit(v: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.maximum(n, 1e-12)


def _stable_seed(*parts: object) -> int:
    return zlib.crc32("\x1f".join(map(str, parts)).encode())


def _direction(spec: SimulationSpec, *key: object) -> np.ndarray:
    return _unit(np.random.default_rng(_stable_seed(spec.seed, *key)).standard_normal(spec.latent_dim))


def _content_index(toks: list[str], canon: dict[str, str] | None) -> list[int]:
    """Positions of the tokens that name an action or object: outside STOP, or with ``canon``
    (synonym -> concept, given for a closed vocabulary) the tokens it names."""
    return [i for i, t in enumerate(toks) if (t in canon if canon else t not in STOP)]


def content_words(text: str, canon: dict[str, str] | None = None) -> list[str]:
    """The sentence's content tokens, mapped through ``canon`` to their concepts."""
    toks = tokenize(text)
    return [canon.get(toks[i], toks[i]) if canon else toks[i] for i in _content_index(toks, canon)]


class Appearance:
    """The hidden mapping from a sentence to its visual appearance (never given to a model)."""

    def __init__(self, spec: SimulationSpec, sentences: list[str], words: WordVectors | None,
                 canon: dict[str, str] | None = None):
        self.spec, self.words, self.canon = spec, words, canon
        docs = [set(tokenize(s)) for s in sentences]
        df = Counter(t for d in docs for t in d)
        n = max(len(docs), 2)
        self.weight = {t: math.log(n / c) / math.log(n) for t, c in df.items()}
        self.centre = None
        if words is not None and len(words.words) > 1:
            self.centre = words.vectors[1:].mean(0)  # the direction every word vector shares
            rng = np.random.default_rng(_stable_seed(spec.seed, "glove-map"))
            self.glove_map = rng.standard_normal((spec.latent_dim, words.dim)).astype(np.float32)
        self._cache: dict[str, np.ndarray] = {}

    def word(self, w: str) -> np.ndarray:
        key = self.canon.get(w, w) if self.canon else w
        a = self._cache.get(key)
        if a is None:
            own = _direction(self.spec, "word", key)
            share = self.spec.glove_share
            if self.centre is not None and w in self.words.index:
                g = _unit(self.glove_map @ (self.words.vectors[self.words.index[w]] - self.centre))
                a = _unit(share * g + math.sqrt(max(0.0, 1 - share * share)) * own)
            else:
                a = own
            self._cache[key] = a
        return a

    def bag(self, text: str) -> np.ndarray:
        """IDF-weighted sum of the words' appearances, unit norm: what a bag of words explains."""
        acc = np.zeros(self.spec.latent_dim)
        for t in tokenize(text):
            acc += self.weight.get(t, 1.0) * self.word(t)
        return _unit(acc)

    def pair_key(self, text: str) -> tuple[str, ...]:
        return tuple(content_words(text, self.canon)[:2])

    def sentence(self, text: str) -> np.ndarray:
        """The full appearance: bag of words plus the pair's own direction (unit norm)."""
        b = self.spec.binding
        pair = _direction(self.spec, "pair", *self.pair_key(text))
        return _unit(math.sqrt(1 - b * b) * self.bag(text) + b * pair)


def _coverage(t0: np.ndarray, spr: float, start: float, end: float) -> np.ndarray:
    return np.clip((np.minimum(end, t0 + spr) - np.maximum(start, t0)) / spr, 0.0, 1.0)


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
            for key, value in sim.time.attrs().items():
                f.attrs[key] = value
            f.attrs["simulated"] = True
            f.attrs["simulator_version"] = SIM_VERSION
            f.attrs["simulation"] = json.dumps(asdict(spec))
            f.attrs["annotations"] = sentence_fingerprint(queries)
            f.attrs["word_vectors"] = words_fingerprint(words)
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
