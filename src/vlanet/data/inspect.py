"""``vlanet features inspect``: summarise a feature store (format, ids, dims, rows, attributes)
and, with ``check``, read every video through the validating reader."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from vlanet.data.features import (
    FeatureStore,
    HDF5Store,
    NpyDirStore,
    check_numeric,
    open_store,
)
from vlanet.utils.errors import InputError


def _shape_of(store: FeatureStore, vid: str) -> tuple[tuple[int, ...], str]:
    """Shape and dtype of a video's array without reading its rows where the format allows."""
    if isinstance(store, HDF5Store):
        node = store._node(vid)
        return tuple(node.shape), str(node.dtype)
    if isinstance(store, NpyDirStore) and (head := store.header(vid)) is not None:
        return head
    a = store._raw(vid)
    return tuple(a.shape), str(a.dtype)


def inspect_store(path: str | Path, limit: int = 5, check: bool = False) -> dict[str, Any]:
    """Summary of a feature store: format, ids, dims, row counts, attributes (``features inspect``).

    ``check`` reads every video through the validating reader (NaN/inf, zero rows, dims).
    """
    store = open_store(path)
    ids = list(store.ids())
    if not ids:
        raise InputError(f"{path}: feature store holds no videos")
    shapes, dtypes = {}, set()
    for vid in ids:
        shape, dtype = _shape_of(store, vid)
        if len(shape) != 2:
            raise InputError(f"{path}: video '{vid}': expected a (rows, dim) array, got shape {shape}")
        check_numeric(path, vid, dtype)
        shapes[vid] = shape
        dtypes.add(dtype)
    dims = sorted({s[1] for s in shapes.values()})
    if len(dims) > 1:
        odd = next(v for v, s in shapes.items() if s[1] != shapes[ids[0]][1])
        raise InputError(f"{path}: video '{odd}' has feature dim {shapes[odd][1]}, but '{ids[0]}' has {shapes[ids[0]][1]}")
    if check:
        for vid in ids:
            store.get(vid)
    rows = np.array([s[0] for s in shapes.values()])
    attrs = {k: (v if isinstance(v, (str, int, float, bool)) else str(v)) for k, v in store.attrs.items()}
    return {
        "path": str(path), "format": "hdf5" if isinstance(store, HDF5Store) else "npy-dir",
        "videos": len(ids), "dim": dims[0], "dtype": ",".join(sorted(dtypes)),
        "rows_min": int(rows.min()), "rows_median": float(np.median(rows)), "rows_max": int(rows.max()),
        "attrs": attrs, "examples": [{"id": v, "shape": list(shapes[v])} for v in ids[:limit]],
        "checked": bool(check),
    }
