"""The embedded synthetic dataset: weak supervision you can watch work in minutes, offline.

A deterministic generator (one seed) of videos, moments, sentences and word vectors, shaped like
Charades-STA, whose feature rows are rendered by the version-2 simulator (``data/simulate.py``),
so it has the same honesty properties as the full-scale beds: no direction shared by all
actions, one event per group of overlapping moments, undescribed actions filling the timeline
where moments usually are, (verb, object) binding that a bag of words does not explain, and
swap distractors (other verb, same object; same verb, other object) in the same video.

* videos of 20-40 s, feature rows at the C3D convention (16 frames at 24 fps = 0.667 s);
* 2-4 described moments per video, 3-15 s long (log-normal around 8 s, as in Charades-STA),
  each an action = (verb concept, object concept);
* sentences of 4-10 words from a small compositional grammar
  ("a person opens the red door slowly"); synonyms ("mug", "cup") name one concept and share
  its appearance;
* word vectors (50-d) in which synonyms and words of one category are close, as in GloVe;
  adjectives and adverbs carry no visual signal beyond their share of the bag of words.

No timestamps reach the model during training; the windows in the JSONL are used only to
evaluate.  ``vlanet data calibrate`` prints its oracles and blind probes.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from vlanet.data.annotations import Query
from vlanet.data.features import MemoryStore
from vlanet.data.simulate import SimulationSpec, Simulator, bed_attrs
from vlanet.data.timing import TimeConvention
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
    n_train_videos: int = 600
    n_test_videos: int = 200
    dim: int = 128
    word_dim: int = 50
    described: tuple[int, int] = (2, 4)
    duration: tuple[float, float] = (20.0, 40.0)
    # the renderer's settings (data/simulate.py); dim and latent_dim follow ``dim``
    sim: SimulationSpec = field(default_factory=lambda: SimulationSpec(
        signal=0.6, scene=1.5, noise=1.0, iso_noise=0.5, fill=6.0, swaps=0.5, binding=0.75, glove_share=0.6))


@dataclass
class SyntheticData:
    splits: dict[str, list[Query]]  # "train", "test"
    store: MemoryStore
    words: WordVectors
    time: TimeConvention
    simulator: Simulator  # the hidden appearance, for the oracles


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


def canon_map() -> dict[str, str]:
    """surface form -> concept, for words that name a verb or an object (synonyms share one)."""
    canon = {f.split()[0]: c for c, forms in VERBS.items() for f in forms}
    canon.update({f: c for cat in OBJECTS.values() for c, forms in cat.items() for f in forms})
    return canon


def world_simulator(queries: list[Query], spec: SimulationSpec, words: WordVectors, time: TimeConvention,
                    splits: list[list[Query]] | None = None) -> Simulator:
    """The renderer of the synthetic world, as ``generate`` made it.  A synonym's appearance
    follows the word vector of the first form of its concept that the planning meets, so every
    video is planned here in sorted order: the oracles of ``vlanet data calibrate`` on the
    written files then see the appearance the rows were rendered with."""
    sim = Simulator(queries, spec, words, time, canon=canon_map(), splits=splits)
    for vid in sorted(sim.videos):
        sim.events(vid)
    return sim


def generate(spec: SyntheticSpec) -> SyntheticData:
    rng = np.random.default_rng(spec.seed)
    time = TimeConvention("fps", 24.0, 16)
    words = _word_vectors(rng, spec.word_dim)
    verbs = sorted(VERBS)
    objects = {c: forms for cat in OBJECTS.values() for c, forms in cat.items()}
    obj_names = sorted(objects)
    splits: dict[str, list[Query]] = {"train": [], "test": []}
    qid = 0
    for split, n_videos in (("train", spec.n_train_videos), ("test", spec.n_test_videos)):
        for i in range(n_videos):
            vid = f"syn{split[:2]}{i:05d}"
            duration = round(float(rng.uniform(*spec.duration)), 2)
            n_desc = int(rng.integers(spec.described[0], spec.described[1] + 1))
            pairs: list[tuple[str, str]] = []
            while len(pairs) < n_desc:
                p = (str(rng.choice(verbs)), str(rng.choice(obj_names)))
                if p not in pairs:
                    pairs.append(p)
            for verb, obj in pairs:
                length = float(np.clip(rng.lognormal(np.log(8.0), 0.4), 3.0, min(15.0, duration)))
                start = float(rng.uniform(0.0, duration - length))
                sent = _sentence(rng, verb, obj, objects[obj])
                splits[split].append(Query(qid, vid, sent, duration, [[round(start, 2), round(start + length, 2)]]))
                qid += 1
    sim_spec = replace(spec.sim, dim=spec.dim, latent_dim=spec.dim, seed=spec.seed)
    sim = world_simulator(splits["train"] + splits["test"], sim_spec, words, time)
    store = MemoryStore({vid: sim.rows(vid) for vid in sorted(sim.videos)}, time.attrs())
    return SyntheticData(splits, store, words, time, sim)


def simulation_attrs(syn: SyntheticData) -> dict[str, object]:
    """What a features.h5 of the synthetic set records, as ``vlanet data simulate`` does: the
    simulator version (readers refuse another), its settings, fingerprints of the annotations
    and word vectors, and ``world=synthetic`` (the oracles then use the world's synonyms)."""
    queries = [q for qs in syn.splits.values() for q in qs]
    return {**bed_attrs(syn.simulator.spec, queries, syn.words), "world": "synthetic"}


def write_files(spec: SyntheticSpec, out: str | Path) -> dict[str, int]:
    """``vlanet data synthetic``: the dataset in the formats of real data, in folder ``out``:
    features.h5, train.jsonl, test.jsonl, word_vectors.npz and a config.yaml that trains on them.
    Every file is written atomically.  Returns the counts (videos, train, test, words)."""
    import h5py

    from vlanet.data.annotations import write_ground_truth
    from vlanet.data.vocab import save_word_vectors
    from vlanet.utils.io import atomic_path, atomic_write_text

    syn = generate(spec)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(out / "features.h5") as tmp:
        with h5py.File(tmp, "w") as f:
            for k, v in {**syn.time.attrs(), **simulation_attrs(syn)}.items():
                f.attrs[k] = v
            for vid in syn.store.ids():
                f.create_dataset(vid, data=syn.store.get(vid))
    for split, qs in syn.splits.items():
        write_ground_truth(out / f"{split}.jsonl", qs)
    save_word_vectors(out / "word_vectors.npz", syn.words)
    atomic_write_text(out / "config.yaml", (
        "# Train on the files written by `vlanet data synthetic` like any dataset:\n"
        f"#   vlanet train {out / 'config.yaml'}\n"
        "data:\n  source: files\n"
        f"  features: {(out / 'features.h5').resolve()}\n  train: {(out / 'train.jsonl').resolve()}\n"
        f"  test: {(out / 'test.jsonl').resolve()}\n  word_vectors: {(out / 'word_vectors.npz').resolve()}\n"))
    return {"videos": len(list(syn.store.ids())), "train": len(syn.splits["train"]), "test": len(syn.splits["test"]),
            "words": len(syn.words.words)}
