"""CNM (model/cnm.py): its losses against the formulas, its one-backward gradient routing against
the paper's two optimiser steps, and its test-time output."""

from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F

from vlanet.config import CNMConfig
from vlanet.model import CNM
from vlanet.model.gaussian import cnm_mask

WORDS = ["<PAD>", "a", "person", "opens", "the", "door", "sits", "on", "chair", "laughs"]


def tiny_cnm(**kw):
    cfg = CNMConfig(hidden_dim=8, heads=2, layers=1, dropout=0.0, num_clips=8, recon_stride=2, **kw)
    return CNM(cfg, feature_dim=6, word_vectors=torch.randn(len(WORDS), 5), words=WORDS)


def batch(b=3, t=12, m=5):
    row_mask = torch.ones(b, t, dtype=torch.bool)
    row_mask[1, 9:] = False
    words = torch.randint(1, len(WORDS), (b, m))
    word_mask = torch.ones(b, m, dtype=torch.bool)
    word_mask[2, 3:] = False
    return SimpleNamespace(feats=torch.randn(b, t, 6), row_mask=row_mask, words=words * word_mask, word_mask=word_mask)


def test_one_backward_gives_the_two_step_gradients():
    """Step 1 of the paper's code: L_rec = L_pos + L_hard, every weight but the proposal head.
    Step 2: L_ivc, the head only.  batch_loss's single backward must give both."""
    torch.manual_seed(0)
    model, bt = tiny_cnm(), batch()
    head = {"head.weight", "head.bias"}
    loss, _, _ = model.batch_loss(bt, None, torch.Generator().manual_seed(3))
    loss.backward()
    got = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
    model.zero_grad()

    # the literal forward, the same masked words (same generator seed)
    video, query = model.encode_video(bt.feats, bt.row_mask), model.encode_query(bt.words, bt.word_mask)
    idx = torch.arange(3)
    h = model.readout_state(video, query, idx, idx)
    c, w = model.proposal(h)
    clips, cmask = model.recon_clips(video, idx)
    g = cnm_mask(clips.shape[1], c, w, model.rcfg.alpha)
    inputs = model.masked_inputs(query, idx, torch.Generator().manual_seed(3))
    rec_of = lambda mask: model.reconstruct(clips, cmask, mask, inputs, query.ids, query.mask)  # noqa: E731
    pos, hard, easy = rec_of(g), rec_of(None), rec_of(1 - g)
    l_rec = pos.mean() + hard.mean()
    l_ivc = F.relu(pos - hard + 0.1).mean() + F.relu(pos - easy + 0.15).mean()
    assert float(loss.detach()) == pytest.approx(float((l_rec + l_ivc).detach()), rel=1e-5)
    params = dict(model.named_parameters())
    others = [n for n in params if n not in head]
    step1 = torch.autograd.grad(l_rec, [params[n] for n in others], retain_graph=True, allow_unused=True)
    step2 = torch.autograd.grad(l_ivc, [params[n] for n in sorted(head)])
    for n, gr in zip(others, step1):
        want = torch.zeros_like(params[n]) if gr is None else gr
        assert torch.allclose(got.get(n, torch.zeros_like(want)), want, atol=1e-6), n
    for n, gr in zip(sorted(head), step2):
        assert torch.allclose(got[n], gr, atol=1e-6), n
    assert got["head.weight"].abs().sum() > 0


def test_score_is_minus_the_loss_under_the_proposal_and_the_span_its_extent():
    torch.manual_seed(1)
    model, bt = tiny_cnm().eval(), batch()
    video, query = model.encode_video(bt.feats, bt.row_mask), model.encode_query(bt.words, bt.word_mask)
    vi, qi = torch.tensor([0, 0, 2]), torch.tensor([0, 1, 2])
    out = model.score_pairs(video, query, vi, qi)
    c, w = model.proposal(model.readout_state(video, query, vi, qi))
    assert (w < model.rcfg.max_width).all()
    want = torch.stack([(c - w / 2).clamp(min=0), (c + w / 2).clamp(max=1)], -1)
    assert torch.allclose(out.element_span[:, 0], want, atol=1e-6)
    clips, cmask = model.recon_clips(video, vi)
    nll = model.reconstruct(clips, cmask, cnm_mask(clips.shape[1], c, w, model.rcfg.alpha),
                            model.masked_inputs(query, qi, None), query.ids[qi], query.mask[qi])
    assert torch.allclose(out.score, -nll, atol=1e-5)
    again = model.score_pairs(video, query, vi, qi)
    assert torch.equal(out.score, again.score)  # test time is deterministic
