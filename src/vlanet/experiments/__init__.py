"""The paper's tables, each from one command: ``vlanet experiment {table1,table2,table3}``,
``charades-cd`` (iid and ood test splits of one training run), ``methods`` (TGA, VLANet, CNM
and CPL side by side, with the best blind row) and ``ladder`` (Sec. 3 as written, then one
departure at a time up to the default).

A table is a list of rows; a row is a control (random, prior, the blind probes, the ceiling) or
a training run given by config overrides on top of ``--data CONFIG``.  With ``--seeds N`` every
training row is trained N times (``train.seed`` = 0 .. N-1) and reported as mean ± std, with
its **language gain** (R@1 with the true sentences minus with sentences of other videos, see
eval/controls.py).  Each run lives in ``OUT/<row slug>/seed<k>/``: a run with a ``result.json``
is finished and skipped, a run with checkpoints but no result is resumed, so an interrupted
experiment picks up where it stopped.  ``vlanet compare RUN_DIR...`` builds the same kind of
table from any finished runs.  The paper's own numbers are printed beside ours.  The tables
themselves are data in tables.py; reading run directories is runs.py.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vlanet.experiments.runs import check_same_config, chosen_val, read_result
from vlanet.experiments.tables import CHARADES_KEYS, DIDEMO_KEYS, TABLES, Row
from vlanet.utils.errors import InputError


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
    and visual gains per seed where the row is a model."""

    runs: list[dict[str, float]]
    gains: list[float] = field(default_factory=list)
    vals: list[float] = field(default_factory=list)  # validation select metric at the chosen epoch
    visual: list[float] = field(default_factory=list)  # visual gain: true minus shuffled videos

    def cells(self, keys: list[str]) -> list[str]:
        return [_cell([r[k] for r in self.runs if k in r]) for k in keys]


def markdown_table(title: str, keys: list[str], rows: list[tuple[str, Result | None, list | None, str]],
                   val: str | None = None) -> str:
    """rows: (label, our result or None, the paper's numbers or None, note).  ``val``: the name of
    a first column with each model's validation metric at its chosen epoch."""
    vcol = [f"val {val}"] if val else []
    head = "| method | " + " | ".join(vcol + keys) + " | language gain | visual gain | paper (same columns) | note |"
    lines = [f"**{title}**", "", head, "|---|" + "---:|" * (len(vcol) + len(keys) + 2) + "---|---|"]
    for label, ours, paper, note in rows:
        cells = ours.cells(keys) if ours else ["-"] * len(keys)
        if val:
            cells = [_cell(ours.vals) if ours and ours.vals else ""] + cells
        gain = _cell(ours.gains) if ours and ours.gains else ""
        visual = _cell(ours.visual) if ours and ours.visual else ""
        ptxt = " / ".join(_fmt(x) for x in paper) if paper else ""
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {gain} | {visual} | {ptxt} | {note} |")
    return "\n".join(lines) + "\n"


def run_table(name: str, data_config: str | None, out: str | Path, overrides: list[str], progress: bool = True,
              log=print, seeds: int = 1, rows: list[str] | None = None) -> str:
    """The table, one block per test split of the config (``data.test`` and ``data.extra_tests``).
    ``rows``: train only these model rows (by slug), e.g. one row per machine into one ``out``;
    the controls are always computed."""
    from vlanet.config import dump_config, load_config
    from vlanet.config.paths import split_name, test_splits
    from vlanet.eval.controls import gain_key
    from vlanet.utils.io import atomic_write_text, check_output_dir

    spec = _table_spec(name, seeds, rows)
    out = Path(out)
    check_output_dir(out, "--out")
    base = load_config(data_config, overrides)
    headline = gain_key(base.eval.protocol)  # the test metric: best blind row, validation column
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
            res, note = _train_row(row, data_config, overrides, out, seeds, splits, headline, progress, log)
            done[key] = (row.label, res)
            for s in splits:
                results[s].append((row.label, res[s], row.paper, note))
            continue
        for s in splits:
            results[s].append((row.label, _control(row, base, s, beds), row.paper, "control"))
    if spec.get("best_blind"):
        for s in splits:
            results[s] = _with_best_blind(spec["rows"], results[s], headline)
    bed = Path(data_config).stem if data_config else "the embedded synthetic default"
    title = spec["title"] + f", on {bed}" + (f", models over {seeds} seeds (mean ± std)" if seeds > 1 else "")
    val = headline if spec.get("val") else None
    text = "\n".join(markdown_table(title + (f", test split {split_name(names[s])}" if len(splits) > 1 else ""),
                                    spec["keys"], results[s], val) for s in splits)
    atomic_write_text(out / f"{name}.md", text)
    return text


