"""The paper's tables, each from one command: ``vlanet experiment {table1,table2,table3}``.

A table is a list of rows; a row is a blind baseline or a training run given by config
overrides on top of ``--data CONFIG``.  Each run lives in ``OUT/<row slug>/``: a run with a
``result.json`` is finished and skipped, a run with checkpoints but no result is resumed, so an
interrupted experiment picks up where it stopped.  ``vlanet compare RUN_DIR...`` builds the
same kind of table from any finished runs.  The paper's own numbers are printed beside ours.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vlanet.errors import InputError

CHARADES_KEYS = ["R@1,IoU=0.3", "R@1,IoU=0.5", "R@1,IoU=0.7", "R@5,IoU=0.3", "R@5,IoU=0.5", "R@5,IoU=0.7"]
DIDEMO_KEYS = ["R@1", "R@5", "mIoU"]


@dataclass
class Row:
    label: str
    kind: str  # "train" | "random" | "prior" | "oracle"
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
            Row("Oracle (best proposal)", "oracle"),
            Row("TGA", "train", ["model.name=tga"], paper=[32.14, 19.94, 8.84, 86.58, 65.52, 33.51]),
            Row("VLANet", "train", [], paper=[45.24, 31.83, 14.17, 95.70, 82.85, 33.09]),
        ],
    },
    "table2": {
        "title": "Table 2: DiDeMo (official protocol)", "keys": DIDEMO_KEYS, "protocol": "didemo",
        "rows": [
            Row("Upper Bound", "oracle", paper=[74.75, 100.0, 96.05]),
            Row("Random", "random", paper=[3.75, 22.50, 22.64]),
            Row("Prior (moment frequency)", "prior"),
            Row("TGA", "train", ["model.name=tga"], paper=[12.19, 39.74, 24.92]),
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
            Row("full model", "train", [], [45.03, 31.82, 14.19, 95.72, 82.82, 33.33]),
        ],
    },
}


def _fmt(v: float | None) -> str:
    return "-" if v is None else f"{v:.2f}"


def markdown_table(title: str, keys: list[str], rows: list[tuple[str, dict[str, float] | None, list | None, str]]) -> str:
    """rows: (label, our metrics or None, the paper's numbers or None, note)."""
    head = "| method | " + " | ".join(keys) + " | paper (same columns) | note |"
    lines = [f"**{title}**", "", head, "|---|" + "---:|" * len(keys) + "---|---|"]
    for label, ours, paper, note in rows:
        cells = [_fmt(ours.get(k)) if ours else "-" for k in keys]
        ptxt = " / ".join(_fmt(x) for x in paper) if paper else ""
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {ptxt} | {note} |")
    return "\n".join(lines) + "\n"


def run_table(name: str, data_config: str | None, out: str | Path, overrides: list[str], progress: bool = True,
              log=print) -> str:
    from vlanet.config import load_config

    if name not in TABLES:
        raise InputError(f"unknown table {name!r} (choose from {', '.join(TABLES)})")
    spec = TABLES[name]
    out = Path(out)
    base = load_config(data_config, overrides)
    if base.eval.protocol != spec["protocol"]:
        raise InputError(f"{name} needs a {spec['protocol']} dataset; {data_config or 'the default config'} has "
                         f"eval.protocol={base.eval.protocol} (use e.g. configs/didemo_sim.yaml for table2)")
    from vlanet.config import dump_config

    results = []
    done: dict[str, tuple[str, dict[str, float]]] = {}  # resolved config -> (first row, its metrics)
    for row in spec["rows"]:
        key = dump_config(load_config(data_config, [*overrides, *row.overrides])) if row.kind == "train" else None
        if key in done:  # e.g. Table 3's "full model" is its "stride 8" row when the config has stride 8
            first, metrics = done[key]
            log(f"[{name}] {row.label}: the same configuration as '{first}', not run again")
            results.append((row.label, metrics, row.paper, f"same run as '{first}'"))
            continue
        log(f"[{name}] {row.label}")
        metrics, note = _row(row, data_config, overrides, out, spec["protocol"], progress)
        if key is not None:
            done[key] = (row.label, metrics)
        results.append((row.label, metrics, row.paper, note))
    text = markdown_table(spec["title"], spec["keys"], results)
    from vlanet.io import atomic_write_text

    atomic_write_text(out / f"{name}.md", text)
    return text


def _row(row: Row, data_config: str | None, overrides: list[str], out: Path, protocol: str, progress: bool):
    from vlanet.config import load_config

    cfg = load_config(data_config, [*overrides, *row.overrides])
    if row.kind != "train":
        return _baseline(row.kind, cfg, protocol), "blind, same proposals"
    run = out / row.slug
    result_file = run / "result.json"
    if result_file.is_file():
        res = json.loads(result_file.read_text())
        return res["test"], f"{res.get('seconds', 0):.0f} s (cached run)"
    from vlanet.cli import _abs_data_paths
    from vlanet.train.loop import train

    resume = (run / "checkpoints" / "last").exists()
    if not resume:
        _abs_data_paths(cfg)
    else:
        cfg = load_config(run / "config.yaml")
    res = train(cfg, run, resume=resume, progress=progress)
    if res.test is None:
        raise InputError(f"{data_config}: the config has no test split (data.test)")
    return res.test, f"{res.seconds:.0f} s"


def _baseline(kind: str, cfg, protocol: str) -> dict[str, float]:
    from vlanet.data.annotations import read_ground_truth
    from vlanet.data.dataset import ProposalSpec
    from vlanet.data.loading import synthetic_spec
    from vlanet.eval.baselines import didemo_baseline, grid_baseline
    from vlanet.eval.evaluate import evaluate_rows
    from vlanet.train.loop import protocol_for

    if cfg.data.source == "synthetic":
        from vlanet.data.synthetic import generate

        syn = generate(synthetic_spec(cfg))
        test, train = syn.splits["test"], syn.splits["train"]
    else:
        if not cfg.data.test:
            raise InputError("config: field 'data.test' is required for the baseline rows")
        test = read_ground_truth(cfg.data.test)
        train = read_ground_truth(cfg.data.train) if cfg.data.train else None
    if protocol == "didemo":
        rows = didemo_baseline(kind, test, train, cfg.train.seed)
    else:
        rows = grid_baseline(kind, test, train, ProposalSpec.from_config(cfg), cfg.eval, cfg.train.seed)
    return evaluate_rows(rows, test, protocol_for(cfg), f"{kind} baseline")


def compare_runs(run_dirs: list[str]) -> str:
    """A table from finished run directories (their result.json and config.yaml)."""
    rows, keys = [], None
    for d in run_dirs:
        f = Path(d) / "result.json"
        if not f.is_file():
            raise InputError(f"{d}: not a finished run (no result.json)")
        res = json.loads(f.read_text())
        if not res.get("test"):
            raise InputError(f"{f}: no test metrics")
        k = DIDEMO_KEYS if "R@1" in res["test"] else CHARADES_KEYS + ["mIoU"]
        if keys is not None and k != keys:
            raise InputError(f"{d}: metrics of another protocol than the runs before it")
        keys = k
        rows.append((Path(d).name, res["test"], None, f"{res.get('seconds', 0):.0f} s"))
    return markdown_table("Comparison of runs", keys or CHARADES_KEYS, rows)
