"""The paper's tables, each from one command: ``vlanet experiment {table1,table2,table3}``, and
``charades-cd`` (iid and ood test splits of one training run).

A table is a list of rows; a row is a control (random, prior, the blind probes, the ceiling) or
a training run given by config overrides on top of ``--data CONFIG``.  With ``--seeds N`` every
training row is trained N times (``train.seed`` = 0 .. N-1) and reported as mean ± std, with
its **language gain** (R@1 with the true sentences minus with sentences of other videos, see
eval/controls.py).  Each run lives in ``OUT/<row slug>/seed<k>/``: a run with a ``result.json``
is finished and skipped, a run with checkpoints but no result is resumed, so an interrupted
experiment picks up where it stopped.  ``vlanet compare RUN_DIR...`` builds the same kind of
table from any finished runs.  The paper's own numbers are printed beside ours.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vlanet.errors import InputError

CHARADES_KEYS = ["R@1,IoU=0.3", "R@1,IoU=0.5", "R@1,IoU=0.7", "R@5,IoU=0.3", "R@5,IoU=0.5", "R@5,IoU=0.7"]
DIDEMO_KEYS = ["R@1", "R@5", "mIoU"]
# The paper's training loss alone; the default VLANet adds the selection term (train.selection_weight)
PAPER_LOSS = "VLANet, paper's loss (selection term 0)"
# Fields that change how a run is executed, not what it computes: a cached run may differ in them
RUNTIME_FIELDS = {"train.device", "train.num_workers", "train.threads", "data.preload"}
# Defaults that changed after their field was added: a run whose config.yaml lacks the field was
# trained with the former value.  (A field added later is absent from older runs and defaults to
# the behaviour before it.)
FORMER_DEFAULTS = {"train.selection_weight": 0.0}


@dataclass
class Row:
    label: str
    kind: str  # "train" or a control of eval/calibrate.py: random, prior, oracle, saliency, probe
    overrides: list[str] = field(default_factory=list)
    paper: list[float | None] | None = None  # the paper's numbers for this row, same columns

    @property
    def slug(self) -> str:
        return re.sub(r"[^a-z0-9]+", "-", self.label.lower()).strip("-")


TABLES: dict[str, dict[str, Any]] = {
    "table1": {
        "title": "Table 1: Charades-STA (R@n, IoU=m)", "keys": CHARADES_KEYS, "protocol": "charades",
        "rows": [
            Row("Random", "random", paper=[19.78, 11.96, 4.81, 73.62, 52.79, 21.53]),
            Row("Prior (blind)", "prior"),
            Row("Saliency (blind)", "saliency"),
            Row("Linear probe (blind)", "probe"),
            Row("Oracle (best proposal)", "oracle"),
            Row("TGA", "train", ["model.name=tga"], paper=[32.14, 19.94, 8.84, 86.58, 65.52, 33.51]),
            Row(PAPER_LOSS, "train", ["train.selection_weight=0"], paper=[45.24, 31.83, 14.17, 95.70, 82.85, 33.09]),
            Row("VLANet", "train", [], paper=[45.24, 31.83, 14.17, 95.70, 82.85, 33.09]),
        ],
    },
    "charades-cd": {
        "title": "Charades-CD (R@n, IoU=m; not in the paper)", "keys": CHARADES_KEYS, "protocol": "charades",
        "rows": [
            Row("Random", "random"),
            Row("Prior (blind)", "prior"),
            Row("Saliency (blind)", "saliency"),
            Row("Linear probe (blind)", "probe"),
            Row("Oracle (best proposal)", "oracle"),
            Row("TGA", "train", ["model.name=tga"]),
            Row(PAPER_LOSS, "train", ["train.selection_weight=0"]),
            Row("VLANet", "train", []),
        ],
    },
    "selection": {
        "title": "Training the surrogate selection (Eq. 3), not in the paper (R@n, IoU=m)", "keys": CHARADES_KEYS,
        "protocol": "charades", "val": True,
        "rows": [
            Row("Random", "random"),
            Row("Prior (blind)", "prior"),
            Row("Linear probe (blind)", "probe"),
            Row("argmax, untrained (paper)", "train", ["train.selection_weight=0"]),
            Row("straight-through selection", "train", ["model.selection=straight-through", "train.selection_weight=0"]),
            Row("contrastive selection term 0.5", "train", ["train.selection_weight=0.5"]),
        ],
    },
    "table2": {
        "title": "Table 2: DiDeMo (official protocol)", "keys": DIDEMO_KEYS, "protocol": "didemo",
        "rows": [
            Row("Upper Bound", "oracle", paper=[74.75, 100.0, 96.05]),
            Row("Random", "random", paper=[3.75, 22.50, 22.64]),
            Row("Prior (moment frequency)", "prior"),
            Row("Saliency (blind)", "saliency"),
            Row("Linear probe (blind)", "probe"),
            Row("TGA", "train", ["model.name=tga"], paper=[12.19, 39.74, 24.92]),
            Row(PAPER_LOSS, "train", ["train.selection_weight=0"], paper=[19.32, 65.68, 25.33]),
            Row("VLANet", "train", [], paper=[19.32, 65.68, 25.33]),
            Row("VLANet w/o surrogate (ours)", "train", ["model.surrogate=false"]),
        ],
    },
    "table3": {
        "title": "Table 3: model variants and ablations (R@n, IoU=m)", "keys": CHARADES_KEYS, "protocol": "charades",
        "rows": [
            Row("stride 4, window (176, 208, 240)", "train", ["model.stride_frames=4"], [44.76, 31.53, 14.78, 77.04, 63.17, 31.80]),
            Row("stride 6, window (176, 208, 240)", "train", ["model.stride_frames=6"], [42.17, 28.60, 12.98, 88.76, 74.91, 34.70]),
            Row("stride 8, window (176, 208, 240)", "train", ["model.stride_frames=8"], [45.03, 31.82, 14.19, 95.72, 82.82, 33.33]),
            Row("stride 6, window (128, 256)", "train", ["model.stride_frames=6", "model.window_frames=[128,256]"], [42.39, 28.03, 13.09, 94.70, 73.06, 30.69]),
            Row("stride 6, window (176, 240)", "train", ["model.stride_frames=6", "model.window_frames=[176,240]"], [42.92, 30.24, 13.57, 95.72, 82.80, 33.46]),
            Row("w/o cross-attn", "train", ["model.cross_attention=false"], [43.41, 30.08, 13.23, 95.72, 82.41, 33.06]),
            Row("w/o self-attn", "train", ["model.self_attention=false"], [42.31, 30.81, 15.38, 95.38, 80.02, 33.76]),
            Row("w/o surrogate", "train", ["model.surrogate=false"], [35.81, 25.30, 12.26, 80.61, 64.57, 31.31]),
            Row("cascade steps 1 (ours)", "train", ["model.cascade_steps=1"]),
            Row("literal Eq. 8 scale (ours: the trap)", "train", ["model.attention_scale=none"]),
            Row("full model, paper's loss (selection term 0)", "train", ["train.selection_weight=0"],
                [45.03, 31.82, 14.19, 95.72, 82.82, 33.33]),
            Row("full model", "train", [], [45.03, 31.82, 14.19, 95.72, 82.82, 33.33]),
        ],
    },
}


def _fmt(v: float | None) -> str:
    return "-" if v is None else f"{v:.2f}"


def _cell(values: list[float]) -> str:
    """One number, or mean ± std (sample std) over seeds."""
    if not values:
        return "-"
    if len(values) == 1:
        return f"{values[0]:.2f}"
    return f"{np.mean(values):.2f} ± {np.std(values, ddof=1):.2f}"


@dataclass
class Result:
    """A table row's measurements: one metrics dict per seed (controls: one), and the language
    gain per seed where the row is a model."""

    runs: list[dict[str, float]]
    gains: list[float] = field(default_factory=list)
    vals: list[float] = field(default_factory=list)  # validation select metric at the chosen epoch

    def cells(self, keys: list[str]) -> list[str]:
        return [_cell([r[k] for r in self.runs if k in r]) for k in keys]


def markdown_table(title: str, keys: list[str], rows: list[tuple[str, Result | None, list | None, str]],
                   val: str | None = None) -> str:
    """rows: (label, our result or None, the paper's numbers or None, note).  ``val``: the name of
    a first column with each model's validation metric at its chosen epoch."""
    vcol = [f"val {val}"] if val else []
    head = "| method | " + " | ".join(vcol + keys) + " | language gain | paper (same columns) | note |"
    lines = [f"**{title}**", "", head, "|---|" + "---:|" * (len(vcol) + len(keys) + 1) + "---|---|"]
    for label, ours, paper, note in rows:
        cells = ours.cells(keys) if ours else ["-"] * len(keys)
        if val:
            cells = [_cell(ours.vals) if ours and ours.vals else ""] + cells
        gain = _cell(ours.gains) if ours and ours.gains else ""
        ptxt = " / ".join(_fmt(x) for x in paper) if paper else ""
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {gain} | {ptxt} | {note} |")
    return "\n".join(lines) + "\n"


def run_table(name: str, data_config: str | None, out: str | Path, overrides: list[str], progress: bool = True,
              log=print, seeds: int = 1) -> str:
    """The table, one block per test split of the config (``data.test`` and ``data.extra_tests``)."""
    from vlanet.config import dump_config, load_config, split_name, test_splits
    from vlanet.io import atomic_write_text, check_output_dir

    if name not in TABLES:
        raise InputError(f"unknown table {name!r} (choose from {', '.join(TABLES)})")
    if seeds < 1:
        raise InputError(f"--seeds must be >= 1, got {seeds}")
    spec = TABLES[name]
    out = Path(out)
    check_output_dir(out, "--out")
    base = load_config(data_config, overrides)
    if base.eval.protocol != spec["protocol"]:
        raise InputError(f"{name} needs a {spec['protocol']} dataset; {data_config or 'the default config'} has "
                         f"eval.protocol={base.eval.protocol} (use e.g. configs/didemo_sim.yaml for table2)")
    names = test_splits(base)
    splits = list(names) or ["test"]
    beds: dict[str, Any] = {}
    results: dict[str, list] = {s: [] for s in splits}
    done: dict[str, tuple[str, dict[str, Result]]] = {}  # resolved config -> (first row, its results)
    for row in (r for r in spec["rows"] if r.kind == "train"):  # stale runs refused before any work
        for k in range(seeds):
            _wanted_config(data_config, [*overrides, *row.overrides, f"train.seed={k}"], out / row.slug / f"seed{k}")
    for row in spec["rows"]:
        key = dump_config(load_config(data_config, [*overrides, *row.overrides])) if row.kind == "train" else None
        if key in done:  # e.g. Table 3's "full model" is its "stride 8" row when the config has stride 8
            first, res = done[key]
            log(f"[{name}] {row.label}: the same configuration as '{first}', not run again")
            for s in splits:
                results[s].append((row.label, res[s], row.paper, f"same run as '{first}'"))
            continue
        log(f"[{name}] {row.label}")
        if row.kind == "train":
            res, note = _train_row(row, data_config, overrides, out, seeds, splits, progress, log)
            done[key] = (row.label, res)
            for s in splits:
                results[s].append((row.label, res[s], row.paper, note))
            continue
        from vlanet.eval.calibrate import GRID_KINDS, control_rows, load_bed
        from vlanet.eval.evaluate import evaluate_rows, model_protocol

        for s in splits:
            bed = beds.get(s)
            if bed is None or (row.kind not in GRID_KINDS and bed.store is None):
                bed = beds[s] = load_bed(base, s, features=row.kind not in GRID_KINDS)
            metrics = evaluate_rows(control_rows(row.kind, base, bed), bed.test, model_protocol(base), row.label)
            results[s].append((row.label, Result([metrics]), row.paper, "control"))
    title = spec["title"] + (f", models over {seeds} seeds (mean ± std)" if seeds > 1 else "")
    val = base.train.select_metric if spec.get("val") else None
    text = "\n".join(markdown_table(title + (f", test split {split_name(names[s])}" if len(splits) > 1 else ""),
                                    spec["keys"], results[s], val) for s in splits)
    atomic_write_text(out / f"{name}.md", text)
    return text


def _train_row(row: Row, data_config: str | None, overrides: list[str], out: Path, seeds: int, splits: list[str],
               progress: bool, log) -> tuple[dict[str, Result], str]:
    """A model row over ``seeds`` seeds, by test split."""
    res = {s: Result([], []) for s in splits}
    seconds, cached = 0.0, 0
    for k in range(seeds):
        run_dir = out / row.slug / f"seed{k}"
        run = _train_run(row, data_config, [*overrides, *row.overrides, f"train.seed={k}"], run_dir, progress, log)
        val = chosen_val(run_dir)
        for s in splits:
            part = run if s == "test" else (run.get("extra_tests") or {}).get(s)
            if part is None or part.get("test") is None:
                raise InputError(f"{run_dir / 'result.json'}: no metrics for test split {s!r}")
            res[s].runs.append(part["test"])
            if part.get("language_gain") is not None:
                res[s].gains.append(part["language_gain"])
            if val is not None:
                res[s].vals.append(val)
        seconds += run.get("seconds", 0)
        cached += int(run.get("cached", False))
    note = f"{seeds} seed(s), {seconds:.0f} s" + (f" ({cached} cached run(s))" if cached else "")
    return res, note


def _train_run(row: Row, data_config: str | None, overrides: list[str], run: Path, progress: bool, log) -> dict:
    """One finished run's result.json, training or resuming it first where needed."""
    from vlanet.config import load_config

    want = _wanted_config(data_config, overrides, run)
    result_file = run / "result.json"
    if result_file.is_file():
        return {**read_result(result_file), "cached": True}
    from vlanet.train.loop import train

    resume = (run / "checkpoints" / "last").exists()
    cfg = load_config(run / "config.yaml") if resume else want
    log(f"  {run}")
    train(cfg, run, resume=resume, progress=progress)
    if json.loads(result_file.read_text()).get("test") is None:
        raise InputError(f"{data_config}: the config has no test split (data.test)")
    return read_result(result_file)


def _wanted_config(data_config: str | None, overrides: list[str], run: Path):
    """The resolved config a run should have; a cached or interrupted run there must match it."""
    from vlanet.config import load_config, resolve_data_paths

    want = load_config(data_config, overrides)
    resolve_data_paths(want)
    if (run / "result.json").is_file() or (run / "checkpoints" / "last").exists():
        check_same_config(run, want)
    return want


def check_same_config(run: Path, want) -> None:
    """A cached or resumed run must have been trained with the configuration asked for now (a
    changed default or override would otherwise reuse a stale run); one line naming the fields."""
    import yaml

    from vlanet.config import load_config
    from vlanet.readers import read_text

    if not (run / "config.yaml").is_file():
        raise InputError(f"{run}: holds a run without its config.yaml; remove it or choose another --out")
    load_config(run / "config.yaml")  # a damaged file is refused by name
    have, wanted = yaml.safe_load(read_text(run / "config.yaml")), want.to_dict()
    for dotted, value in FORMER_DEFAULTS.items():
        sec, key = dotted.split(".")
        have.setdefault(sec, {}).setdefault(key, value)
    diff = [f"{sec}.{k}" for sec, fields in wanted.items() for k, v in fields.items()
            if f"{sec}.{k}" not in RUNTIME_FIELDS and k in (have.get(sec) or {}) and have[sec][k] != v]
    if diff:
        shown = ", ".join(f"{d} ({_get(have, d)!r} there, {_get(wanted, d)!r} now)" for d in diff[:2])
        more = f" and {len(diff) - 2} more" if len(diff) > 2 else ""
        raise InputError(f"{run}: was trained with another configuration: {shown}{more}; "
                         "remove it or choose another --out")


def _get(d: dict, dotted: str) -> Any:
    sec, key = dotted.split(".", 1)
    return d.get(sec, {}).get(key)


def chosen_val(run: Path) -> float | None:
    """The validation select metric at the epoch a run chose (its first best), from metrics.jsonl."""
    from vlanet.config import load_config

    if not (run / "metrics.jsonl").is_file() or not (run / "config.yaml").is_file():
        return None
    metric = load_config(run / "config.yaml").train.select_metric
    vals = [json.loads(line).get("val", {}).get(metric) for line in (run / "metrics.jsonl").read_text().splitlines()
            if line.strip()]
    vals = [v for v in vals if v is not None]
    return max(vals) if vals else None


def read_result(path: Path) -> dict[str, Any]:
    """A run's result.json, checked: test metrics (and each extra split's) are objects of numbers."""
    from vlanet.readers import read_json, require

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
        gain = part.get("language_gain")
        if gain is not None and (isinstance(gain, bool) or not isinstance(gain, (int, float))):
            raise InputError(f"{path}: field 'language_gain' must be a number")
    return res


def compare_runs(run_dirs: list[str]) -> str:
    """A table from finished run directories (their result.json), labelled by their paths."""
    import os

    rows, keys = [], None
    paths = [str(Path(d).resolve()) for d in run_dirs]
    common = os.path.commonpath(paths) if len(paths) > 1 else str(Path(paths[0]).parent)
    for d, full in zip(run_dirs, paths):
        f = Path(d) / "result.json"
        if not f.is_file():
            raise InputError(f"{d}: not a finished run (no result.json)")
        res = read_result(f)
        k = DIDEMO_KEYS if "R@1" in res["test"] else CHARADES_KEYS + ["mIoU"]
        if keys is not None and k != keys:
            raise InputError(f"{d}: metrics of another protocol than the runs before it")
        keys = k
        gain = res.get("language_gain")
        label = os.path.relpath(full, common) if full != common else Path(full).name
        rows.append((label, Result([res["test"]], [gain] if gain is not None else []), None,
                     f"{res.get('seconds', 0):.0f} s"))
    return markdown_table("Comparison of runs", keys or CHARADES_KEYS, rows)
