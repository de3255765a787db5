"""Seconds per training epoch of TGA, VLANet, CNM and CPL on the same data and the same loop.

    python benchmarks/methods_speed.py [--config CONFIG] [--device cpu|cuda] [--bf16]
                                       [--queries N] [--models tga,vlanet,cnm,cpl] [--json]
                                       [overrides ...]

Each model trains one epoch through ``vlanet.train.loop.train`` (benchmarks/epoch.py: loading,
scoring, backward and step; no validation or test) on the simulated full-scale Charades-STA
train files when they exist, otherwise on random 4096-d rows of Charades-like durations.
``--queries N`` times the first N queries only (default 2,048, 32 batches of 64), read once and
two batches trained before the first model is timed, so that none pays for a cold start; the figure
printed is each model's epoch time scaled to the full 12,404-query epoch, and its ratio to
VLANet's.  The issue's target: CNM and CPL no slower per epoch than VLANet (ratio <= 1).
"""

from __future__ import annotations

import argparse
import json
import sys

import epoch  # benchmarks/epoch.py (this script's folder is on sys.path)
import torch

from vlanet.config import load_config
from vlanet.data.features import ResidentStore

FULL_EPOCH = 12404  # queries in the official Charades-STA train split (after `data prepare`)


def measure(models: list[str], config: str | None, device: str, bf16: bool, queries: int, features: str, gt: str,
            overrides: list[str]) -> dict[str, dict[str, float]]:
    out = {}
    for k, m in enumerate(models):
        cfg = load_config(config, [*overrides, f"model.name={m}", "train.epochs=1", f"train.device={device}",
                                   f"train.autocast={'bf16' if bf16 else 'none'}"])
        ds, source = epoch.charades_scale(cfg, features, gt, queries)
        if k == 0:  # the first model must not pay for a cold page cache or a cold process: every video
            ResidentStore(ds.store, [q.vid for q in ds.queries], "cpu")  # read once, two batches trained
            epoch.one_epoch(cfg, epoch.charades_scale(cfg, features, gt, 2 * cfg.train.batch_size)[0])
        result = epoch.one_epoch(cfg, ds)
        seconds = result.history[0]["train_seconds"]
        out[m] = {"queries": len(ds), "seconds": seconds, "full_epoch_s": seconds * FULL_EPOCH / len(ds),
                  "loss": result.history[0]["loss"], "data": source}
        print(f"  {m:>6}: {seconds:6.1f} s for {len(ds):,} queries -> {out[m]['full_epoch_s']:7.1f} s per full epoch",
              file=sys.stderr, flush=True)
    return out


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", help="YAML config (its model, method and train sections are used)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--bf16", action="store_true", help="train.autocast=bf16")
    ap.add_argument("--queries", type=int, default=2048, help="time the first N queries (0 = all)")
    ap.add_argument("--models", default="tga,vlanet,cnm,cpl")
    ap.add_argument("--features", default=str(epoch.bench.REPO / "data/charades-sta/sim_c3d.h5"))
    ap.add_argument("--gt", default=str(epoch.bench.REPO / "data/charades-sta/train.jsonl"))
    ap.add_argument("--json", action="store_true")
    ap.add_argument("overrides", nargs="*", help="section.key=value config overrides")
    args = ap.parse_args(argv)
    res = measure(args.models.split(","), args.config, args.device, args.bf16, args.queries, args.features, args.gt,
                  args.overrides)
    dev = torch.cuda.get_device_name(0) if args.device.startswith("cuda") else f"cpu ({torch.get_num_threads()} threads)"
    base = res.get("vlanet", {}).get("full_epoch_s")
    print(f"device: {dev}  bf16={args.bf16}  data: {next(iter(res.values()))['data']}")
    print("| model | s per full epoch | vs VLANet |\n|---|---:|---:|")
    for m, r in res.items():
        ratio = f"{r['full_epoch_s'] / base:.2f}x" if base else "-"
        print(f"| {m} | {r['full_epoch_s']:.1f} | {ratio} |")
    if args.json:
        print(json.dumps({"device": dev, "bf16": args.bf16, "models": res}))
    return res


if __name__ == "__main__":
    main()
    sys.exit(0)
