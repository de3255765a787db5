"""DDP through torchrun (2 CPU processes, gloo) equals one process with the same global batch.

With ``train.negative_groups=2`` one process splits every global batch into the same two
groups the two ranks hold, draws the same negatives and averages the same two group losses,
so the runs differ only by floating-point summation order: the documented tolerance is 1e-4
(relative) on every epoch's loss and mean scores, and 1e-3 on the weights.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch
from safetensors.torch import load_file

TINY = ["data.synthetic_train_videos=40", "data.synthetic_test_videos=12", "data.synthetic_dim=16",
        "model.hidden_dim=16", "train.batch_size=16", "train.epochs=2", "eval.batch_size=16"]


def _metrics(run):
    return [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]


@pytest.mark.slow
def test_two_process_ddp_matches_single_process(tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    r = subprocess.run([sys.executable, "-m", "vlanet", "train", *TINY, "train.negative_groups=2",
                        "--run-dir", str(one), "--quiet"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    r = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                        "-m", "vlanet", "train", *TINY, "--run-dir", str(two), "--quiet"],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    m1, m2 = _metrics(one), _metrics(two)
    assert len(m1) == len(m2) == 2
    for a, b in zip(m1, m2):
        for key in ("loss", "pos_score", "neg_score"):
            assert a[key] == pytest.approx(b[key], rel=1e-4, abs=1e-6), key
        for key, v in a["val"].items():
            assert b["val"][key] == pytest.approx(v, abs=1e-6), key
    w1 = load_file(str(one / "checkpoints" / "last" / "model.safetensors"))
    w2 = load_file(str(two / "checkpoints" / "last" / "model.safetensors"))
    for k in w1:
        torch.testing.assert_close(w1[k], w2[k], rtol=1e-3, atol=1e-5)
    assert json.loads((one / "result.json").read_text())["test"] == pytest.approx(
        json.loads((two / "result.json").read_text())["test"], abs=1e-6)
