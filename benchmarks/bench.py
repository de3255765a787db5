"""Speed benchmark: training, inference, evaluation, data loading and scaling, in one run.

    python benchmarks/bench.py [--device cpu|cuda] [--bf16] [--quick] [--eval-only [--checkpoint RUN]] [--json]

Everything is a median over repeats, measured in the same process, so ratios hold on a noisy
machine.  The paper setting: 4096-d C3D rows (16 frames at 24 fps), 30-s videos, stride 8,
windows 176/208/240 frames, 8-word sentences with 300-d word vectors, batch 64 with 4 negatives
per direction, D = model.hidden_dim (default 128).

FLOP count: the matmul FLOPs (2*m*n*k per product) of one forward + backward training step, as
torch.utils.flop_counter counts them from the tensor shapes; elementwise ops (tanh, softmax,
masks) are not counted, so the fraction of peak is a lower bound.  The peak is the best
FLOP/s of a large square matmul (fp32, or bf16 with --bf16) over 15 tries before and 15 after
the training measurement, on the same device in the same run; the training FLOP/s uses the
median step, so the fraction is conservative.  The paired fraction measures the two side by
side instead: each of 15 rounds (7 with --quick) times the best of 3 square matmuls and then
one step, and the median of the rounds' ratios is reported (``train_peak_fraction_paired``):
on a machine whose speed drifts by 2x over a minute, each ratio compares like with like.

The naive reference runs the same model the straightforward way: a Python loop over (video,
sentence) pairs, each encoded on its own, and pooling the 4096-d rows of every window before
projecting (FC per window instead of per row).  It gives the same scores (checked); it is timed
on a random subset of the step's pairs and scaled to all of them (its cost is linear in pairs).

Like training (``train()``), the run keeps freed memory in the process (vlanet/utils/allocator.py);
VLANET_KEEP_FREED_MEMORY=0 measures glibc's default behaviour.  The video-length points run in
fresh processes with the default allocator, as one-shot inference (``vlanet run``) does.

With --json the last stdout line is one JSON object (its main keys are listed in docs/PERFORMANCE.md's
Speed section).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from op_timer import MATMUL_OPS, OpTimer  # benchmarks/op_timer.py

from vlanet.checkpoint import build_model
from vlanet.config import Config, load_config
from vlanet.data.annotations import Query, read_ground_truth
from vlanet.data.dataset import MomentDataset, ProposalSpec
from vlanet.data.features import MemoryStore
from vlanet.data.timing import TimeConvention
from vlanet.data.vocab import PAD, WordVectors
from vlanet.model import VLANet
from vlanet.model.proposals import pool_windows
from vlanet.model.surrogate import select_surrogates, selection_scores
from vlanet.train.step import model_loss, sample_pairs
from vlanet.utils.allocator import retain_freed_memory

REPO = Path(__file__).resolve().parents[1]
TIME = TimeConvention("fps", 24.0, 16)
WORDS = 8


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def median_time(fn, device, reps: int, warmup: int = 1) -> float:
    for _ in range(warmup):
        fn()
    sync(device)
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        sync(device)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def square_matmul(device: torch.device, dtype: torch.dtype):
    """A function that times one large square matmul and returns its FLOP/s (warmed up)."""
    n = 4096 if device.type == "cuda" else 2048
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    for _ in range(2):
        a @ b

    def one() -> float:
        sync(device)
        t = time.perf_counter()
        a @ b
        sync(device)
        return 2 * n**3 / (time.perf_counter() - t)

    return one


def matmul_peak(device: torch.device, dtype: torch.dtype, reps: int) -> float:
    """The best FLOP/s of a large square matmul over max(reps, 15) tries.  The best, not the
    median: on a shared machine single tries vary by up to 2x (82-150 GFLOP/s measured here
    with a median of few), and the peak is what the hardware can do."""
    one = square_matmul(device, dtype)
    return max(one() for _ in range(max(reps, 15)))


def paired_fraction(step, flops: float, device: torch.device, dtype: torch.dtype, rounds: int) -> dict:
    """The fraction of peak from adjacent measurements: each round times the best of 3 square
    matmuls, then one training step, and takes their ratio; the median over rounds is reported.
    A slow spell of the shared machine then slows both sides of a ratio alike, where the
    headline fraction (median step over the best peak of the whole run) takes the step's
    median against the run's luckiest matmul."""
    one = square_matmul(device, dtype)
    ratios, peaks = [], []
    for _ in range(rounds):
        peaks.append(max(one() for _ in range(3)))
        sync(device)
        t = time.perf_counter()
        step()
        sync(device)
        ratios.append(flops / (time.perf_counter() - t) / peaks[-1])
    return {"train_peak_fraction_paired": statistics.median(ratios),
            "train_peak_fraction_paired_rounds": ratios, "matmul_peak_paired_median_flops": statistics.median(peaks)}


