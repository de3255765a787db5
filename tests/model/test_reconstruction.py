"""What CNM and CPL share (model/reconstruction.py): clip resampling, the masked words and the
label-smoothed reconstruction loss, against literal loops."""

import math

import pytest
import torch

from vlanet.model.reconstruction import (
    masked_positions,
    resample_rows,
    sinusoid,
    smoothed_nll,
)


def test_resample_rows_averages_each_clips_rows():
    torch.manual_seed(0)
    feats = torch.randn(3, 10, 4)
    mask = torch.zeros(3, 10, dtype=torch.bool)
    for b, t in enumerate((10, 7, 2)):  # the last video has fewer rows than clips: rows repeat
        mask[b, :t] = True
    out = resample_rows(feats, mask, 4)
    for b, t in enumerate((10, 7, 2)):
        for j in range(4):
            lo, hi = round(j * t / 4), round((j + 1) * t / 4)
            lo = min(lo, t - 1)
            hi = max(hi, lo + 1)
            assert torch.allclose(out[b, j], feats[b, lo:hi].mean(0), atol=1e-6), (b, j)


def test_masked_positions_hide_a_share_of_real_words():
    mask = torch.tensor([[True] * 9 + [False] * 3, [True] * 2 + [False] * 10, [True] * 12])
    test_time = masked_positions(mask, 3, None, None)
    assert test_time.sum(1).tolist() == [3, 1, 4] and not (test_time & ~mask).any()
    assert torch.equal(test_time, masked_positions(mask, 3, None, None))  # the same at every call
    assert test_time[0].nonzero().flatten().tolist() == [1, 4, 7]  # evenly spaced
    gen = torch.Generator().manual_seed(0)
    drawn = masked_positions(mask, 3, None, gen)
    assert drawn.sum(1).tolist() == [3, 1, 4] and not (drawn & ~mask).any()


def test_weighted_draws_favour_the_heavier_words():
    mask = torch.ones(1, 4, dtype=torch.bool)
    logw = torch.tensor([[2.0, 0.0, 0.0, 0.0]])  # word 0 weighs e^2 against e^0
    gen = torch.Generator().manual_seed(0)
    hits = sum(int(masked_positions(mask, 4, logw, gen)[0, 0]) for _ in range(4000))
    share = math.e ** 2 / (math.e ** 2 + 3)  # one word hidden, drawn with probability w / sum w
    assert hits / 4000 == pytest.approx(share, abs=0.03)


def test_smoothed_nll_is_the_literal_mixture():
    torch.manual_seed(0)
    logits, target = torch.randn(2, 3, 5), torch.randint(0, 5, (2, 3))
    mask = torch.tensor([[True, True, False], [True, True, True]])
    got = smoothed_nll(logits, target, mask, eps=0.1)
    for p in range(2):
        terms = []
        for m in range(3):
            if mask[p, m]:
                logp = torch.log_softmax(logits[p, m], -1)
                terms.append(0.9 * -float(logp[target[p, m]]) + 0.1 / 5 * -float(logp.sum()))
        assert float(got[p]) == pytest.approx(sum(terms) / len(terms), rel=1e-5)


def test_sinusoid_codes_are_distinct_and_bounded():
    s = sinusoid(6, 8, "cpu")
    assert s.shape == (6, 8) and s.abs().max() <= 1.0
    assert torch.equal(s[0, :4], torch.zeros(4)) and torch.equal(s[0, 4:], torch.ones(4))
    assert len({tuple(r.tolist()) for r in s}) == 6


@pytest.mark.parametrize("name", ["cnm", "cpl"])
def test_bf16_autocast_step_of_cnm_and_cpl_is_close_to_float32(name):
    """train.autocast=bf16 through the same LossStep: float32 loss and gradients, close to float32's."""
    from vlanet.checkpoint import build_model
    from vlanet.config import load_config
    from vlanet.data.loading import load_splits
    from vlanet.train.step import LossStep

    cfg = load_config(None, ["data.synthetic_train_videos=16", "data.synthetic_test_videos=4", "data.synthetic_dim=32",
                             f"model.name={name}", f"{name}.hidden_dim=32", f"{name}.layers=1", f"{name}.dropout=0",
                             "train.batch_size=16"])
    splits = load_splits(cfg, need=("train",))
    batch = splits.train.collate(list(range(16)))
    results = []
    for mode in ("none", "bf16"):
        torch.manual_seed(0)
        model = build_model(cfg, splits.feature_dim, splits.words)
        cfg.train.autocast = mode
        loss, pos, _ = LossStep(model, cfg.train)([batch], [torch.Generator().manual_seed(0)])
        loss.backward()
        assert loss.dtype == torch.float32 and torch.isfinite(loss)
        grads = {n: p.grad for n, p in model.named_parameters() if p.grad is not None}
        assert all(g.dtype == torch.float32 and torch.isfinite(g).all() for g in grads.values())
        results.append((loss.item(), grads))
    (l32, g32), (l16, g16) = results
    assert l16 != l32 and l16 == pytest.approx(l32, rel=0.05)
    # Attention key biases get no gradient in exact arithmetic (a softmax ignores a constant
    # added to every key), so theirs is rounding noise in both precisions: compared are the
    # gradients above 1e-4 of the largest.
    top = max(float(g.norm()) for g in g32.values())
    cos = [torch.nn.functional.cosine_similarity(g32[n].flatten(), g16[n].flatten(), dim=0)
           for n in g32 if float(g32[n].norm()) > 1e-4 * top]
    assert len(cos) > len(g32) // 2 and min(cos) > 0.9
