"""CPL (model/cpl.py): the diversity loss, the negatives of the best proposal only, the loss
against its formula, and the ranked proposals at test time."""

from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F

from vlanet.config import CPLConfig
from vlanet.model import CPL
from vlanet.model.cpl import diversity_loss
from vlanet.model.gaussian import cpl_negatives

WORDS = ["<PAD>", "a", "person", "opens", "the", "door", "sits", "on", "chair", "laughs"]


def tiny_cpl(**kw):
    cfg = CPLConfig(hidden_dim=8, heads=2, layers=1, dropout=0.0, num_clips=8, recon_stride=2, num_props=3, **kw)
    return CPL(cfg, feature_dim=6, word_vectors=torch.randn(len(WORDS), 5), words=WORDS)


def batch(b=3, t=12, m=5):
    words = torch.randint(1, len(WORDS), (b, m))
    return SimpleNamespace(feats=torch.randn(b, t, 6), row_mask=torch.ones(b, t, dtype=torch.bool), words=words,
                           word_mask=torch.ones(b, m, dtype=torch.bool))


def test_diversity_loss_is_the_frobenius_norm_of_the_overlaps():
    masks = torch.rand(2, 3, 5) + 0.01
    got = diversity_loss(masks, lam=0.2)
    for p in range(2):
        g = [masks[p, k] / masks[p, k].sum() for k in range(3)]
        want = sum((float(g[i] @ g[j]) - (0.2 if i == j else 0.0)) ** 2 for i in range(3) for j in range(3))
        assert float(got[p]) == pytest.approx(want, rel=1e-5)


def test_the_loss_uses_the_best_proposal_and_its_own_negatives():
    torch.manual_seed(0)
    model, bt = tiny_cpl(), batch()
    model.start_epoch(1, 4)  # progress 0.5
    assert model.progress == 0.5
    gen = lambda: torch.Generator().manual_seed(5)  # noqa: E731
    video, query = model.encode_video(bt.feats, bt.row_mask), model.encode_query(bt.words, bt.word_mask)
    idx = torch.arange(3)
    r = model._proposal_losses(video, query, idx, idx, gen())
    terms = model.losses(video, query, gen())
    best, k_star = r["nll"].min(1)
    assert torch.allclose(terms["best"], best)
    # the reference: the negatives of every proposal, then k*'s picked
    args = (r["inputs"], query.ids, query.mask)
    for k in range(3):
        left, right = cpl_negatives(r["clips"].shape[1], r["c"][:, k], r["w"][:, k], 9.0, 0.5, 0.5)
        ref_left = model.reconstruct(r["clips"], r["clip_mask"], left, *args)
        ref_right = model.reconstruct(r["clips"], r["clip_mask"], right, *args)
        pick = k_star == k
        assert torch.allclose(terms["left"][pick], ref_left[pick], atol=1e-5)
        assert torch.allclose(terms["right"][pick], ref_right[pick], atol=1e-5)
    loss, _, _ = model.batch_loss(bt, None, gen())
    cfg = model.rcfg
    want = ((best.mean() + terms["ref"].mean()) / 2
            + cfg.alpha_1 * (F.relu(best - terms["ref"] + 0.1) + F.relu(best - terms["left"] + 0.15)
                             + F.relu(best - terms["right"] + 0.15)).mean()
            + cfg.alpha_2 * diversity_loss(r["g"], cfg.lambda_div).mean())
    assert float(loss.detach()) == pytest.approx(float(want.detach()), rel=1e-5)


def test_test_time_gives_every_proposal_with_its_score():
    torch.manual_seed(2)
    model, bt = tiny_cpl().eval(), batch()
    video, query = model.encode_video(bt.feats, bt.row_mask), model.encode_query(bt.words, bt.word_mask)
    vi = qi = torch.arange(3)
    out = model.score_pairs(video, query, vi, qi)
    r = model._proposal_losses(video, query, vi, qi, None)
    assert out.element_span.shape == (3, 3, 2)
    assert torch.allclose(out.score, -r["nll"].amin(1)) and torch.allclose(out.element_scores, -r["nll"])
    lo, hi = out.element_span[..., 0], out.element_span[..., 1]
    assert ((0 <= lo) & (lo <= hi) & (hi <= 1)).all()
    assert torch.allclose(hi - lo, torch.minimum(r["c"] + r["w"] / 2, torch.ones(1))
                          - torch.clamp(r["c"] - r["w"] / 2, min=0), atol=1e-6)
