"""One Charades-STA-scale training epoch through the real training loop, data loading included.

    python benchmarks/epoch.py [--config CONFIG] [--device cpu|cuda] [--bf16]
                               [--preload none|ram|device] [--workers N] [--json] [overrides ...]

The epoch is ``vlanet.train.loop.train`` for one epoch (no validation, no test), and the figure
is the loop's own ``train_seconds``: every batch read (or gathered from the preloaded table),
moved to the device, scored with its negatives, backpropagated and stepped.  The data are the
simulated full-scale Charades-STA files when they exist (``--features``/``--gt``: the real
12,404 train queries and durations with simulated 4096-d rows, see docs/TESTBEDS.md), otherwise
12,408 queries (the official train split's count), 3 per video, with Charades-like durations
and random 4096-d rows held in memory.  The preload's own time is printed apart.

The issue's GPU target: ``--device cuda --bf16 --preload device`` on an H100 in <= 2 s.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import bench  # the benchmark's synthetic data helpers (this script's folder is on sys.path)
import numpy as np
import torch

from vlanet.config import load_config
from vlanet.data.dataset import MomentDataset, ProposalSpec
from vlanet.data.features import ResidentStore, open_store
from vlanet.data.loading import Splits
from vlanet.train.loop import train


def charades_scale(cfg, features: str, gt: str, limit: int = 0) -> tuple[MomentDataset, str]:
    words = bench.make_words()
    if Path(features).exists() and Path(gt).exists():
        queries = bench.bench_queries(gt, words, np.random.default_rng(0), limit)
        ds = MomentDataset(queries, open_store(features), words, bench.TIME, ProposalSpec.from_config(cfg), "train")
        return ds, f"{features} ({len(queries)} queries)"
    durations = list(np.random.default_rng(1).lognormal(np.log(29), 0.3, 4136).clip(10, 120))
    n = limit or 12408
    return (bench.make_dataset(n, durations, cfg, 4096, words, per_video=3),
            f"random 4096-d rows in memory, Charades-like durations ({n:,} queries, {-(-n // 3):,} videos)")


def one_epoch(cfg, ds: MomentDataset):
    """``train`` for cfg's epochs (1 here) on ``ds`` in a throw-away run directory; its result."""
    splits = Splits(ds, None, None, ds.words, ds.time, 4096)  # the Charades-scale rows are 4096-d
    with tempfile.TemporaryDirectory(prefix="vlanet-epoch-") as run:
        return train(cfg, run, progress=sys.stderr.isatty(), splits=splits)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", help="YAML config (model/train sections are used)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--bf16", action="store_true", help="train.autocast=bf16")
    ap.add_argument("--preload", default="none", choices=("none", "ram", "device"))
    ap.add_argument("--workers", type=int, default=0, help="train.num_workers (loader processes)")
    ap.add_argument("--features", default=str(bench.REPO / "data/charades-sta/sim_c3d.h5"))
    ap.add_argument("--gt", default=str(bench.REPO / "data/charades-sta/train.jsonl"))
    ap.add_argument("--queries", type=int, default=0, help="only the first N queries (a smoke run)")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("overrides", nargs="*", help="section.key=value config overrides")
    args = ap.parse_args()
    cfg = load_config(args.config, [*args.overrides, "train.epochs=1", f"train.device={args.device}",
                                    f"train.autocast={'bf16' if args.bf16 else 'none'}",
                                    f"train.num_workers={args.workers}"])
    ds, source = charades_scale(cfg, args.features, args.gt, args.queries)
    preload_s = 0.0
    if args.preload != "none":
        t = time.perf_counter()
        ds.store = ResidentStore(ds.store, [q.vid for q in ds.queries], args.device if args.preload == "device" else "cpu")
        preload_s = time.perf_counter() - t
    result = one_epoch(cfg, ds)
    seconds = result.history[0]["train_seconds"]
    dev = torch.cuda.get_device_name(0) if args.device.startswith("cuda") else f"cpu ({torch.get_num_threads()} threads)"
    res = {"device": dev, "torch": torch.__version__, "bf16": args.bf16, "preload": args.preload,
           "workers": args.workers, "hidden_dim": cfg.model.hidden_dim, "batch_size": cfg.train.batch_size,
           "queries": len(ds), "data": source, "epoch_s": seconds, "pairs_per_s": len(ds) / seconds,
           "preload_s": preload_s, "loss": result.history[0]["loss"]}
    print(f"device: {dev}  bf16={args.bf16}  D={cfg.model.hidden_dim}  batch={cfg.train.batch_size}  "
          f"preload={args.preload}  workers={args.workers}")
    print(f"  data: {source}")
    print(f"  one epoch, loading included: {seconds:.1f} s = {len(ds) / seconds:.0f} pairs/s"
          + (f"  (preload before it: {preload_s:.1f} s)" if args.preload != "none" else ""))
    if args.json:
        print(json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
