"""Finished and interrupted run directories as ``vlanet experiment`` and ``vlanet compare`` read
them: the checked ``result.json``, the validation metric of the chosen epoch, and whether a
cached run was trained with the configuration asked for now."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from vlanet.utils.errors import InputError

# Fields a model does not read: a cached run of that model may differ in them (TGA ranks by its
# own attention, so a changed VLANet ranking does not make its runs stale)
UNREAD_FIELDS = {"tga": {"model.rank_by"}}


def check_same_config(run: Path, want) -> None:
    """A cached or resumed run must have been trained with the configuration asked for now (a
    changed default or override would otherwise reuse a stale run); one line naming the fields."""
    import yaml

    from vlanet.config import RUNTIME_FIELDS, load_config
    from vlanet.utils.readers import read_text

    if not (run / "config.yaml").is_file():
        raise InputError(f"{run}: holds a run without its config.yaml; remove it or choose another --out")
    load_config(run / "config.yaml")  # a damaged file is refused by name
    have, wanted = yaml.safe_load(read_text(run / "config.yaml")), want.to_dict()
    ignored = RUNTIME_FIELDS | UNREAD_FIELDS.get(want.model.name, set())
    read = [(sec, k, v) for sec, fields in wanted.items() for k, v in fields.items()
            if f"{sec}.{k}" not in ignored and _reads(want.model.name, sec, k)]
    missing = [f"{sec}.{k}" for sec, k, _ in read if k not in (have.get(sec) or {})]
    if missing:  # config.yaml records every field, so an older vlanet wrote it: its defaults may differ
        raise InputError(f"{run}: was trained by an older vlanet whose config.yaml has no "
                         f"{', '.join(missing[:3])}{' ...' if len(missing) > 3 else ''}; "
                         "remove it or choose another --out")
    diff = [f"{sec}.{k}" for sec, k, v in read if have[sec][k] != v]
    if diff:
        shown = ", ".join(f"{d} ({_get(have, d)!r} there, {_get(wanted, d)!r} now)" for d in diff[:2])
        more = f" and {len(diff) - 2} more" if len(diff) > 2 else ""
        raise InputError(f"{run}: was trained with another configuration: {shown}{more}; "
                         "remove it or choose another --out")


def _reads(model: str, sec: str, key: str) -> bool:
    """Whether ``model`` reads the field: CNM and CPL read their own section (and model.name)
    instead of model:, and no model reads another's own section."""
    from vlanet.config import OWN_SECTION

    if sec in OWN_SECTION:
        return sec == model
    return not (sec == "model" and model in OWN_SECTION and key != "name")


def _get(d: dict, dotted: str) -> Any:
    sec, key = dotted.split(".", 1)
    return d.get(sec, {}).get(key)


def first_best(values: list[float]) -> int:
    """The index of the first maximum: training keeps a new best only when it is higher."""
    return max(range(len(values)), key=lambda i: (values[i], -i))


def chosen_val(run: Path, key: str) -> float | None:
    """The validation ``key`` (e.g. R@1,IoU=0.5) at the epoch the run chose: the first best of
    its train.select_metric (val_contrast or a metric), read from metrics.jsonl."""
    from vlanet.config import load_config

    if not (run / "metrics.jsonl").is_file() or not (run / "config.yaml").is_file():
        return None
    metric = load_config(run / "config.yaml").train.select_metric
    val = [v for v in (json.loads(line).get("val") for line in (run / "metrics.jsonl").read_text().splitlines()
                       if line.strip()) if v and metric in v and key in v]
    if not val:
        return None
    return val[first_best([v[metric] for v in val])][key]


def read_result(path: Path) -> dict[str, Any]:
    """A run's result.json, checked: test metrics (and each extra split's) are objects of numbers."""
    from vlanet.utils.readers import read_json, require

    res = require(read_json(path), str(path), test=dict)
    parts = {"test": res}
    extra = res.get("extra_tests", {})
    if not isinstance(extra, dict):
        raise InputError(f"{path}: field 'extra_tests' must be an object")
    parts.update({f"extra_tests.{k}": v for k, v in extra.items()})
    for name, part in parts.items():
        require(part, f"{path}: {name}" if name != "test" else str(path), test=dict)
        if not part["test"]:
            raise InputError(f"{path}: field '{name}' holds no test metrics")
        for key, v in part["test"].items():
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise InputError(f"{path}: field '{name}.{key}' must be a number, got {type(v).__name__}")
        for name in ("language_gain", "visual_gain"):
            gain = part.get(name)
            if gain is not None and (isinstance(gain, bool) or not isinstance(gain, (int, float))):
                raise InputError(f"{path}: field '{name}' must be a number")
    return res
