"""The static HTML report: escaped, self-contained, and rendered by headless Debian chromium."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from vlanet.cli import main

EVIL = '<script>document.title="pwned"</script> a person "opens" the door & leaves'


def _files(tmp_path):
    gt = [{"qid": i, "vid": "Y1HGC", "query": EVIL if i == 0 else f"query {i}", "duration": 30.7,
           "relevant_windows": [[0.2, 9.8]]} for i in range(3)]
    preds = [{"qid": i, "pred_relevant_windows": [[0.0, 10.0, 0.9], [12.0, 20.0, 0.5]]} for i in range(3)]
    (tmp_path / "gt.jsonl").write_text("".join(json.dumps(r) + "\n" for r in gt))
    (tmp_path / "preds.jsonl").write_text("".join(json.dumps(r) + "\n" for r in preds))
    return tmp_path / "preds.jsonl", tmp_path / "gt.jsonl"


def test_report_is_escaped_and_complete(tmp_path, capsys):
    preds, gt = _files(tmp_path)
    out = tmp_path / "r" / "report.html"
    assert main(["report", str(preds), "--gt", str(gt), "--out", str(out)]) == 0
    text = out.read_text()
    assert "<script>document.title" not in text and "&lt;script&gt;document.title" in text
    assert text.count('<tr class="q">') == 3 and text.count('class="pred"') == 6 and text.count('class="gt"') == 3
    assert "R@1,IoU=0.5" in text and "<video" not in text and "http" not in text


def test_report_bad_input_leaves_nothing(tmp_path, capsys):
    preds, gt = _files(tmp_path)
    preds.write_text(json.dumps({"qid": 0, "pred_relevant_windows": []}) + "\n")
    out = tmp_path / "r" / "report.html"
    assert main(["report", str(preds), "--gt", str(gt), "--out", str(out)]) == 2
    assert "no prediction" in capsys.readouterr().err and not out.exists()


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian chromium not installed (apt-get install chromium)")
def test_report_renders_in_headless_chromium(tmp_path):
    from tests.conftest import shared_data_dir

    preds, gt = _files(tmp_path)
    videos = tmp_path / "videos"
    videos.mkdir()
    src = shared_data_dir() / "example-video" / "Y1HGC.mp4"
    if src.is_file():
        shutil.copy(src, videos / "Y1HGC.mp4")
    out = tmp_path / "report.html"
    assert main(["report", str(preds), "--gt", str(gt), "--videos", str(videos), "--out", str(out)]) == 0
    r = subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--allow-file-access-from-files",
                        "--virtual-time-budget=3000", "--dump-dom", out.as_uri()],
                       capture_output=True, text=True, timeout=120)
    dom = r.stdout
    assert r.returncode == 0 and "<table id=\"queries\">" in dom, r.stderr[-2000:]
    assert dom.count('<tr class="q">') == 3
    assert "<title>vlanet report</title>" in dom  # the query's script did not run (title unchanged)
    assert "&lt;script&gt;" in dom
    if src.is_file():
        assert dom.count("<video") == 3 and dom.count('class="seek"') == 6
