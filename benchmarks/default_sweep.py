"""One point of the embedded default's size/shape sweep: the bed's controls and a seed's run.

    python benchmarks/default_sweep.py '{"n_train_videos": 2400, "dim": 256, "sim": {"centre": 1}}' \
        'train.num_negatives=2' [--no-calibrate] [--no-train]

The first argument changes ``SyntheticSpec`` (its ``sim`` key: the renderer's ``SimulationSpec``),
the second holds config overrides (quoted, space-separated).  Prints one JSON line: the
controls of ``vlanet data calibrate`` at R@1,IoU=0.5 on the test split (``cal``), the share of
bag-of-words oracle picks on a swap, the run's validation R@1,IoU=0.5 per epoch (``val``: what
chooses the settings), its test R@1 with true and shuffled queries, the language gain and the
seconds.  docs/TESTBEDS.md ("The embedded default at grounding size") lists the points measured.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import sys
import tempfile
import time


def main(argv: list[str]) -> dict:
    import vlanet.data.loading as loading
    from vlanet.config import load_config
    from vlanet.eval.calibrate import calibrate
    from vlanet.train.loop import train

    flags = {a for a in argv if a.startswith("--")}
    args = [a for a in argv if not a.startswith("--")]
    change = json.loads(args[0]) if args else {}
    overrides = args[1].split() if len(args) > 1 else []
    sim = change.pop("sim", {})
    base = loading.synthetic_spec

    def spec(cfg):
        s = dataclasses.replace(base(cfg), **change)
        return dataclasses.replace(s, sim=dataclasses.replace(s.sim, **sim)) if sim else s

    loading.synthetic_spec = spec  # calibrate and train both build the world through it
    cfg = load_config(None, overrides)
    out: dict = {"spec": {**change, "sim": sim}, "overrides": overrides}
    key = "R@1,IoU=0.5"
    if "--no-calibrate" not in flags:
        t = time.perf_counter()
        res = calibrate(cfg)
        out["cal"] = {k: round(v[key], 2) for k, v in res["metrics"].items()}
        out["bow_on_swap"] = round(res["swaps"]["oracle-bow"]["picks_swap"], 1)
        out["queries"], out["cal_s"] = res["queries"], round(time.perf_counter() - t, 1)
    if "--no-train" not in flags:
        run = tempfile.mkdtemp(prefix="sweep-")
        try:
            t = time.perf_counter()
            r = train(cfg, f"{run}/run", progress=False)
            out["val"] = [round(h["val"][key], 2) for h in r.history]
            out["test"], out["shuffled"] = round(r.test[key], 2), round(r.test_shuffled[key], 2)
            out["gain"], out["train_s"] = round(r.language_gain, 2), round(time.perf_counter() - t, 1)
        finally:
            shutil.rmtree(run, ignore_errors=True)
    return out


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:])), flush=True)
