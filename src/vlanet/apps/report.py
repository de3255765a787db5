"""``vlanet report PREDS.jsonl --gt GT.jsonl [--videos DIR] --out report.html``: one static page.

No server, no JavaScript library, no network: the metrics table, then one row per query with an
inline SVG timeline (ground truth in green, the top-5 predictions in red/orange by rank).  When
``--videos DIR`` holds ``<vid>.mp4`` (or .webm/.mkv/.mov), the row has an HTML5 player and each
prediction is a button that seeks it.  Every value taken from the files is HTML-escaped.
"""

from __future__ import annotations

import html
import os
from pathlib import Path
from typing import Any

from vlanet.data.annotations import Query

COLORS = ["#d62728", "#ff7f0e", "#ffbb78", "#f7b6d2", "#c7c7c7"]
VIDEO_EXT = (".mp4", ".webm", ".mkv", ".mov")


def _e(v: Any) -> str:
    return html.escape(str(v), quote=True)


def _svg(duration: float, gt: list[list[float]], pred: list[list[float]], width: int = 640) -> str:
    sx = width / max(duration, 1e-6)
    parts = [f'<svg class="tl" width="{width}" height="46" viewBox="0 0 {width} 46" role="img">',
             f'<rect x="0" y="0" width="{width}" height="46" fill="#f6f6f6"/>']
    for s, e in gt:
        parts.append(f'<rect class="gt" x="{s * sx:.1f}" y="32" width="{max(1.0, (e - s) * sx):.1f}" height="10" fill="#2ca02c">'
                     f"<title>ground truth {s:.1f}-{e:.1f} s</title></rect>")
    for rank, w in enumerate(pred[:5]):
        s, e = w[0], w[1]
        y = 2 + 6 * rank
        parts.append(f'<rect class="pred" x="{s * sx:.1f}" y="{y}" width="{max(1.0, (e - s) * sx):.1f}" height="5" '
                     f'fill="{COLORS[rank]}"><title>#{rank + 1} {s:.1f}-{e:.1f} s</title></rect>')
    parts.append("</svg>")
    return "".join(parts)


def _find_video(videos: Path | None, vid: str) -> Path | None:
    if videos is None:
        return None
    for ext in VIDEO_EXT:
        f = videos / f"{vid}{ext}"
        if f.is_file():
            return f
    return None


def render(preds: dict[Any, dict[str, Any]], gts: list[Query], metrics: dict[str, float], settings: str,
           out: Path, videos: Path | None = None, limit: int = 0) -> str:
    from vlanet.utils.spans import temporal_iou

    rows = []
    for n, q in enumerate(gts):
        if limit and n >= limit:
            break
        pred = preds[q.qid]["pred_relevant_windows"]
        top_iou = max((temporal_iou(pred[0][:2], g) for g in q.windows), default=0.0) if pred else 0.0
        video = _find_video(videos, q.vid)
        player = ""
        if video is not None:
            src = os.path.relpath(video.resolve(), out.resolve().parent)
            buttons = "".join(f'<button type="button" class="seek" data-t="{w[0]:.2f}">#{i + 1} {w[0]:.1f}-{w[1]:.1f}s</button>'
                              for i, w in enumerate(pred[:5]))
            player = (f'<div class="player"><video controls preload="metadata" src="{_e(src)}"></video>'
                      f"<div>{buttons}</div></div>")
        rows.append(
            f'<tr class="q"><td>{_e(q.qid)}</td><td>{_e(q.vid)}</td><td class="text">{_e(q.query)}</td>'
            f"<td>{top_iou:.2f}</td><td>{_svg(q.duration, q.windows, pred)}{player}</td></tr>")
    mrows = "".join(f"<tr><th>{_e(k)}</th><td>{v:.2f}</td></tr>" for k, v in metrics.items())
    shown = f"{len(rows)} of {len(gts)}" if len(rows) < len(gts) else f"all {len(gts)}"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>vlanet report</title>
<style>
body{{font-family:sans-serif;margin:1.5em;color:#222}} table{{border-collapse:collapse}}
td,th{{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}}
.text{{max-width:22em}} video{{width:320px;display:block;margin-top:4px}} button{{margin:2px;font-size:11px}}
.legend span{{display:inline-block;width:12px;height:8px;margin:0 4px 0 12px}}
</style></head><body>
<h1>Moment retrieval report</h1>
<p>{_e(settings)}</p>
<table id="metrics">{mrows}</table>
<p class="legend">Timeline: <span style="background:#2ca02c"></span>ground truth
<span style="background:#d62728"></span>prediction #1 <span style="background:#ff7f0e"></span>#2, lighter = lower ranks.
Queries shown: {shown}.</p>
<table id="queries"><tr><th>qid</th><th>video</th><th>query</th><th>IoU@1</th><th>timeline</th></tr>
{"".join(rows)}
</table>
<script>
document.querySelectorAll("button.seek").forEach(function(b){{
  b.addEventListener("click", function(){{
    var v = b.closest(".player").querySelector("video");
    v.currentTime = parseFloat(b.dataset.t); v.play();
  }});
}});
</script>
</body></html>
"""
