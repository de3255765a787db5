"""Your own video: feature extraction with the offline backbone, the Python API and `vlanet run`
on the real Charades video Y1HGC (skipped without ../shared/data or the video extra)."""

from __future__ import annotations

import json
import subprocess
import sys

import h5py
import numpy as np
import pytest

pytest.importorskip("av")
pytest.importorskip("efficientnet_lite_pytorch")

from vlanet.cli import main  # noqa: E402


def vlanet(*args):
    return subprocess.run([sys.executable, "-m", "vlanet", *map(str, args)], capture_output=True, text=True)


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    from tests.conftest import shared_data_dir

    v = shared_data_dir() / "example-video" / "Y1HGC.mp4"
    if not v.is_file():
        pytest.skip(f"example video not found at {v} (set VLANET_SHARED_DATA)")
    return v


@pytest.fixture(scope="module")
def extracted(video, tmp_path_factory):
    d = tmp_path_factory.mktemp("extract")
    out = d / "feats.h5"
    r = vlanet("features", "extract", video, "--out", out, "--fps", "2", "--quiet")
    assert r.returncode == 0, r.stderr
    return d, out


@pytest.fixture(scope="module")
def checkpoint(extracted):
    """A checkpoint trained for a few steps on efficientnet-lite0 features of the same kind:
    the real video's rows plus noisy copies of them under other ids, with its two real moments."""
    d, feats_file = extracted
    with h5py.File(feats_file) as f:
        x, attrs = f["Y1HGC"][()], dict(f.attrs)
    rng = np.random.default_rng(0)
    train = d / "train.h5"
    with h5py.File(train, "w") as f:
        f.attrs.update(attrs)
        for i in range(12):
            f[f"copy{i}"] = (np.roll(x, 3 * i, axis=0) + 0.1 * rng.standard_normal(x.shape)).astype(np.float32)
    rows = [{"qid": i, "vid": f"copy{i // 2}", "duration": 30.7, "query": q, "relevant_windows": [w]}
            for i, (q, w) in enumerate([("a person walks in a doorway drinking some coffee.", [0.2, 9.8]),
                                        ("person drinking a glass of water.", [1.7, 12.1])] * 12)]
    (d / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    words = ["<PAD>", "a", "person", "walks", "in", "doorway", "drinking", "some", "coffee", "glass", "of", "water", "opens", "door"]
    np.savez(d / "words.npz", words=np.array(words), vectors=np.vstack(
        [np.zeros(8), rng.standard_normal((len(words) - 1, 8))]).astype(np.float32))
    run = d / "run"
    r = vlanet("train", "data.source=files", f"data.features={train}", f"data.train={d / 'train.jsonl'}",
               f"data.word_vectors={d / 'words.npz'}", "data.val_fraction=0", "model.hidden_dim=16",
               "model.stride_frames=8", "train.epochs=2", "train.batch_size=8", "--run-dir", run, "--quiet")
    assert r.returncode == 0, r.stderr
    return run


def test_extract_writes_the_feature_format(extracted):
    _, out = extracted
    with h5py.File(out) as f:
        assert list(f) == ["Y1HGC"]
        x = f["Y1HGC"][()]
        assert x.shape == (62, 1280) and np.isfinite(x).all()
        assert f.attrs["backbone"] == "efficientnet-lite0" and f.attrs["fps"] == 2.0 and f.attrs["time_convention"] == "fps"
        assert abs(f["Y1HGC"].attrs["duration"] - 30.7) < 0.05


def test_extract_resumes_and_skips_done_videos(extracted, video):
    _, out = extracted
    before = out.read_bytes()
    r = vlanet("features", "extract", video, "--out", out, "--fps", "2", "--quiet")
    assert r.returncode == 0 and "0 extracted, 1 already done" in r.stderr
    with h5py.File(out) as f:
        assert f["Y1HGC"].shape == (62, 1280)
    assert len(out.read_bytes()) == len(before)


def test_run_command_json_is_well_formed(checkpoint, video, tmp_path):
    plot = tmp_path / "timeline.png"
    r = vlanet("run", video, "a person walks in a doorway drinking some coffee.", "person opens the door",
               "--checkpoint", checkpoint, "--topk", "5", "--json", "--plot", plot, "--quiet")
    assert r.returncode == 0, r.stderr
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert len(rows) == 2
    for row in rows:
        assert set(row) == {"query", "duration", "pred_relevant_windows", "unknown_words"}
        wins = row["pred_relevant_windows"]
        assert 1 <= len(wins) <= 5
        assert all(0 <= s < e <= row["duration"] + 1e-6 for s, e, _ in wins)
        scores = [w[2] for w in wins]
        assert scores == sorted(scores, reverse=True)
    assert plot.stat().st_size > 1000


def test_predictor_api_reuses_an_encoded_video(checkpoint, extracted):
    from vlanet import Predictor

    _, out = extracted
    p = Predictor.from_pretrained(checkpoint)
    assert p.backbone == "efficientnet-lite0" and p.feature_dim == 1280
    with h5py.File(out) as f:
        x = f["Y1HGC"][()]
    video = p.encode_features(x)
    assert video.duration == pytest.approx(31.0)  # 62 rows x 0.5 s
    a = p.predict("person drinking a glass of water.", video, topk=3, return_attention=True)
    b = p.predict("person drinking a glass of water.", video, topk=3)
    assert a["pred_relevant_windows"] == b["pred_relevant_windows"]
    att = a["attention"]
    assert att["words"] == ["person", "drinking", "a", "glass", "of", "water"]
    assert len(att["map"]) == len(att["element_windows"]) == len(att["element_weights"])
    assert abs(sum(att["element_weights"]) - 1.0) < 1e-4
    from vlanet.utils.errors import InputError

    with pytest.raises(InputError, match="features are 512-d but the checkpoint expects 1280-d"):
        p.encode_features(np.zeros((10, 512), np.float32))
    with pytest.raises(InputError, match="none of its words"):
        p.predict("zzz qqq", video)
    # words the checkpoint does not know are reported, not silently dropped
    assert a["unknown_words"] == []
    assert p.predict("person drinking zzzglass", video)["unknown_words"] == ["zzzglass"]


def test_bad_videos_exit_2(tmp_path, capsys):
    (tmp_path / "notavideo.mp4").write_text("hello")
    (tmp_path / "empty.mp4").write_bytes(b"")
    import wave

    with wave.open(str(tmp_path / "sound.wav"), "wb") as w:  # a readable media file without video
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(8000), w.writeframes(b"\x00\x00" * 8000)
    cases = {"notavideo.mp4": "not a readable video", "empty.mp4": "not a readable video",
             "missing.mp4": "video file or folder not found", "sound.wav": "no video stream"}
    for name, why in cases.items():
        out = tmp_path / "o" / "f.h5"
        assert main(["features", "extract", str(tmp_path / name), "--out", str(out), "--quiet"]) == 2
        err = capsys.readouterr().err.strip()
        assert "\n" not in err and name in err and why in err, err
        assert not out.exists() and not (tmp_path / "o" / "f.h5.parts").exists()
    assert main(["features", "extract", str(tmp_path), "--backbone", "vgg16-fc7", "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "--weights" in err or "torchvision" in err


def test_demo_in_headless_chromium(checkpoint, video, tmp_path):
    """Load the Gradio page, upload the real video, submit a sentence, and see the moments."""
    import shutil
    import socket
    import time

    pytest.importorskip("gradio")
    sync_api = pytest.importorskip("playwright.sync_api")
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("Debian chromium not installed (apt-get install chromium)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "vlanet", "demo", "--checkpoint", str(checkpoint), "--port", str(port),
                             "--max-minutes", "5"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert proc.poll() is None, proc.stdout.read()
            time.sleep(0.5)
        with sync_api.sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{port}/", timeout=60000)
            page.locator("#vl-video input[type=file]").set_input_files(str(video))
            page.locator("#vl-query textarea").fill("person drinking a glass of water.")
            page.wait_for_timeout(1500)
            page.locator("#vl-go").click()
            page.wait_for_selector("#vl-moments button.vl-seek", timeout=180000)
            buttons = page.locator("#vl-moments button.vl-seek").all_inner_texts()
            browser.close()
        assert 1 <= len(buttons) <= 5 and all(" s " in b or "s (score" in b for b in buttons)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_extract_shards_across_torchrun_processes(video, tmp_path):
    import shutil

    d = tmp_path / "vids"
    d.mkdir()
    for name in ("a", "b"):
        shutil.copy(video, d / f"{name}.mp4")
    out = tmp_path / "sharded.h5"
    r = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                        "-m", "vlanet", "features", "extract", str(d), "--out", str(out), "--quiet"],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "2 videos (1 extracted" in r.stderr  # rank 0 extracted one, rank 1 the other
    with h5py.File(out) as f:
        assert sorted(f) == ["a", "b"] and f["a"].shape == f["b"].shape == (62, 1280)
        np.testing.assert_allclose(f["a"][()], f["b"][()], atol=1e-5)
    assert not (tmp_path / "sharded.h5.parts").exists()
