"""Long videos: time and peak memory of `vlanet run` for 1 min, 10 min and 1 h of video.

    python benchmarks/long_video.py [--minutes 1 10 60] [--workdir /tmp/vlanet-long]

It writes test videos (480x270 at 15 fps, the encoding of the Charades example: moving colour
blocks, H.264 or MPEG-4), trains a small checkpoint on EfficientNet-Lite0 features of the
example video, then runs `vlanet run VIDEO QUERY --checkpoint CK` once per length under
`/usr/bin/time -v`, and prints wall time, peak RSS and the number of proposals.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np


def make_video(path: Path, seconds: float, fps: int = 15, w: int = 480, h: int = 270) -> None:
    import av

    if path.exists():
        return
    tmp = path.with_suffix(".tmp.mp4")
    with av.open(str(tmp), "w") as out:
        codec = "libx264" if "libx264" in av.codecs_available else "mpeg4"
        s = out.add_stream(codec, rate=fps)
        s.width, s.height, s.pix_fmt = w, h, "yuv420p"
        rng = np.random.default_rng(0)
        base = rng.integers(0, 255, (8, 3))
        for i in range(int(seconds * fps)):
            img = np.zeros((h, w, 3), np.uint8)
            k = (i // (fps * 7)) % 8  # a new "scene" every 7 s
            img[:] = base[k] // 2
            x = (i * 3) % (w - 60)
            img[100:160, x:x + 60] = base[(k + 3) % 8]
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            for pkt in s.encode(frame):
                out.mux(pkt)
        for pkt in s.encode():
            out.mux(pkt)
    tmp.rename(path)


def small_checkpoint(work: Path, example: Path) -> Path:
    run = work / "ck"
    if (run / "checkpoints" / "best" / "model.json").exists():
        return run
    feats = work / "ex.h5"
    subprocess.run([sys.executable, "-m", "vlanet", "features", "extract", str(example), "--out", str(feats), "--quiet"], check=True)
    import h5py

    with h5py.File(feats) as f:
        x, attrs = f[example.stem][()], dict(f.attrs)
    rng = np.random.default_rng(0)
    with h5py.File(work / "train.h5", "w") as f:
        f.attrs.update(attrs)
        for i in range(16):
            f[f"c{i}"] = (np.roll(x, 2 * i, 0) + 0.1 * rng.standard_normal(x.shape)).astype(np.float32)
    rows = [{"qid": i, "vid": f"c{i // 2}", "duration": 30.7, "query": q, "relevant_windows": [w]}
            for i, (q, w) in enumerate([("a person walks in a doorway drinking coffee", [0.2, 9.8]),
                                        ("person drinking a glass of water", [1.7, 12.1])] * 16)]
    (work / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    words = sorted({t for r in rows for t in r["query"].split()})
    np.savez(work / "words.npz", words=np.array(["<PAD>"] + words),
             vectors=np.vstack([np.zeros(50), rng.standard_normal((len(words), 50))]).astype(np.float32))
    subprocess.run([sys.executable, "-m", "vlanet", "train", "data.source=files", f"data.features={work / 'train.h5'}",
                    f"data.train={work / 'train.jsonl'}", f"data.word_vectors={work / 'words.npz'}", "data.val_fraction=0",
                    "train.epochs=1", "train.batch_size=16", "--run-dir", str(run), "--quiet"], check=True)
    return run


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, nargs="+", default=[1, 10, 60])
    ap.add_argument("--workdir", default="/tmp/vlanet-long")
    ap.add_argument("--example", default=str(Path(__file__).resolve().parents[2] / "shared/data/example-video/Y1HGC.mp4"))
    args = ap.parse_args()
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    ck = small_checkpoint(work, Path(args.example))
    print("| video | proposals (K groups x 3) | wall time | peak RSS |")
    print("|---|---:|---:|---:|")
    for m in args.minutes:
        v = work / f"video_{m:g}min.mp4"
        make_video(v, m * 60)
        r = subprocess.run(["/usr/bin/time", "-v", sys.executable, "-m", "vlanet", "run", str(v), "a person drinking coffee",
                            "--checkpoint", str(ck), "--json", "--quiet"], capture_output=True, text=True)
        if r.returncode != 0:
            print(f"| {m:g} min | failed: {r.stderr.strip().splitlines()[-1:]} | | |")
            continue
        wall = re.search(r"Elapsed \(wall clock\) time.*: (\S+)", r.stderr).group(1)
        rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr).group(1)) / 1024
        k = int(np.floor((m * 60 - 176 / 24) / (8 / 24))) + 1
        print(f"| {m:g} min | {k} x 3 | {wall} | {rss:.0f} MB |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
