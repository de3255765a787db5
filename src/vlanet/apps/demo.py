"""``vlanet demo --checkpoint DIR``: a local web demo (Gradio, the ``demo`` extra).

Bound to 127.0.0.1 unless ``--host`` says otherwise.  The user uploads a video (or picks an
example), types a sentence and gets: the top-k moments as buttons that seek the player, a
timeline of the scores (Fig. 6), and a frame from each predicted moment.  Uploads are limited in
size (``--max-upload-mb``) and duration (``--max-minutes``), with a clear message when over.
Encoded videos are cached by path, so a second query on the same video costs one forward pass.
"""

from __future__ import annotations

import html
import json
import tempfile
from pathlib import Path
from typing import Any

from vlanet.utils.errors import InputError


def _frames_at(path: str, times: list[float], fps: float = 2.0) -> list:
    """One frame per requested time (the first sample at or after it), in one decoding pass."""
    from vlanet.apps.video import sample_frames

    found: list = [None] * len(times)
    for ts, frame in sample_frames(path, fps):
        for i, t in enumerate(times):
            if found[i] is None and ts >= t - 1e-6:
                found[i] = frame
        if all(f is not None for f in found):
            break
    return found


def _render(result: dict, video: Path):
    """The demo's four outputs for one prediction: seek buttons, the timeline figure (Fig. 6),
    frames at the top three moments, and the prediction row as JSON."""
    from vlanet.apps.viz import plot_prediction

    fig = Path(tempfile.mkdtemp(prefix="vlanet-demo-")) / "timeline.png"
    plot_prediction([result], fig, title=video.name)
    wins = result["pred_relevant_windows"]
    buttons = "".join(
        f'<button class="vl-seek" data-t="{s:.2f}" onclick="(function(b){{var v=document.querySelector(\'#vl-video video\');'
        f'if(v){{v.currentTime=parseFloat(b.dataset.t);v.play();}}}})(this)">#{i + 1} {s:.1f}-{e:.1f} s '
        f"(score {sc:.3f})</button>" for i, (s, e, sc) in enumerate(wins))
    moments = f'<div id="vl-moments">{buttons}</div><p>{html.escape(result["query"])}</p>'
    mids = [(s + e) / 2 for s, e, _ in wins[:3]]
    frames = [(f, f"#{i + 1} at {t:.1f} s") for i, (f, t) in enumerate(zip(_frames_at(str(video), mids), mids))]
    result.pop("attention", None)
    return moments, str(fig), [f for f in frames if f[0] is not None], json.dumps(result)


def build_app(checkpoint: str, examples: list[str] | None = None, max_upload_mb: float = 200.0,
              max_minutes: float = 90.0, topk: int = 5, device: str = "cpu"):
    try:
        import gradio as gr
    except ImportError:
        raise InputError("the demo needs the optional extra: pip install 'vlanet[demo]'") from None
    from vlanet.api import Predictor
    from vlanet.apps.video import video_duration

    predictor = Predictor.from_pretrained(checkpoint, device)
    cache: dict[str, Any] = {}

    def run(video_path: str | None, query: str):
        if not video_path:
            raise gr.Error("Upload a video or pick an example first.")
        if not query or not query.strip():
            raise gr.Error("Type a sentence describing a moment.")
        p = Path(video_path)
        size_mb = p.stat().st_size / 2**20
        if size_mb > max_upload_mb:
            raise gr.Error(f"The video is {size_mb:.0f} MB; this demo accepts up to {max_upload_mb:.0f} MB.")
        try:
            duration = video_duration(p)
            if duration > max_minutes * 60:
                raise gr.Error(f"The video is {duration / 60:.1f} min long; this demo accepts up to {max_minutes:g} min.")
            if video_path not in cache:
                cache[video_path] = predictor.encode_video(p)  # in the checkpoint's own time convention
            result = predictor.predict(query.strip(), cache[video_path], topk=topk, return_attention=True)
        except InputError as e:
            raise gr.Error(str(e)) from None
        return _render(result, p)

    with gr.Blocks(title="vlanet demo") as app:
        gr.Markdown("## VLANet: find the moment a sentence describes\nTrained weakly (video + sentence pairs only). "
                    f"Checkpoint: `{html.escape(str(checkpoint))}`; backbone: `{predictor.backbone}`.")
        with gr.Row():
            with gr.Column():
                video = gr.Video(label="video", elem_id="vl-video", sources=["upload"])
                query = gr.Textbox(label="sentence", placeholder="a person opens the door", elem_id="vl-query")
                go = gr.Button("Find moments", elem_id="vl-go", variant="primary")
                if examples:
                    gr.Examples(examples=[[e] for e in examples], inputs=[video])
            with gr.Column():
                moments = gr.HTML(elem_id="vl-out")
                timeline = gr.Image(label="timeline (Fig. 6)", type="filepath")
                gallery = gr.Gallery(label="frames at the predicted moments", columns=3, height=180)
                raw = gr.Code(label="JSON", language="json")
        go.click(run, [video, query], [moments, timeline, gallery, raw])
        query.submit(run, [video, query], [moments, timeline, gallery, raw])
    return app


def launch(checkpoint: str, host: str = "127.0.0.1", port: int = 7860, examples: list[str] | None = None,
           max_upload_mb: float = 200.0, max_minutes: float = 90.0, device: str = "cpu") -> None:
    app = build_app(checkpoint, examples, max_upload_mb, max_minutes, device=device)
    app.queue(max_size=8).launch(server_name=host, server_port=port, max_file_size=f"{max_upload_mb:g}mb",
                                 share=False, show_error=True,
                                 allowed_paths=[str(Path(e).resolve().parent) for e in examples or []])