def _table_spec(name: str, seeds: int, rows: list[str] | None) -> dict[str, Any]:
    """TABLES[name], with only the model rows in ``rows`` (by slug) when given; bad names refused."""
    if name not in TABLES:
        raise InputError(f"unknown table {name!r} (choose from {', '.join(TABLES)})")
    if seeds < 1:
        raise InputError(f"--seeds must be >= 1, got {seeds}")
    spec = dict(TABLES[name])
    if rows:
        slugs = [r.slug for r in spec["rows"] if r.kind == "train"]
        unknown = [r for r in rows if r not in slugs]
        if unknown:
            raise InputError(f"--rows: {name} has no model row {unknown[0]!r} (its rows: {', '.join(slugs)})")
        spec["rows"] = [r for r in spec["rows"] if r.kind != "train" or r.slug in rows]
    return spec


def _control(row: Row, base, split: str, beds: dict[str, Any]) -> Result:
    """A control row (random, prior, blind probes, oracle) on one test split; beds are cached."""
    from vlanet.eval.calibrate import GRID_KINDS, control_rows, load_bed
    from vlanet.eval.evaluate import evaluate_rows, model_protocol

    bed = beds.get(split)
    if bed is None or (row.kind not in GRID_KINDS and bed.store is None):
        bed = beds[split] = load_bed(base, split, features=row.kind not in GRID_KINDS)
    return Result([evaluate_rows(control_rows(row.kind, base, bed), bed.test, model_protocol(base), row.label)])


def _with_best_blind(spec_rows: list[Row], results: list, key: str) -> list:
    """``results`` with a "Best blind" row after the controls (the blind row with the highest
    ``key``) and each model's margin over it (on its mean over seeds) in its note."""
    from vlanet.eval.calibrate import BLIND_ROWS, best_blind

    kinds = [r.kind for r in spec_rows]
    blind = {label: res.runs[0] for (label, res, _, _), kind in zip(results, kinds) if kind in BLIND_ROWS}
    if not blind:
        return results
    name, value = best_blind(blind, key)
    out = []
    for (label, res, paper, note), kind in zip(results, kinds):
        if kind == "train" and res.runs:
            margin = float(np.mean([r[key] for r in res.runs])) - value
            note = f"{note}; {margin:+.2f} over best blind at {key}"
        out.append((label, res, paper, note))
    first_model = next((i for i, k in enumerate(kinds) if k == "train"), len(kinds))
    out.insert(first_model, (f"Best blind = {name.replace(' (blind)', '')}", Result([blind[name]]), None, f"best blind row at {key}"))
    return out


def _train_row(row: Row, data_config: str | None, overrides: list[str], out: Path, seeds: int, splits: list[str],
               key: str, progress: bool, log) -> tuple[dict[str, Result], str]:
    """A model row over ``seeds`` seeds, by test split; ``key`` is the validation column's metric."""
    res = {s: Result([], []) for s in splits}
    seconds, cached = 0.0, 0
    for k in range(seeds):
        run_dir = out / row.slug / f"seed{k}"
        run = _train_run(row, data_config, [*overrides, *row.overrides, f"train.seed={k}"], run_dir, progress, log)
        val = chosen_val(run_dir, key)
        for s in splits:
            part = run if s == "test" else (run.get("extra_tests") or {}).get(s)
            if part is None or part.get("test") is None:
                raise InputError(f"{run_dir / 'result.json'}: no metrics for test split {s!r}")
            res[s].runs.append(part["test"])
            if part.get("language_gain") is not None:
                res[s].gains.append(part["language_gain"])
            if part.get("visual_gain") is not None:  # runs written before the visual control lack it
                res[s].visual.append(part["visual_gain"])
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
    from vlanet.config import load_config
    from vlanet.config.paths import resolve_data_paths

    want = load_config(data_config, overrides)
    resolve_data_paths(want)
    if (run / "result.json").is_file() or (run / "checkpoints" / "last").exists():
        check_same_config(run, want)
    return want


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
        gain, visual = res.get("language_gain"), res.get("visual_gain")
        label = os.path.relpath(full, common) if full != common else Path(full).name
        rows.append((label, Result([res["test"]], [gain] if gain is not None else [],
                                   visual=[visual] if visual is not None else []), None,
                     f"{res.get('seconds', 0):.0f} s"))
    return markdown_table("Comparison of runs", keys or CHARADES_KEYS, rows)
