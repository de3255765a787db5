"""Eqs. (3)-(6), surrogate selection, and the switches that train it (docs/CHOICES.md)."""

import math

import numpy as np
import torch
from model_helpers import D, make_inputs, tiny_model, unit

from vlanet.model.cca import CascadedCrossModalAttention
from vlanet.model.fused import fused_cca
from vlanet.model.surrogate import select_surrogates, selection_scores


# -- Eqs. (3)-(6) -----------------------------------------------------------------------------
def _select(p, mask, w, vi, qi):
    """Eqs. (3)-(6) for pairs (vi[p], qi[p]) as the model runs them: (s (P, K, D), l' (P, K))."""
    window, best = select_surrogates(selection_scores(p, mask, w, vi, qi))
    return p.flatten(1, 2)[vi[:, None], window], best


def test_surrogate_selection_is_argmax_cosine_per_group():
    p = unit(2, 5, 3, D)
    mask = torch.ones(2, 5, 3, dtype=torch.bool)
    mask[1, 4, 2] = False
    w = unit(2, D)
    vi, qi = torch.tensor([0, 1, 1]), torch.tensor([0, 1, 0])
    s, best = _select(p, mask, w, vi, qi)
    for i, (b, c) in enumerate(zip(vi.tolist(), qi.tolist())):
        for k in range(5):
            scores = [float(p[b, k, l] @ w[c]) if mask[b, k, l] else -math.inf for l in range(3)]
            lstar = int(np.argmax(scores))
            assert best[i, k] == lstar and torch.equal(s[i, k], p[b, k, lstar])


def test_only_selected_surrogates_get_gradient():
    p = unit(1, 4, 3, D).requires_grad_()
    zero = torch.zeros(1, dtype=torch.long)
    s, best = _select(p, torch.ones(1, 4, 3, dtype=torch.bool), unit(1, D), zero, zero)
    s.sum().backward()
    for k in range(4):
        for l in range(3):
            assert (p.grad[0, k, l].abs().sum() > 0) == (l == best[0, k])


def test_the_literal_and_fused_cascades_give_the_model_the_same_scores():
    """model.cca_impl: the literal Eqs. (9)-(13) and fused.py score the same pairs alike."""
    feats, win, words = make_inputs()
    scores = []
    for impl in ("literal", "fused"):
        torch.manual_seed(0)
        model = tiny_model(cca_impl=impl).eval()
        v = model.encode_video(feats, torch.ones(1, 10, dtype=torch.bool), win, torch.ones(1, 4, 3, dtype=torch.bool))
        q = model.encode_query(words, torch.ones(1, 4, dtype=torch.bool))
        with torch.no_grad():
            out = model.score_pairs(v, q, torch.tensor([0]), torch.tensor([0]))
        scores.append((out.score, out.element_scores))
    (s1, e1), (s2, e2) = scores
    assert torch.allclose(s1, s2, atol=1e-5) and torch.allclose(e1, e2, atol=1e-5)


# -- the switches of the paper's open choices (docs/CHOICES.md) --------------------------------
def _pair_grads(model, feats, win, words):
    """Scores of one positive pair and the gradient of its score w.r.t. the proposals V."""
    v = model.encode_video(feats, torch.ones(1, 10, dtype=torch.bool), win, torch.ones(1, 4, 3, dtype=torch.bool))
    v.proposals.retain_grad()
    q = model.encode_query(words, torch.ones(1, 4, dtype=torch.bool))
    out = model.score_pairs(v, q, torch.tensor([0]), torch.tensor([0]))
    out.score.sum().backward()
    return out, v.proposals.grad[0]  # (K, L, D)


def test_straight_through_selection_same_forward_gradient_to_every_scale():
    """selection='straight-through': the forward pass is the paper's argmax (same score), the
    backward pass reaches every scale of a group, so Eq. (3)'s score is trained."""
    torch.manual_seed(3)
    feats, win, words = make_inputs()
    results = {}
    for sel in ("argmax", "straight-through"):
        torch.manual_seed(4)
        model = tiny_model(selection=sel).train()
        results[sel] = _pair_grads(model, feats, win, words)
    (lit, g_lit), (st, g_st) = results["argmax"], results["straight-through"]
    assert torch.allclose(lit.score, st.score, atol=1e-6)
    assert torch.equal(lit.element_window, st.element_window)
    touched = lambda g: (g.abs().sum(-1) > 0).sum(-1)  # noqa: E731 -- scales with gradient, per group
    assert (touched(g_lit) == 1).all()  # argmax: only the surrogate
    assert (touched(g_st) == 3).all()  # straight-through: all L = 3 scales


def test_selection_weight_adds_a_hinge_on_the_best_eq3_score():
    torch.manual_seed(5)
    model = tiny_model().train()
    feats, win, words = make_inputs()
    v = model.encode_video(feats.repeat(2, 1, 1), torch.ones(2, 10, dtype=torch.bool), win.repeat(2, 1, 1, 1),
                           torch.ones(2, 4, 3, dtype=torch.bool))
    q = model.encode_query(torch.cat([words, torch.randint(1, 30, (1, 4))]), torch.ones(2, 4, dtype=torch.bool))
    out = model.score_pairs(v, q, torch.tensor([0, 1, 0, 1]), torch.tensor([0, 1, 1, 0]))
    props = v.proposals.detach()
    ref = torch.stack([torch.einsum("kld,d->kl", props[vi], q.last[qi].detach()).max()
                       for vi, qi in [(0, 0), (1, 1), (0, 1), (1, 0)]])
    assert torch.allclose(out.selection.detach(), ref, atol=1e-6)
    assert model.eval().score_pairs(v, q, torch.tensor([0]), torch.tensor([0])).selection is None


def test_score_weights_last_q2v_shares_eq13s_e_with_the_last_q2v_unit():
    model = tiny_model(score_weights="last_q2v")
    names = dict(model.named_parameters())
    assert not any("score_vla" in n for n in names)
    assert model.cca.score_unit() is model.cca.q2v[-1].vla
    cca = CascadedCrossModalAttention(D, score_weights="last_q2v").double()
    v, q = torch.randn(2, 5, D, dtype=torch.float64), torch.randn(2, 3, D, dtype=torch.float64)
    vm, qm = torch.ones(2, 5, dtype=torch.bool), torch.ones(2, 3, dtype=torch.bool)
    assert torch.allclose(fused_cca(cca, v, vm, q, qm).score, cca(v, vm, q, qm).score, atol=1e-10)


def test_trained_word_vectors_and_query_fc_are_parameters():
    model = tiny_model(freeze_word_vectors=False, query_fc=True)
    names = dict(model.named_parameters())
    assert "query_encoder.word_vectors" in names and "query_encoder.fc.weight" in names
    feats, win, words = make_inputs()
    _, _ = _pair_grads(model, feats, win, words)
    assert names["query_encoder.word_vectors"].grad[words[0]].abs().sum() > 0
    assert names["query_encoder.fc.weight"].grad.abs().sum() > 0


