"""Before/after: the paper-setting training step of two revisions, in interleaved runs.

    python benchmarks/ab_step.py REV_BEFORE [REV_AFTER] [--rounds 3] [--steps 21] [--config CONFIG]

Each revision (a git commit, or the working tree when REV_AFTER is left out) is checked out in
a temporary worktree; every round runs one fresh process per revision, alternating, so a noisy
machine slows both alike.  A process builds bench.py's batch (64 queries, 4096-d, 30-s videos,
random features, from that revision's own benchmarks/bench.py), trains 3 warm-up steps, then
times ``--steps`` steps and prints their median.  Each revision runs as its own ``train()``
would: with vlanet.allocator's setting where the revision has it.

The optimisation tables of docs/PERFORMANCE.md were measured this way.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

CHILD = r"""
import sys, time, statistics
tree, steps, config = sys.argv[1], int(sys.argv[2]), sys.argv[3] or None
sys.path[:0] = [tree + "/src", tree + "/benchmarks"]
try:
    from vlanet.allocator import retain_freed_memory
    retain_freed_memory()
except ImportError:  # revisions before the allocator setting
    pass
import torch
import bench
from vlanet.config import load_config
from vlanet.model import VLANet
from vlanet.train.loop import batch_loss
assert bench.__file__.startswith(tree)
cfg = load_config(config)
words = bench.make_words()
batch = bench.make_dataset(cfg.train.batch_size, [30.0], cfg, 4096, words).collate(list(range(cfg.train.batch_size)))
torch.manual_seed(0)
model = VLANet(cfg.model, 4096, torch.from_numpy(words.vectors))
opt = torch.optim.Adam(model.parameters(), lr=1e-4)
def step():
    loss, _, _ = batch_loss(model, batch, cfg.train, torch.Generator().manual_seed(0))
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
for _ in range(3):
    step()
times = []
for _ in range(steps):
    t = time.perf_counter()
    step()
    times.append(time.perf_counter() - t)
print(statistics.median(times))
"""


def checkout(rev: str, root: Path) -> Path:
    path = root / rev.replace("/", "_")
    subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", "-f", str(path), rev],
                   check=True, capture_output=True)
    return path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("before", help="git revision")
    ap.add_argument("after", nargs="?", help="git revision (default: the working tree)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--steps", type=int, default=21)
    ap.add_argument("--config", default="", help="YAML config (default: the built-in defaults)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="vlanet-ab-") as tmp:
        trees = {args.before: checkout(args.before, Path(tmp))}
        trees[args.after or "working tree"] = checkout(args.after, Path(tmp)) if args.after else REPO
        try:
            results: dict[str, list[float]] = {name: [] for name in trees}
            for r in range(args.rounds):
                for name, tree in trees.items():
                    out = subprocess.run([sys.executable, "-c", CHILD, str(tree), str(args.steps), args.config],
                                         capture_output=True, text=True, check=True)
                    results[name].append(float(out.stdout.strip().splitlines()[-1]))
                    print(f"round {r + 1}  {name:>14}: {results[name][-1] * 1000:.0f} ms per step", flush=True)
            for name, ts in results.items():
                print(f"{name}: {' / '.join(f'{t * 1000:.0f}' for t in ts)} ms (median {statistics.median(ts) * 1000:.0f})")
        finally:
            for name, tree in trees.items():
                if tree != REPO:
                    subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(tree)],
                                   capture_output=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
