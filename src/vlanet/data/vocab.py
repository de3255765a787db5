"""Tokenisation and word vectors, shared by training and inference.

Tokenisation (one rule everywhere): lower-case, then the maximal runs of ``[a-z0-9]``;
everything else (punctuation, apostrophes) separates tokens.  "person's door." ->
["person", "s", "door"].  Words missing from the vector table are skipped and counted; a query
with no known word is an InputError.

Row 0 of every table is ``<PAD>`` (all zeros).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vlanet.errors import InputError

TOKEN_RE = re.compile(r"[a-z0-9]+")
PAD = "<PAD>"


def tokenize(text: str) -> list[str]:
    return TOKEN_RE.findall(text.lower())


@dataclass
class WordVectors:
    words: list[str]
    vectors: np.ndarray  # (V, Dw) float32, row 0 = <PAD>

    def __post_init__(self) -> None:
        self.index = {w: i for i, w in enumerate(self.words)}

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    def encode(self, text: str) -> tuple[list[int], int]:
        """Token ids of the known words of ``text`` and the number of unknown tokens."""
        toks = tokenize(text)
        ids = [self.index[t] for t in toks if t in self.index and t != PAD]
        return ids, len(toks) - len(ids)

    def restrict(self, keep: set[str]) -> WordVectors:
        """A smaller table with only the words in ``keep`` (plus <PAD>), order preserved."""
        rows = [0] + [i for i, w in enumerate(self.words) if i > 0 and w in keep]
        return WordVectors([self.words[i] for i in rows], self.vectors[rows])


def load_word_vectors(path: str | Path) -> WordVectors:
    """Load the ``.npz`` table format (arrays ``words`` and ``vectors``; row 0 = <PAD>)."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: word-vector file not found (set data.word_vectors)")
    try:
        z = np.load(p, allow_pickle=False)
        words, vectors = z["words"], z["vectors"]
    except KeyError as e:
        raise InputError(f"{p}: missing array {e} (expected 'words' and 'vectors')") from None
    except Exception as e:  # corrupt zip, pickled object arrays, ...
        raise InputError(f"{p}: not a readable .npz word-vector table ({type(e).__name__})") from None
    if vectors.ndim != 2 or len(words) != len(vectors):
        raise InputError(f"{p}: 'vectors' must be (len(words), dim); got {vectors.shape} for {len(words)} words")
    if not np.isfinite(vectors).all():
        raise InputError(f"{p}: 'vectors' contains NaN or inf")
    words = [str(w) for w in words]
    if words[0] != PAD:
        words = [PAD] + words
        vectors = np.concatenate([np.zeros((1, vectors.shape[1]), vectors.dtype), vectors])
    return WordVectors(words, vectors.astype(np.float32))


def save_word_vectors(path: str | Path, wv: WordVectors) -> None:
    from vlanet.io import atomic_write

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as f:
            np.savez(f, words=np.asarray(wv.words), vectors=wv.vectors)

    atomic_write(path, write)
