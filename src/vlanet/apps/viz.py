"""Figures from run directories (matplotlib, Agg backend; install the ``viz`` extra).

Fig. 4: the mean score c of positive and negative pairs per epoch, from ``metrics.jsonl``
(training batches; and the validation split when present).
Fig. 5: the attention map, query words x video elements (``Predictor.attention``).
Fig. 6: a timeline per query: the attended proposals coloured by attention weight, the top-2
predictions, and the ground truth when known.
"""

from __future__ import annotations

from pathlib import Path

from vlanet.utils.errors import InputError
from vlanet.utils.io import atomic_path


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise InputError("figures need matplotlib: pip install 'vlanet[viz]'") from None
    return plt


def read_metrics(run_dir: str | Path) -> list[dict]:
    """A run's metrics.jsonl, one object per epoch with its epoch, loss and mean pair scores."""
    from vlanet.utils.readers import parse_json, read_text, require

    p = Path(run_dir) / "metrics.jsonl"
    if not p.exists():
        raise InputError(f"{p}: not found (is {run_dir} a vlanet run directory?)")
    rows = []
    for i, line in enumerate(read_text(p).splitlines(), 1):
        if line.strip():
            rows.append(require(parse_json(line, f"{p}:{i}"), f"{p}:{i}", epoch=int, loss=(int, float),
                                pos_score=(int, float), neg_score=(int, float)))
    if not rows:
        raise InputError(f"{p}: no epochs recorded yet")
    if any("val_pos_score" in r for r in rows) and not all("val_pos_score" in r for r in rows):
        raise InputError(f"{p}: some epochs have validation scores and some do not")
    return rows


def _save(fig, plt, out: str | Path) -> None:
    out = Path(out)
    fmt = out.suffix.lstrip(".").lower() or "png"
    if fmt not in ("png", "svg", "pdf"):
        raise InputError(f"{out}: figure format must be .png, .svg or .pdf")
    with atomic_path(out) as tmp:
        fig.savefig(tmp, format=fmt)
    plt.close(fig)


def plot_prediction(results: list[dict], out: str | Path, title: str = "",
                    ground_truth: list[list[list[float]]] | None = None) -> None:
    """Fig. 6: one timeline per query from ``Predictor.predict(..., return_attention=True)``."""
    plt = _pyplot()
    from matplotlib import cm

    n = len(results)
    fig, axes = plt.subplots(n, 1, figsize=(8, 1.2 + 1.1 * n), dpi=120, squeeze=False)
    for i, (ax, r) in enumerate(zip(axes[:, 0], results)):
        att = r.get("attention") or {}
        wins, weights = att.get("element_windows", []), att.get("element_weights", [])
        top = max(weights) if weights else 1.0
        for (s, e), w in zip(wins, weights):  # proposals, darker = more attention
            ax.barh(0.0, e - s, left=s, height=0.5, color=cm.viridis(w / top if top > 0 else 0.0), alpha=0.35, lw=0)
        for rank, (s, e, _) in enumerate(r["pred_relevant_windows"][:2]):
            ax.barh(0.75 + 0.1 * rank, e - s, left=s, height=0.12, color=("tab:red", "tab:orange")[rank],
                    label=f"top-{rank + 1} prediction" if i == 0 else None)
        for s, e in (ground_truth[i] if ground_truth else []):
            ax.barh(-0.55, e - s, left=s, height=0.15, color="tab:green", label="ground truth" if i == 0 else None)
        ax.set_xlim(0, r["duration"])
        ax.set_ylim(-0.8, 1.05)
        ax.set_yticks([])
        ax.set_title(r["query"], fontsize=8, loc="left")
    axes[-1, 0].set_xlabel("time (s)")
    if title:
        fig.suptitle(title, fontsize=9)
    handles = [h for ax in axes[:, 0] for h in ax.get_legend_handles_labels()[0]]
    if handles:
        axes[0, 0].legend(fontsize=6, loc="upper right")
    fig.tight_layout()
    _save(fig, plt, out)


def plot_attention(result: dict, out: str | Path) -> None:
    """Fig. 5: the attention map (video elements in time on y, query words on x) after CCA."""
    plt = _pyplot()
    import numpy as np

    att = result["attention"]
    if att.get("map") is None:
        from vlanet.utils.errors import InputError

        raise InputError("this model has no word x video-element attention map (Fig. 5 is drawn for VLANet and "
                         "TGA); draw the prediction figure instead")
    amap = np.asarray(att["map"], dtype=float)  # (elements, words)
    order = np.argsort([s for s, _ in att["element_windows"]], kind="stable")
    amap = amap[order]
    starts = [att["element_windows"][j][0] for j in order]
    fig, ax = plt.subplots(figsize=(1.6 + 0.55 * len(att["words"]), 4.2), dpi=120)
    im = ax.imshow(amap, aspect="auto", cmap="magma", interpolation="nearest")
    ax.set_xticks(range(len(att["words"])), att["words"], rotation=45, ha="right", fontsize=8)
    ticks = np.linspace(0, len(starts) - 1, min(8, len(starts))).astype(int) if starts else []
    ax.set_yticks(ticks, [f"{starts[t]:.0f}s" for t in ticks], fontsize=7)
    ax.set_ylabel("video element (start time)")
    ax.set_title(result["query"][:60], fontsize=8)
    fig.colorbar(im, ax=ax, fraction=0.05)
    fig.tight_layout()
    _save(fig, plt, out)


def plot_curves(run_dir: str | Path, out: str | Path) -> None:
    """Fig. 4: mean c of positive and negative pairs per epoch."""
    rows = read_metrics(run_dir)
    plt = _pyplot()
    ep = [r["epoch"] for r in rows]
    fig, ax = plt.subplots(figsize=(5, 3.4), dpi=120)
    ax.plot(ep, [r["pos_score"] for r in rows], "-o", color="tab:blue", label="positive pairs (train)")
    ax.plot(ep, [r["neg_score"] for r in rows], "-o", color="tab:red", label="negative pairs (train)")
    if "val_pos_score" in rows[0]:  # read_metrics: then every epoch has them
        ax.plot(ep, [r["val_pos_score"] for r in rows], "--", color="tab:blue", label="positive (validation)")
        ax.plot(ep, [r["val_neg_score"] for r in rows], "--", color="tab:red", label="negative (validation)")
    ax.set_xlabel("epoch")
    ax.set_ylabel("similarity c = E(v_comp, Q)")
    ax.set_title("Multi-modal similarity while training (Fig. 4)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    _save(fig, plt, out)