def make_words(n: int = 2000, dim: int = 300, seed: int = 0) -> WordVectors:
    rng = np.random.default_rng(seed)
    vecs = np.vstack([np.zeros((1, dim)), rng.standard_normal((n, dim))]).astype(np.float32)
    return WordVectors([PAD] + [f"w{i}" for i in range(n)], vecs)


def make_dataset(n_queries: int, durations: list[float], cfg: Config, feat_dim: int, words: WordVectors,
                 seed: int = 0, per_video: int = 3) -> MomentDataset:
    """Random features of the paper's shape for videos of the given durations (cycled)."""
    rng = np.random.default_rng(seed)
    feats, queries = {}, []
    n_videos = max(1, math.ceil(n_queries / per_video))
    for v in range(n_videos):
        d = durations[v % len(durations)]
        feats[f"v{v}"] = rng.standard_normal((math.ceil(d / TIME.row_seconds(1, d)), feat_dim)).astype(np.float32)
    for i in range(n_queries):
        vid = f"v{i // per_video}"
        d = durations[(i // per_video) % len(durations)]
        text = " ".join(words.words[j] for j in rng.integers(1, len(words.words), WORDS))
        s = float(rng.uniform(0, d * 0.7))
        queries.append(Query(i, vid, text, d, [[s, min(d, s + 8.0)]]))
    return MomentDataset(queries, MemoryStore(feats, TIME.attrs()), words, TIME, ProposalSpec.from_config(cfg), "bench")


def bench_queries(gt: str, words: WordVectors, rng: np.random.Generator, limit: int = 0) -> list[Query]:
    """The ground truth of ``gt`` (its first ``limit`` queries, 0 = all) with sentences drawn
    from the bench vocabulary: the timing does not depend on the words."""
    queries = read_ground_truth(gt)[:limit or None]
    for q in queries:
        q.query = " ".join(words.words[j] for j in rng.integers(1, len(words.words), WORDS))
    return queries


def naive_scores(model: VLANet, batch, vids: list[int], qids: list[int]) -> torch.Tensor:
    """The straightforward reference: one pair at a time, pooling 4096-d rows before the FC."""
    scores = []
    for v, q in zip(vids, qids):
        pooled = pool_windows(batch.feats[v:v + 1], batch.row_mask[v:v + 1], batch.windows[v:v + 1])  # (1,K,L,F)
        p = F.normalize(model.proposal_encoder.fc(pooled), dim=-1) * batch.win_mask[v:v + 1].unsqueeze(-1)
        qe, last = model.query_encoder(batch.words[q:q + 1], batch.word_mask[q:q + 1])
        one = torch.zeros(1, dtype=torch.long)
        window, _ = select_surrogates(selection_scores(p, batch.win_mask[v:v + 1], last, one, one))
        out = model.cca(p.reshape(-1, p.shape[-1]), batch.win_mask[v:v + 1].any(-1), qe, batch.word_mask[q:q + 1], None, window)
        scores.append(out.score)
    return torch.cat(scores)


def matmul_share(step, device, flops: float, step_s: float, steps: int = 3) -> dict:
    """Where a training step's time goes: the time inside matmul ops per step as a share of the
    (untimed, median) step time, and the FLOP/s those ops reach on their own (the step's FLOPs
    over their time).  The latter bounds the step's fraction of peak if everything else took no
    time.  On CPU each op is timed by a wall clock around it (op_times.OpTimer: torch.profiler
    charged the pair products' bmm 2-3x their untimed time there); on CUDA by the profiler's
    kernel times."""
    if device.type == "cpu":
        timer = OpTimer()
        with timer:
            for _ in range(steps):
                step()
        mm_s = timer.seconds(MATMUL_OPS) / steps
    else:
        from torch.profiler import ProfilerActivity, profile

        with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
            for _ in range(steps):
                step()
            sync(device)
        mm_events = [e for e in prof.key_averages() if e.key.removeprefix("aten::") in MATMUL_OPS]
        mm_s = sum(e.self_device_time_total for e in mm_events) * 1e-6 / steps
    return {"train_matmul_time_share": mm_s / step_s, "train_matmul_kernel_flops_per_s": flops / mm_s}


def training_step(cfg: Config | str | None, device: torch.device = torch.device("cpu"), bf16: bool = False):
    """The paper-setting training step: (step(), (model, optimiser, batch, word vectors)).  One
    batch of ``train.batch_size`` 30-s videos with random 4096-d rows, trained with Adam; the
    model is ``model.name``'s, with its own loss where it has one (CNM, CPL), as train/step.py."""
    cfg = cfg if isinstance(cfg, Config) else load_config(cfg)
    words = make_words()
    ds = make_dataset(cfg.train.batch_size, [30.0], cfg, 4096, words)
    batch = ds.collate(list(range(len(ds)))).to(device)
    torch.manual_seed(0)
    model = build_model(cfg, 4096, words).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)

    def step():
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            loss, _, _ = model_loss(model, batch, cfg.train, torch.Generator().manual_seed(0))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return step, (model, opt, batch, words)


def bench_training(cfg, device, bf16, reps, quick):
    step, (model, opt, batch, words) = training_step(cfg, device, bf16)
    t = median_time(step, device, reps)
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as fc:
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            loss, _, _ = model_loss(model, batch, cfg.train, torch.Generator().manual_seed(0))
        loss.backward()
    flops = fc.get_total_flops()
    res = matmul_share(step, device, flops, t)
    res.update(paired_fraction(step, flops, device, torch.bfloat16 if bf16 else torch.float32, 7 if quick else 15))
    res.update({"train_step_s": t, "train_pairs_per_s": len(batch.index) / t, "train_flops_per_step": flops,
                "train_flops_per_s": flops / t, "batch_K": int(batch.windows.shape[1]),
                "batch_T": int(batch.feats.shape[1])})
    # The naive reference on a random subset of this step's pairs (its cost is linear in the
    # pairs); its time is scaled to the whole step.  Same scores as the fast path (checked).
    b = len(batch.index)
    nv, nq, _ = sample_pairs(batch.video_code.cpu(), cfg.train, torch.Generator().manual_seed(0))
    vids, qids = torch.cat([torch.arange(b), nv]), torch.cat([torch.arange(b), nq])
    n_pairs = len(vids)
    sub = torch.randperm(n_pairs, generator=torch.Generator().manual_seed(1))[: 24 if quick else 64]
    with torch.no_grad():
        video = model.encode_video(batch.feats, batch.row_mask, batch.windows, batch.win_mask)
        query = model.encode_query(batch.words, batch.word_mask)
        fast = model.score_pairs(video, query, vids[sub].to(device), qids[sub].to(device)).score
        slow = naive_scores(model, batch, vids[sub].tolist(), qids[sub].tolist())
    res["naive_same_scores"] = bool(torch.allclose(fast.float(), slow.float(), atol=1e-4))

    def naive_subset():
        sc = naive_scores(model, batch, vids[sub].tolist(), qids[sub].tolist())
        opt.zero_grad(set_to_none=True)
        sc.sum().backward()
        opt.step()

    t_sub = median_time(naive_subset, device, 1 if quick else 3, warmup=0)
    res["naive_step_s"] = t_sub * n_pairs / len(sub)
    res["naive_speedup"] = res["naive_step_s"] / t
    res["pairs_scored_per_step"] = n_pairs
    # against batch size
    res["batch_scaling"] = {}
    for bs in ([16, 64] if quick else [16, 32, 64, 128]):
        dsb = make_dataset(bs, [30.0], cfg, 4096, words)
        bb = dsb.collate(list(range(bs))).to(device)

        def st(bb=bb):
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
                loss, _, _ = model_loss(model, bb, cfg.train, torch.Generator().manual_seed(0))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()

        tb = median_time(st, device, max(2, reps // 2))
        res["batch_scaling"][bs] = {"step_s": tb, "pairs_per_s": bs / tb}
    return res


def bench_inference(cfg, device, bf16, reps):
    words = make_words()
    ds = make_dataset(128, [30.0], cfg, 4096, words, per_video=1)
    torch.manual_seed(0)
    model = VLANet(cfg.model, 4096, torch.from_numpy(words.vectors)).to(device).eval()

    def run(idx):
        b = ds.collate(idx).to(device)
        with torch.no_grad(), torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            v = model.encode_video(b.feats, b.row_mask, b.windows, b.win_mask)
            q = model.encode_query(b.words, b.word_mask)
            i = torch.arange(len(idx), device=device)
            model.score_pairs(v, q, i, i)

    one = median_time(lambda: run([0]), device, reps * 3)
    full = median_time(lambda: run(list(range(128))), device, reps)
    return {"infer_ms_per_query": 1000 * one, "infer_batched_queries_per_s": 128 / full}


def bench_eval(cfg, device, features: str | None, gt: str | None, checkpoint: str | None = None):
    """Predict + evaluate the 3,720 Charades-STA test queries (simulated features if present),
    with a random VLANet or a trained ``checkpoint`` (its config, vocabulary and model)."""
    from vlanet.checkpoint import load_model
    from vlanet.data.features import open_store
    from vlanet.eval.evaluate import evaluate_rows, model_protocol
    from vlanet.predict import predict_dataset

    trained = load_model(checkpoint, device) if checkpoint else None
    if trained:
        cfg = trained[1]
    words = trained[2] if trained else make_words()
    if features and gt and Path(features).exists() and Path(gt).exists():
        queries = bench_queries(gt, words, np.random.default_rng(0))
        ds = MomentDataset(queries, open_store(features), words, TIME, ProposalSpec.from_config(cfg), "test")
        source = f"{features} ({len(queries)} queries)"
    else:
        durations = list(np.random.default_rng(1).lognormal(np.log(29), 0.3, 1334).clip(10, 120))
        ds = make_dataset(3720, durations, cfg, 4096, words)
        source = "random features, Charades-like durations (3720 queries)"
    model = trained[0] if trained else VLANet(cfg.model, 4096, torch.from_numpy(words.vectors)).to(device)
    passes = []
    # the first reads the features as the page cache has them, the second warm; the third also
    # scores one mismatched pair per query (what every prediction did before it was optional)
    for negatives in (False, False, True):
        t = time.perf_counter()
        out = predict_dataset(model, ds, cfg.eval, device, negatives=negatives)
        metrics = evaluate_rows(out.rows, ds.queries, model_protocol(cfg))
        passes.append(time.perf_counter() - t)
    return {"eval_3720_s": passes[1], "eval_3720_first_s": passes[0], "eval_3720_with_negatives_s": passes[2],
            "eval_queries": len(ds), "eval_source": source, "eval_check_R1": metrics["R@1,IoU=0.5"]}


def bench_loader(features: str | None, gt: str | None, cfg, reps_batches: int = 30):
    """Pairs per second out of the HDF5 store: read in-process, by 2 worker processes, and
    gathered from the test videos preloaded into RAM (``data.preload=ram``; the preload's own
    time is reported apart)."""
    from vlanet.data.dataset import batch_loader
    from vlanet.data.features import ResidentStore, open_store

    if not (features and gt and Path(features).exists() and Path(gt).exists()):
        return {"loader": "skipped (no simulated HDF5 store; see docs/TESTBEDS.md)"}
    words = make_words()
    rng = np.random.default_rng(0)
    queries = bench_queries(gt, words, rng)
    store = open_store(features)
    order = rng.permutation(len(queries)).tolist()
    batches = [order[i:i + 64] for i in range(0, 64 * reps_batches, 64)]
    res = {}
    t = time.perf_counter()
    resident = ResidentStore(store, [q.vid for q in queries], progress=False)
    res["preload_s"] = time.perf_counter() - t
    res["preload_gb"] = resident.table.numel() * 4 / 1e9
    for name, st, workers in (("workers0", store, 0), ("workers2", store, 2), ("preload_ram", resident, 0)):
        ds = MomentDataset(queries, st, words, TIME, ProposalSpec.from_config(cfg), "loader")
        t = time.perf_counter()
        n = sum(len(b.index) for b in batch_loader(ds, batches, workers))
        res[f"loader_pairs_per_s_{name}"] = n / (time.perf_counter() - t)
    return res


def _peak_rss_mb() -> float:
    """This process's peak RSS (VmHWM).  Not getrusage's ru_maxrss: Linux carries that across
    fork + exec, so a child started by a large parent would report the parent's peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def scaling_point(cfg, device, seconds: float) -> dict:
    """Inference on one video of the given length with one query: time and peak memory."""
    words = make_words()
    ds = make_dataset(1, [seconds], cfg, 4096, words)
    torch.manual_seed(0)
    model = VLANet(cfg.model, 4096, torch.from_numpy(words.vectors)).to(device).eval()
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    def run():
        b = ds.collate([0]).to(device)
        with torch.no_grad():
            v = model.encode_video(b.feats, b.row_mask, b.windows, b.win_mask)
            q = model.encode_query(b.words, b.word_mask)
            i = torch.zeros(1, dtype=torch.long, device=device)
            model.score_pairs(v, q, i, i)

    t = median_time(run, device, 3)
    peak = torch.cuda.max_memory_allocated() / 2**20 if device.type == "cuda" else _peak_rss_mb()
    k = int(ds.video(0).windows.shape[0])
    return {"seconds": seconds, "groups_K": k, "time_s": t, "peak_mb": peak,
            "peak_kind": "cuda max_memory_allocated" if device.type == "cuda" else "peak RSS of the whole process"}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", help="YAML config (model/train/eval sections are used)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--bf16", action="store_true", help="bf16 autocast for training and inference")
    ap.add_argument("--quick", action="store_true", help="fewer repeats (smoke run)")
    ap.add_argument("--features", default=str(REPO / "data/charades-sta/sim_c3d.h5"))
    ap.add_argument("--gt", default=str(REPO / "data/charades-sta/test.jsonl"))
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--train-only", action="store_true",
                    help="only the matmul peak and the training step (repeat runs of the fraction of peak)")
    ap.add_argument("--eval-only", action="store_true",
                    help="only predict + evaluate the test split (with and without a negative pair per query)")
    ap.add_argument("--checkpoint", help="--eval-only with this trained run or checkpoint (default: a random VLANet)")
    ap.add_argument("--scaling-point", type=float, help=argparse.SUPPRESS)
    args = ap.parse_args()
    cfg = load_config(args.config)
    device = torch.device(args.device)
    torch.manual_seed(0)
    if args.eval_only:
        r = bench_eval(cfg, device, args.features, args.gt, args.checkpoint)
        print(f"predict + evaluate {r['eval_queries']} queries [{r['eval_source']}]: {r['eval_3720_s']:.1f} s warm "
              f"(first pass {r['eval_3720_first_s']:.1f} s); scoring a negative pair per query too: "
              f"{r['eval_3720_with_negatives_s']:.1f} s")
        if args.json:
            print(json.dumps(r))
        return 0
    if args.scaling_point:  # one-shot inference, like `vlanet run`: glibc's default allocator
        print(json.dumps(scaling_point(cfg, device, args.scaling_point)))
        return 0
    kept = retain_freed_memory()  # as train() does (vlanet/utils/allocator.py)
    reps = 3 if args.quick else 7
    dev_name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"cpu ({torch.get_num_threads()} threads)"
    res: dict = {"device": dev_name, "torch": torch.__version__, "bf16": args.bf16, "hidden_dim": cfg.model.hidden_dim,
                 "batch_size": cfg.train.batch_size, "allocator_keeps_freed_memory": kept}
    dtype = torch.bfloat16 if args.bf16 else torch.float32
    # The peak is measured before and after training and the higher one kept: on a shared
    # machine a single window of 15 tries can all land in a slow spell (80 vs 147 GFLOP/s seen).
    peaks = [matmul_peak(device, dtype, reps)]
    res.update(bench_training(cfg, device, args.bf16, reps, args.quick))
    peaks.append(matmul_peak(device, dtype, reps))
    res["matmul_peak_tries_flops"] = peaks
    res["matmul_peak_flops"] = max(peaks)
    res["train_peak_fraction"] = res["train_flops_per_s"] / res["matmul_peak_flops"]
    res["train_matmul_kernel_peak_fraction"] = res["train_matmul_kernel_flops_per_s"] / res["matmul_peak_flops"]
    if not args.train_only:
        res.update(bench_inference(cfg, device, args.bf16, reps))
        res.update(bench_eval(cfg, device, args.features, args.gt))
        res.update(bench_loader(args.features, args.gt, cfg))
    res["length_scaling"] = []
    for seconds in [] if args.train_only else [30.0, 300.0] if args.quick else [30.0, 300.0, 3600.0]:
        r = subprocess.run([sys.executable, __file__, "--scaling-point", str(seconds), "--device", args.device]
                           + (["--config", args.config] if args.config else []),
                           capture_output=True, text=True, env=dict(os.environ))
        res["length_scaling"].append(json.loads(r.stdout.strip().splitlines()[-1]) if r.returncode == 0
                                     else {"seconds": seconds, "error": r.stderr.strip().splitlines()[-1:]})
    print_table(res)
    if args.json:
        print(json.dumps(res))
    return 0


def print_table(r: dict) -> None:
    g = 1e9
    print(f"device: {r['device']}  torch {r['torch']}  bf16={r['bf16']}  D={r['hidden_dim']}  batch={r['batch_size']}"
          f"  freed memory kept: {r['allocator_keeps_freed_memory']}")
    rows = [
        ("matmul peak (measured before / after training)",
         f"{r['matmul_peak_flops'] / g:.1f} GFLOP/s  ({' / '.join(f'{p / g:.1f}' for p in r['matmul_peak_tries_flops'])})"),
        ("train step (64 pairs, 4096-d, 30-s videos)", f"{r['train_step_s'] * 1000:.0f} ms  (T={r['batch_T']}, K={r['batch_K']})"),
        ("train pairs/s", f"{r['train_pairs_per_s']:.1f}"),
        ("train matmul FLOP/s", f"{r['train_flops_per_s'] / g:.1f} GFLOP/s = {100 * r['train_peak_fraction']:.0f}% of peak"),
        ("fraction of peak, paired rounds (step vs adjacent matmul)",
         f"median {100 * r['train_peak_fraction_paired']:.0f}% over {len(r['train_peak_fraction_paired_rounds'])} rounds "
         f"({min(r['train_peak_fraction_paired_rounds']) * 100:.0f}-{max(r['train_peak_fraction_paired_rounds']) * 100:.0f}%; "
         f"median peak {r['matmul_peak_paired_median_flops'] / g:.1f} GFLOP/s)"),
        ("time inside matmul ops (op_times.py)", f"{100 * r['train_matmul_time_share']:.0f}% of the step; they run at "
         f"{r['train_matmul_kernel_flops_per_s'] / g:.1f} GFLOP/s = {100 * r['train_matmul_kernel_peak_fraction']:.0f}% of peak"),
        ("naive reference step (per-pair loop, pool then FC)", f"{r['naive_step_s'] * 1000:.0f} ms  -> speed-up x{r['naive_speedup']:.1f} (same scores: {r['naive_same_scores']})"),
    ]
    if "infer_ms_per_query" in r:  # not with --train-only
        rows += [
            ("inference, batch 1", f"{r['infer_ms_per_query']:.1f} ms/query"),
            ("inference, batch 128", f"{r['infer_batched_queries_per_s']:.0f} queries/s"),
            ("predict + evaluate test set", f"{r['eval_3720_s']:.1f} s for {r['eval_queries']} queries, page cache warm "
             f"(first pass: {r['eval_3720_first_s']:.1f} s; scoring a negative pair per query too: "
             f"{r['eval_3720_with_negatives_s']:.1f} s) [{r['eval_source']}]"),
        ]
    for k, what in (("workers0", "HDF5 loader, in-process"), ("workers2", "HDF5 loader, 2 workers"),
                    ("preload_ram", "loader from RAM (data.preload=ram)")):
        if f"loader_pairs_per_s_{k}" in r:
            rows.append((what, f"{r[f'loader_pairs_per_s_{k}']:.0f} pairs/s"))
    if "preload_s" in r:
        rows.append(("preload of the test videos", f"{r['preload_s']:.1f} s for {r['preload_gb']:.2f} GB"))
    for bs, v in r["batch_scaling"].items():
        rows.append((f"train batch {bs}", f"{v['step_s'] * 1000:.0f} ms/step, {v['pairs_per_s']:.1f} pairs/s"))
    for v in r["length_scaling"]:
        if "error" in v:
            rows.append((f"video {v['seconds']:g} s", f"failed: {v['error']}"))
        else:
            rows.append((f"video {v['seconds']:g} s (K={v['groups_K']})", f"{v['time_s'] * 1000:.0f} ms, peak {v['peak_mb']:.0f} MB"))
    w = max(len(a) for a, _ in rows)
    for a, b in rows:
        print(f"  {a:<{w}}  {b}")


if __name__ == "__main__":
    sys.exit(main())
