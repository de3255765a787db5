"""The embedded synthetic dataset: weak supervision you can watch work in minutes, offline.

A deterministic generator (one seed) of videos, moments, sentences and word vectors, shaped like
Charades-STA:

* videos of 20-40 s, feature rows at the C3D convention (16 frames at 24 fps = 0.667 s);
* 2-4 described moments per video, 3-15 s long (log-normal around 8 s, as in Charades-STA),
  each an action = (verb concept, object concept); moments may overlap;
* 1-2 *undescribed* distractor actions per video that often share the verb or the object of a
  described one, so "find any activity" or "find the verb" is not enough;
* sentences of 5-10 words from a small compositional grammar
  ("a person opens the red door slowly");
* a **hidden mapping** from concepts to visual appearance: each verb and object concept has a
  random direction in feature space, and an action adds  g + a_verb + b_object  to the rows it
  covers (g = a generic "something happens" direction), with fractional coverage at its edges.
  The model never sees this mapping; it must discover it from (video, sentence) pairs.
* every row also carries the video's scene vector and temporally-correlated (AR(1)) noise;
* word vectors (50-d) in which synonyms and words of one category are close, as in GloVe;
  adjectives and adverbs carry no visual signal.

No timestamps reach the model during training; the windows in the JSONL are used only to
evaluate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vlanet.data.annotations import Query
from vlanet.data.features import MemoryStore, TimeConvention
from vlanet.data.vocab import PAD, WordVectors

# concept -> surface forms (synonyms share a concept, hence an appearance and close vectors)
VERBS = {
    "open": ["opens", "opening"], "close": ["closes", "shuts"], "hold": ["holds", "holding"],
    "eat": ["eats", "eating"], "drink": ["drinks", "sips"], "wash": ["washes", "cleans"],
    "put": ["puts", "places"], "take": ["takes", "grabs"], "throw": ["throws", "tosses"],
    "watch": ["watches", "looks at"], "fix": ["fixes", "repairs"], "carry": ["carries", "moves"],
}
OBJECTS = {  # category -> concept -> surface forms
    "kitchen": {"cup": ["cup", "mug"], "plate": ["plate", "dish"], "sandwich": ["sandwich"],
                "bottle": ["bottle"], "fridge": ["fridge", "refrigerator"]},
    "room": {"door": ["door"], "window": ["window"], "light": ["light", "lamp"],
             "chair": ["chair"], "table": ["table"]},
    "things": {"book": ["book"], "phone": ["phone"], "laptop": ["laptop", "computer"],
               "pillow": ["pillow"], "towel": ["towel"], "bag": ["bag", "backpack"]},
}
SUBJECTS = ["a person", "the person", "someone", "person", "a man", "a woman"]
DETS = ["a", "the", "some", "their"]
ADJS = ["", "", "red", "small", "old", "blue", "big"]
TAILS = ["", "", "", "slowly", "again", "in the room", "then leaves", "at home"]


@dataclass
class SyntheticSpec:
    seed: int = 0
    n_train_videos: int = 700
    n_test_videos: int = 200
    dim: int = 128
    word_dim: int = 50
    noise: float = 1.0  # std of the per-row noise (norm ~ noise)
    scene: float = 1.5  # norm of the per-video scene vector
    signal: float = 1.0  # norm of each appearance direction
    distractors: tuple[int, int] = (1, 2)
    described: tuple[int, int] = (2, 4)
    duration: tuple[float, float] = (20.0, 40.0)


@dataclass
class SyntheticData:
    splits: dict[str, list[Query]]  # "train", "test"
    store: MemoryStore
    words: WordVectors
    time: TimeConvention


def _unit(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    v = rng.standard_normal((n, d))
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _word_vectors(rng: np.random.Generator, dim: int) -> WordVectors:
    """GloVe-like table: synonyms and same-category words are close; every word ~ norm 5."""
    vocab: dict[str, np.ndarray] = {}

    def add(word: str, vec: np.ndarray) -> None:
        for w in word.split():
            if w not in vocab:
                vocab[w] = vec + 0.25 * _unit(rng, 1, dim)[0]

    for forms in VERBS.values():
        base = _unit(rng, 1, dim)[0]
        for f in forms:
            add(f, base)
    for cat in OBJECTS.values():
        centre = _unit(rng, 1, dim)[0]
        for forms in cat.values():
            base = 0.6 * centre + 0.8 * _unit(rng, 1, dim)[0]
            for f in forms:
                add(f, base)
    for w in " ".join(SUBJECTS + DETS + ADJS + TAILS).split():
        add(w, _unit(rng, 1, dim)[0])
    words = [PAD] + sorted(vocab)
    vecs = np.stack([np.zeros(dim)] + [vocab[w] / np.linalg.norm(vocab[w]) * 5.0 for w in words[1:]])
    return WordVectors(words, vecs.astype(np.float32))


def _sentence(rng: np.random.Generator, verb: str, obj: str, obj_forms: list[str]) -> str:
    parts = [rng.choice(SUBJECTS), rng.choice(VERBS[verb]), rng.choice(DETS)]
    adj = rng.choice(ADJS)
    if adj:
        parts.append(adj)
    parts.append(rng.choice(obj_forms))
    tail = rng.choice(TAILS)
    if tail:
        parts.append(tail)
    return " ".join(parts) + "."


def generate(spec: SyntheticSpec) -> SyntheticData:
    rng = np.random.default_rng(spec.seed)
    time = TimeConvention("fps", 24.0, 16)
    spr = time.row_seconds(1, 1.0)
    words = _word_vectors(rng, spec.word_dim)
    verbs = sorted(VERBS)
    objects = {c: forms for cat in OBJECTS.values() for c, forms in cat.items()}
    obj_names = sorted(objects)
    d = spec.dim
    # The hidden mapping: concept -> appearance direction (never given to the model).
    generic = _unit(rng, 1, d)[0] * spec.signal
    a_verb = dict(zip(verbs, _unit(rng, len(verbs), d) * spec.signal))
    b_obj = dict(zip(obj_names, _unit(rng, len(obj_names), d) * spec.signal))

    feats: dict[str, np.ndarray] = {}
    splits: dict[str, list[Query]] = {"train": [], "test": []}
    qid = 0
    for split, n_videos in (("train", spec.n_train_videos), ("test", spec.n_test_videos)):
        for i in range(n_videos):
            vid = f"syn{split[:2]}{i:05d}"
            duration = round(float(rng.uniform(*spec.duration)), 2)
            n_rows = int(np.ceil(duration / spr))
            t0 = np.arange(n_rows) * spr
            # scene + AR(1) noise (temporally smooth), per-dim std so the norm is ~ noise
            x = np.tile(_unit(rng, 1, d)[0] * spec.scene, (n_rows, 1))
            eps = rng.standard_normal((n_rows, d)) * spec.noise / np.sqrt(d)
            for t in range(1, n_rows):
                eps[t] = 0.6 * eps[t - 1] + 0.8 * eps[t]
            x += eps
            n_desc = int(rng.integers(spec.described[0], spec.described[1] + 1))
            n_dist = int(rng.integers(spec.distractors[0], spec.distractors[1] + 1))
            pairs: list[tuple[str, str]] = []
            while len(pairs) < n_desc + n_dist:
                if pairs and rng.random() < 0.5:  # distractors share a verb or object with a described action
                    v0, o0 = pairs[int(rng.integers(len(pairs)))]
                    p = (v0, str(rng.choice(obj_names))) if rng.random() < 0.5 else (str(rng.choice(verbs)), o0)
                else:
                    p = (str(rng.choice(verbs)), str(rng.choice(obj_names)))
                if p not in pairs:
                    pairs.append(p)
            for j, (verb, obj) in enumerate(pairs):
                length = float(np.clip(rng.lognormal(np.log(8.0), 0.4), 3.0, min(15.0, duration)))
                start = float(rng.uniform(0.0, duration - length))
                end = start + length
                cover = np.clip((np.minimum(end, t0 + spr) - np.maximum(start, t0)) / spr, 0.0, 1.0)
                x += cover[:, None] * (generic + a_verb[verb] + b_obj[obj])[None, :]
                if j < n_desc:
                    sent = _sentence(rng, verb, obj, objects[obj])
                    splits[split].append(Query(qid, vid, sent, duration, [[round(start, 2), round(end, 2)]]))
                    qid += 1
            feats[vid] = x.astype(np.float32)
    store = MemoryStore(feats, time.attrs())
    return SyntheticData(splits, store, words, time)
