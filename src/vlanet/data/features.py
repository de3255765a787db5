"""Feature stores: where per-video feature rows come from.

Sources read as published: an HDF5 file with one dataset per video id (also ``vid/<name>``
groups), a directory of ``<vid>.npy`` / ``<vid>.npz`` files, or an in-memory dict.  Reads are
lazy: only the rows of the videos in a batch are loaded, so stores larger than RAM work.

How rows map to seconds is data/timing.py; summarising and checking a store
(``vlanet features inspect``) is data/inspect.py.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from vlanet.utils.errors import InputError


class FeatureStore:
    """Base class: ``get(vid)`` returns validated float32 rows (T, F)."""

    path: str = "<memory>"
    attrs: dict[str, Any]

    def ids(self) -> Iterable[str]:
        raise NotImplementedError

    def _raw(self, vid: str) -> np.ndarray:
        raise NotImplementedError

    def __contains__(self, vid: str) -> bool:
        return vid in set(self.ids())

    @property
    def dim(self) -> int:
        first = next(iter(self.ids()), None)
        if first is None:
            raise InputError(f"{self.path}: feature store holds no videos")
        return int(self.shape(first)[1])

    def n_rows(self, vid: str) -> int:
        """Number of feature rows of a video (formats that know it answer without reading)."""
        return int(self.shape(vid)[0])

    def _missing(self, vid: str) -> InputError:
        """The error for a video id the store does not hold."""
        return InputError(f"{self.path}: video id '{vid}' not found in the feature store")

    def get(self, vid: str) -> np.ndarray:
        try:
            x = self._raw(vid)
        except KeyError:
            raise self._missing(vid) from None
        self._check_shape(vid, x.shape)
        self._check_finite(vid, x)
        return np.ascontiguousarray(x, dtype=np.float32)

    def shape(self, vid: str) -> tuple[int, int]:
        """(rows, dim) of a video (formats that know it answer without reading)."""
        return self.get(vid).shape

    def read_into(self, vid: str, out: np.ndarray) -> None:
        """Validated rows of a video written into ``out`` (float32, of shape ``shape(vid)``):
        what collate uses, so a batch is filled without an intermediate copy where the format
        reads in place."""
        out[...] = self.get(vid)

    def _check_shape(self, vid: str, shape: tuple[int, ...]) -> None:
        if len(shape) != 2:
            raise InputError(f"{self.path}: video '{vid}': expected a (rows, dim) array, got shape {shape}")
        if shape[0] == 0:
            raise InputError(f"{self.path}: video '{vid}': zero feature rows")

    def _check_finite(self, vid: str, x: np.ndarray) -> None:
        check_numeric(self.path, vid, x.dtype)
        if not np.isfinite(x).all():
            bad = int(np.argwhere(~np.isfinite(x))[0, 0])
            raise InputError(f"{self.path}: video '{vid}': NaN or inf in feature row {bad}")


class MemoryStore(FeatureStore):
    def __init__(self, feats: dict[str, np.ndarray], attrs: dict[str, Any] | None = None):
        self.feats, self.attrs = feats, dict(attrs or {})

    def ids(self) -> Iterable[str]:
        return self.feats.keys()

    def __contains__(self, vid: str) -> bool:
        return vid in self.feats

    def _raw(self, vid: str) -> np.ndarray:
        return self.feats[vid]

    def shape(self, vid: str) -> tuple[int, int]:
        if vid not in self.feats:
            raise self._missing(vid)
        shape = tuple(np.shape(self.feats[vid]))
        self._check_shape(vid, shape)
        return shape


class HDF5Store(FeatureStore):
    """One dataset per video id, or a group per video holding one 2-D dataset."""

    def __init__(self, path: str | Path):
        import h5py

        self.path = str(path)
        self._h5py = h5py
        self._file = None
        self._pid = -1
        try:
            f = self._open()
        except OSError as e:
            raise InputError(f"{self.path}: not a readable HDF5 file ({str(e).splitlines()[0]})") from None
        self.attrs = {k: (v.decode() if isinstance(v, bytes) else v.item() if hasattr(v, "item") else v)
                      for k, v in f.attrs.items()}
        self._ids = list(f.keys())

    def _open(self):
        if self._file is None or self._pid != os.getpid():  # h5py handles must not cross fork()
            self._file = self._h5py.File(self.path, "r")
            self._pid = os.getpid()
            self._nodes = {}
        return self._file

    def ids(self) -> Iterable[str]:
        return self._ids

    def __contains__(self, vid: str) -> bool:
        return vid in self._open()

    def _node(self, vid: str):
        """The dataset of a video (a group's only dataset), looked up once per process."""
        self._open()
        node = self._nodes.get(vid)
        if node is None:
            try:
                node = self._file[vid]
            except KeyError:
                raise self._missing(vid) from None
            if isinstance(node, self._h5py.Group):
                arrays = [k for k in node.keys() if isinstance(node[k], self._h5py.Dataset)]
                if len(arrays) != 1:
                    raise InputError(f"{self.path}: group '{vid}' must hold exactly one dataset, has {arrays}")
                node = node[arrays[0]]
            self._nodes[vid] = node
        return node

    def shape(self, vid: str) -> tuple[int, int]:
        shape = tuple(self._node(vid).shape)
        self._check_shape(vid, shape)
        return shape

    def read_into(self, vid: str, out: np.ndarray) -> None:
        node = self._node(vid)
        if out.dtype != np.float32 or not out.flags.c_contiguous or tuple(out.shape) != self.shape(vid):
            return super().read_into(vid, out)
        try:  # straight from the file into the batch (HDF5 converts other float types)
            node.id.read(self._h5py.h5s.ALL, self._h5py.h5s.ALL, out)
        except (OSError, TypeError) as e:
            raise InputError(f"{self.path}: video '{vid}': unreadable dataset ({str(e).splitlines()[0]})") from None
        self._check_finite(vid, out)

    def _raw(self, vid: str) -> np.ndarray:
        node = self._node(vid)
        try:
            return node[()]
        except OSError as e:
            raise InputError(f"{self.path}: video '{vid}': unreadable dataset ({str(e).splitlines()[0]})") from None

    def __getstate__(self):  # picklable for DataLoader workers: reopen lazily
        d = dict(self.__dict__)
        d["_file"], d["_h5py"], d["_nodes"] = None, None, {}
        return d

    def __setstate__(self, d):
        import h5py

        self.__dict__.update(d)
        self._h5py = h5py


class NpyDirStore(FeatureStore):
    """A directory of ``<vid>.npy`` or ``<vid>.npz`` (array ``features``, or the only array)."""

    def __init__(self, path: str | Path):
        self.path = str(path)
        root = Path(path)
        self._files = {f.stem: f for f in sorted(root.iterdir()) if f.suffix in (".npy", ".npz")}
        self._shapes: dict[str, tuple[int, ...]] = {}
        self.attrs = {}

    def ids(self) -> Iterable[str]:
        return self._files.keys()

    def __contains__(self, vid: str) -> bool:
        return vid in self._files

    def _raw(self, vid: str) -> np.ndarray:
        f = self._files[vid]
        try:
            z = np.load(f, allow_pickle=False)
        except Exception as e:
            raise InputError(f"{f}: not a readable numpy file ({type(e).__name__})") from None
        if f.suffix == ".npz":
            keys = list(z.keys())
            key = "features" if "features" in keys else keys[0] if len(keys) == 1 else None
            if key is None:
                raise InputError(f"{f}: expected an array 'features' (found {keys})")
            return z[key]
        return z

    def header(self, vid: str) -> tuple[tuple[int, ...], str] | None:
        """Shape and dtype of a ``.npy`` video without reading its rows (None for ``.npz``)."""
        f = self._files[vid]
        if f.suffix != ".npy":
            return None
        try:
            a = np.load(f, mmap_mode="r", allow_pickle=False)
        except Exception as e:
            raise InputError(f"{f}: not a readable numpy file ({type(e).__name__})") from None
        return tuple(a.shape), str(a.dtype)

    def shape(self, vid: str) -> tuple[int, int]:
        if vid not in self._files:
            raise self._missing(vid)
        if vid not in self._shapes:  # collate asks for every query of a batch
            head = self.header(vid)
            self._shapes[vid] = super().shape(vid) if head is None else head[0]
            self._check_shape(vid, self._shapes[vid])
        return self._shapes[vid]


class ResidentStore(FeatureStore):
    """The rows of the given videos of another store, read once into one (R + 1, F) float32
    tensor in RAM or on a device (``data.preload``); the last row is zeros, for padding.

    A batch is then one ``gather`` (an index_select on the table's device) instead of a file
    read per video: on a GPU the batch never crosses PCIe.  Memory: the features of every
    listed video (Charades-STA C3D, train + test: 6,672 videos, 5.1 GB).
    """

    def __init__(self, store: FeatureStore, vids: Iterable[str], device: str | Any = "cpu", progress: bool = True):
        import torch

        from vlanet.utils.progress import bar

        vids = list(dict.fromkeys(vids))
        if not vids:
            raise InputError(f"{store.path}: nothing to preload (no videos in the requested splits)")
        self.path, self.attrs = store.path, dict(store.attrs)
        shapes = [store.shape(v) for v in vids]
        dim = shapes[0][1]
        for v, (_, f) in zip(vids, shapes):
            if f != dim:
                raise InputError(f"{store.path}: video '{v}' has feature dim {f}, expected {dim}")
        self.rows: dict[str, tuple[int, int]] = {}  # vid -> (first row in the table, rows)
        total = sum(n for n, _ in shapes)
        table = torch.empty(total + 1, dim)
        x = table.numpy()
        at = 0
        for v, (n, _) in bar(zip(vids, shapes), total=len(vids), desc=f"preload {Path(store.path).name}", enabled=progress):
            store.read_into(v, x[at:at + n])
            self.rows[v] = (at, n)
            at += n
        x[total] = 0
        self.zero_row = total
        self.table = table.to(device)

    def ids(self) -> Iterable[str]:
        return self.rows.keys()

    def __contains__(self, vid: str) -> bool:
        return vid in self.rows

    def shape(self, vid: str) -> tuple[int, int]:
        if vid not in self.rows:
            raise InputError(f"{self.path}: video id '{vid}' was not preloaded")
        return self.rows[vid][1], int(self.table.shape[1])

    def _raw(self, vid: str) -> np.ndarray:
        at, n = self.rows[vid]
        return self.table[at:at + n].cpu().numpy()

    def gather(self, vids: list[str], length: int) -> Any:
        """(B, length, F) on the table's device: each video's rows, then zero rows."""
        import torch

        index = torch.full((len(vids), length), self.zero_row, dtype=torch.long)
        for j, v in enumerate(vids):
            at, n = self.rows[v]
            index[j, :n] = torch.arange(at, at + n)
        index = index.to(self.table.device)
        return self.table.index_select(0, index.view(-1)).view(len(vids), length, -1)


def open_store(path: str | Path) -> FeatureStore:
    p = Path(path)
    if p.is_dir():
        return NpyDirStore(p)
    if not p.is_file():
        raise InputError(f"{p}: feature file or directory not found (set data.features)")
    return HDF5Store(p)


def check_numeric(path: str | Path, vid: str, dtype: Any) -> None:
    """Feature rows are numbers (integers or floats), not strings or objects."""
    try:
        ok = np.issubdtype(np.dtype(dtype), np.integer) or np.issubdtype(np.dtype(dtype), np.floating)
    except TypeError:
        ok = False
    if not ok:
        raise InputError(f"{path}: video '{vid}': feature rows must be numeric, got dtype {dtype}")
