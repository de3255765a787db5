"""Figures from run directories (matplotlib, Agg backend; install the ``viz`` extra).

Fig. 4: the mean score c of positive and negative pairs per epoch, from ``metrics.jsonl``
(training batches; and the validation split when present).
"""

from __future__ import annotations

import json
from pathlib import Path

from vlanet.errors import InputError
from vlanet.io import atomic_path


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise InputError("figures need matplotlib: pip install 'vlanet[viz]'") from None
    return plt


def read_metrics(run_dir: str | Path) -> list[dict]:
    p = Path(run_dir) / "metrics.jsonl"
    if not p.is_file():
        raise InputError(f"{p}: not found (is {run_dir} a vlanet run directory?)")
    rows = []
    for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1):
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            raise InputError(f"{p}:{i}: not valid JSON") from None
    if not rows:
        raise InputError(f"{p}: no epochs recorded yet")
    return rows


def plot_curves(run_dir: str | Path, out: str | Path) -> None:
    """Fig. 4: mean c of positive and negative pairs per epoch."""
    rows = read_metrics(run_dir)
    plt = _pyplot()
    ep = [r["epoch"] for r in rows]
    fig, ax = plt.subplots(figsize=(5, 3.4), dpi=120)
    ax.plot(ep, [r["pos_score"] for r in rows], "-o", color="tab:blue", label="positive pairs (train)")
    ax.plot(ep, [r["neg_score"] for r in rows], "-o", color="tab:red", label="negative pairs (train)")
    if "val_pos_score" in rows[0]:
        ax.plot(ep, [r["val_pos_score"] for r in rows], "--", color="tab:blue", label="positive (validation)")
        ax.plot(ep, [r["val_neg_score"] for r in rows], "--", color="tab:red", label="negative (validation)")
    ax.set_xlabel("epoch")
    ax.set_ylabel("similarity c = E(v_comp, Q)")
    ax.set_title("Multi-modal similarity while training (Fig. 4)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    out = Path(out)
    with atomic_path(out) as tmp:
        fig.savefig(tmp, format=out.suffix.lstrip(".") or "png")
    plt.close(fig)
