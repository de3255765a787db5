"""Each equation against a slow, obvious reference computation; masks; gradients."""

import math

import numpy as np
import pytest
import torch

from vlanet.config import ModelConfig
from vlanet.model import VLANet, proposals
from vlanet.model.attention import VLA, DenseAttention, scaled_tanh_sum
from vlanet.model.cca import CascadedCrossModalAttention
from vlanet.model.loss import contrastive_loss
from vlanet.model.proposals import ProposalEncoder, pool_windows
from vlanet.model.surrogate import select_surrogates, surrogate_scales
from vlanet.model.text import QueryEncoder
from vlanet.model.unit import unit_rows

D = 8


def unit(*shape):
    return torch.nn.functional.normalize(torch.randn(*shape), dim=-1)


# -- Eq. (1) ----------------------------------------------------------------------------------
def test_query_encoder_matches_stepwise_gru_and_ignores_padding():
    wv = torch.randn(20, 6)
    enc = QueryEncoder(wv, D)
    words = torch.tensor([[3, 4, 5, 0, 0], [7, 8, 9, 10, 11]])
    mask = words > 0
    q, last = enc(words, mask)
    cell = torch.nn.GRUCell(6, D)
    cell.weight_ih.data, cell.weight_hh.data = enc.gru.weight_ih_l0.data, enc.gru.weight_hh_l0.data
    cell.bias_ih.data, cell.bias_hh.data = enc.gru.bias_ih_l0.data, enc.gru.bias_hh_l0.data
    for b, n in enumerate([3, 5]):
        h = torch.zeros(1, D)
        for m in range(n):
            h = cell(wv[words[b, m]].unsqueeze(0), h)
            assert torch.allclose(q[b, m], h[0] / h.norm(), atol=1e-5)
        assert torch.allclose(last[b], q[b, n - 1])
        assert torch.all(q[b, n:] == 0)
    # padding more does not change anything
    q2, last2 = enc(torch.nn.functional.pad(words, (0, 3)), torch.nn.functional.pad(mask, (0, 3)))
    assert torch.allclose(q2[:, :5], q, atol=1e-6) and torch.allclose(last2, last, atol=1e-6)


# -- Eq. (2) ----------------------------------------------------------------------------------
def naive_pool(rows, a, b):
    """Exact average of a piecewise-constant signal over [a, b): explicit loop over rows."""
    total = torch.zeros(rows.shape[1], dtype=torch.float64)
    for t in range(rows.shape[0]):
        overlap = max(0.0, min(b, t + 1) - max(a, t))
        total += overlap * rows[t].double()
    return total / (b - a)


@pytest.fixture(params=["matmul", "prefix-sums"])
def pool_method(request, monkeypatch):
    """pool_windows has two ways to the same numbers; run the pooling tests through both."""
    if request.param == "prefix-sums":
        monkeypatch.setattr(proposals, "POOL_MATMUL_ELEMS", 0)
    return request.param


def test_pool_windows_integer_windows_are_plain_means(pool_method):
    rows = torch.randn(1, 10, 4)
    win = torch.tensor([[[[2.0, 5.0], [0.0, 10.0]]]])
    out = pool_windows(rows, torch.ones(1, 10, dtype=torch.bool), win)
    assert torch.allclose(out[0, 0, 0], rows[0, 2:5].mean(0), atol=1e-5)
    assert torch.allclose(out[0, 0, 1], rows[0].mean(0), atol=1e-5)


def test_pool_windows_fractional_edges_match_naive_loop(pool_method):
    rows = torch.randn(2, 12, 5)
    row_mask = torch.ones(2, 12, dtype=torch.bool)
    row_mask[1, 9:] = False  # second video has 9 rows; windows past them are clamped
    win = torch.tensor([[[0.5, 3.25], [2.0, 2.5], [11.0, 12.0]], [[7.5, 11.0], [0.0, 9.0], [8.2, 8.7]]])[:, :, None]
    out = pool_windows(rows, row_mask, win)
    for b in range(2):
        n = int(row_mask[b].sum())
        for k in range(3):
            a, e = float(win[b, k, 0, 0]), min(float(win[b, k, 0, 1]), n)
            assert torch.allclose(out[b, k, 0].double(), naive_pool(rows[b, :n], a, e), atol=1e-5)


def test_pool_windows_too_narrow_window_is_its_row(pool_method):
    rows = torch.randn(1, 6, 3)
    win = torch.tensor([[[[2.4, 2.4004], [5.9995, 6.0]]]])
    out = pool_windows(rows, torch.ones(1, 6, dtype=torch.bool), win)
    assert torch.equal(out[0, 0, 0], rows[0, 2]) and torch.equal(out[0, 0, 1], rows[0, 5])


def test_pool_windows_methods_agree_on_long_random_windows():
    torch.manual_seed(0)
    rows = torch.randn(3, 40, 8, dtype=torch.float64)
    row_mask = torch.arange(40) < torch.tensor([40, 31, 7]).unsqueeze(1)
    lo = torch.rand(3, 25, 3, dtype=torch.float64) * 42
    win = torch.stack([lo, lo + torch.rand(3, 25, 3, dtype=torch.float64) * 20], -1)
    by_matmul = pool_windows(rows, row_mask, win)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(proposals, "POOL_MATMUL_ELEMS", 0)
        by_prefix = pool_windows(rows, row_mask, win)
    assert torch.allclose(by_matmul, by_prefix, atol=1e-10)


def test_project_then_pool_equals_pool_then_project():
    enc = ProposalEncoder(6, D)
    feats = torch.randn(1, 9, 6)
    win = torch.tensor([[[[1.5, 6.25]]]])
    out = enc(feats, torch.ones(1, 9, dtype=torch.bool), win)
    pooled = naive_pool(feats[0], 1.5, 6.25).float()
    want = torch.nn.functional.normalize(enc.fc(pooled), dim=-1)
    assert torch.allclose(out[0, 0, 0], want, atol=1e-5)
    assert torch.allclose(out.norm(dim=-1), torch.ones(1, 1, 1))


def test_unit_rows_is_normalize_times_mask_with_the_same_gradient():
    """Eqs. (1)-(2)'s normalisation: values and gradients of F.normalize(x) * mask, masked rows
    zero with zero gradient; under bf16 autocast the result is float32 as F.normalize's is."""
    torch.manual_seed(0)
    x = torch.randn(3, 5, 7, D, dtype=torch.float64, requires_grad=True)
    mask = torch.rand(3, 5, 7) > 0.3
    g = torch.randn(3, 5, 7, D, dtype=torch.float64)
    got = unit_rows(x, mask)
    (dx_got,) = torch.autograd.grad(got, x, g)
    want = torch.nn.functional.normalize(x, dim=-1) * mask.unsqueeze(-1)
    (dx_want,) = torch.autograd.grad(want, x, g)
    assert torch.allclose(got, want, atol=1e-12) and torch.allclose(dx_got, dx_want, atol=1e-12)
    assert (got[~mask] == 0).all() and (dx_got[~mask] == 0).all()
    assert torch.allclose(unit_rows(x).norm(dim=-1), torch.ones(3, 5, 7, dtype=torch.float64))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        xb = torch.randn(4, D).to(torch.bfloat16)
        assert unit_rows(xb).dtype == torch.nn.functional.normalize(xb, dim=-1).dtype


def test_row_projection_gradients_are_nn_linears():
    """The FC's own autograd (weight gradient laid out (x^T g)^T) gives nn.Linear's gradients,
    and under bf16 autocast the parameters' gradients stay float32."""
    torch.manual_seed(0)
    fc = torch.nn.Linear(6, D).double()
    x = torch.randn(11, 6, dtype=torch.float64, requires_grad=True)
    w = torch.randn(11, D, dtype=torch.float64)
    grads = []
    for f in (lambda: proposals._RowProjection.apply(x, fc.weight, fc.bias), lambda: fc(x)):
        fc.zero_grad()
        x.grad = None
        (f() * w).sum().backward()
        grads.append((x.grad.clone(), fc.weight.grad.clone(), fc.bias.grad.clone()))
    assert all(torch.allclose(a, b, atol=1e-12) for a, b in zip(*grads))
    fc = torch.nn.Linear(6, D)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        y = proposals._RowProjection.apply(torch.randn(11, 6), fc.weight, fc.bias)
    assert y.dtype == torch.bfloat16
    y.float().sum().backward()
    assert fc.weight.grad.dtype == torch.float32 and fc.bias.grad.dtype == torch.float32


# -- Eqs. (3)-(6) -----------------------------------------------------------------------------
def test_surrogate_selection_is_argmax_cosine_per_group():
    p = unit(2, 5, 3, D)
    mask = torch.ones(2, 5, 3, dtype=torch.bool)
    mask[1, 4, 2] = False
    w = unit(2, D)
    s, best = select_surrogates(p, mask, w)
    for b in range(2):
        for k in range(5):
            scores = [float(p[b, k, l] @ w[b]) if mask[b, k, l] else -math.inf for l in range(3)]
            lstar = int(np.argmax(scores))
            assert best[b, k] == lstar and torch.equal(s[b, k], p[b, k, lstar])


def test_indexed_selection_equals_per_pair_selection():
    p = unit(3, 4, 3, D)
    mask = torch.ones(3, 4, 3, dtype=torch.bool)
    w = unit(3, D)
    vi, qi = torch.tensor([0, 1, 2, 0, 2]), torch.tensor([0, 1, 2, 2, 1])
    best = surrogate_scales(p, mask, w, vi, qi)
    s = p.reshape(-1, D)[vi[:, None] * (4 * 3) + torch.arange(4) * 3 + best]  # window k*L + l'_k of video vi
    s2, best2 = select_surrogates(p[vi], mask[vi], w[qi])
    assert torch.equal(best, best2) and torch.allclose(s, s2)


def test_only_selected_surrogates_get_gradient():
    p = unit(1, 4, 3, D).requires_grad_()
    s, best = select_surrogates(p, torch.ones(1, 4, 3, dtype=torch.bool), unit(1, D))
    s.sum().backward()
    for k in range(4):
        for l in range(3):
            assert (p.grad[0, k, l].abs().sum() > 0) == (l == best[0, k])


# -- Eqs. (7)-(8) -----------------------------------------------------------------------------
@pytest.mark.parametrize("reduce", ["sum", "mean"])
def test_vla_matches_explicit_loops(reduce):
    vla = VLA(D, reduce)
    for n, m in ((5, 3), (3, 5)):  # both projection orders
        x, y = torch.randn(2, n, D), torch.randn(2, m, D)
        ymask = torch.ones(2, m, dtype=torch.bool)
        ymask[1, -1] = False
        y = y * ymask.unsqueeze(-1)  # padded elements are zero vectors throughout the model
        e = vla(x, y, ymask)
        for b in range(2):
            for i in range(n):
                terms = [math.tanh(float((vla.w1(x[b, i]) @ vla.w2(y[b, j])).detach())) for j in range(m) if ymask[b, j]]
                want = sum(terms) / (len(terms) if reduce == "mean" else 1)
                assert float(e[b, i]) == pytest.approx(want, abs=1e-5)


@pytest.mark.parametrize("layout", ["contiguous", "transposed view"])
def test_scaled_tanh_sum_is_the_sum_of_tanh_with_its_gradient(layout):
    """scaled_tanh_sum (2 sum sigmoid(2x) - M over x = a_n g_nm b_m) equals sum_m tanh(x), zero
    terms (padding) included; its own gradient passes gradcheck and matches autograd's of the
    literal form, in float32 too.  g as the cascade passes it (a transposed view, worked on in
    its own layout) and contiguous."""
    torch.manual_seed(0)
    g = (torch.randn(5, 9, 7, dtype=torch.float64) * 3).masked_fill(torch.rand(5, 9, 7) < 0.3, 0.0).transpose(1, 2)
    if layout == "contiguous":
        g = g.contiguous()
    a, b = torch.rand(5, 7, dtype=torch.float64) * 2, torch.rand(5, 9, dtype=torch.float64) * 2
    literal = torch.tanh(g * a.unsqueeze(-1) * b.unsqueeze(-2)).sum(-1)
    assert torch.allclose(scaled_tanh_sum(g, a, b), literal, atol=1e-12)
    assert torch.autograd.gradcheck(scaled_tanh_sum, (g.requires_grad_(), a.requires_grad_(), b.requires_grad_()))
    ins = [t.detach().float().requires_grad_() for t in (g, a, b)]
    ref = [t.detach().float().contiguous().requires_grad_() for t in (g, a, b)]
    w = torch.randn(5, 7)
    (scaled_tanh_sum(*ins) * w).sum().backward()
    (torch.tanh(ref[0] * ref[1].unsqueeze(-1) * ref[2].unsqueeze(-2)).sum(-1) * w).sum().backward()
    for got, want in zip(ins, ref):
        assert torch.allclose(got.grad, want.grad, atol=1e-5)
    zeros = torch.zeros(2, 3)
    assert torch.equal(scaled_tanh_sum(zeros.unsqueeze(-1), torch.ones(2, 3), torch.ones(2, 1)), torch.zeros(2, 3))


@pytest.mark.parametrize("scale", ["none", "count", "residual"])
def test_dense_attention_matches_loops(scale):
    att = DenseAttention(D, reduce="sum", scale=scale, temperature=2.0)
    x, y = torch.randn(1, 4, D), torch.randn(1, 3, D)
    xm, ym = torch.ones(1, 4, dtype=torch.bool), torch.ones(1, 3, dtype=torch.bool)
    out, a = att(x, xm, y, ym)
    with torch.no_grad():
        e = torch.tensor([sum(math.tanh(float(att.vla.w1(x[0, i]) @ att.vla.w2(y[0, j]))) for j in range(3)) for i in range(4)])
    want_a = torch.softmax(2.0 * e, 0)
    assert torch.allclose(a[0], want_a, atol=1e-5)
    factor = {"none": want_a, "count": 4 * want_a, "residual": 1 + want_a}[scale]
    assert torch.allclose(out[0], factor[:, None] * x[0], atol=1e-5)


def test_literal_scale_shrinks_features_geometrically():
    """The trap of docs/CHOICES.md: literal Eq. (8) in a cascade collapses the norm; 'count' keeps it."""
    x, m = unit(1, 50, D), torch.ones(1, 50, dtype=torch.bool)
    norms = {}
    for scale in ("none", "count"):
        att, v = DenseAttention(D, scale=scale), x
        for _ in range(3):
            v, _ = att(v, m, v, m)
        norms[scale] = float(v.norm(dim=-1).mean())
    # literal: every element shrinks by ~1/N per application; count: the mean norm stays >= ~1
    assert norms["none"] < 1e-3 and norms["count"] > 0.3


@pytest.mark.parametrize("kw", [{}, {"self_attention": False}, {"cross_attention": False}, {"scale": "none"},
                                {"scale": "residual", "reduce": "mean"}, {"share_weights": True},
                                {"cascade_steps": 1, "final_q2v": False}, {"vcomp_pool": "mean", "temperature": 3.0}])
def test_fast_cascade_equals_literal_composition(kw):
    """forward (one batched product, rescaled sets) == reference_forward (Eqs. 9-13 one by one)."""
    torch.manual_seed(0)
    cca = CascadedCrossModalAttention(D, **kw).double()  # float64: equal up to rounding, so tight
    v, q = torch.randn(3, 6, D, dtype=torch.float64), torch.randn(3, 4, D, dtype=torch.float64)
    vm, qm = torch.ones(3, 6, dtype=torch.bool), torch.ones(3, 4, dtype=torch.bool)
    vm[1, 4:], qm[2, 3:] = False, False
    v, q = v * vm.unsqueeze(-1), q * qm.unsqueeze(-1)
    fast, ref = cca(v, vm, q, qm), cca.reference_forward(v, vm, q, qm)
    # sentences given once and indexed per pair: the same as gathering them first
    idx = torch.tensor([2, 0, 2])
    by_index = cca(v, vm, q, qm, idx)
    gathered = cca.reference_forward(v, vm, q[idx], qm[idx])
    assert torch.allclose(by_index.score, gathered.score, atol=1e-10)
    assert torch.allclose(by_index.q2v_weights[-1] if by_index.q2v_weights else by_index.element_vla,
                          gathered.q2v_weights[-1] if gathered.q2v_weights else gathered.element_vla, atol=1e-10)
    assert torch.allclose(fast.score, ref.score, atol=1e-10)
    assert torch.allclose(fast.element_vla, ref.element_vla, atol=1e-10)
    assert torch.allclose(fast.v, ref.v, atol=1e-10) and torch.allclose(fast.q, ref.q, atol=1e-10)
    assert len(fast.q2v_weights) == len(ref.q2v_weights)
    for a, b in zip(fast.q2v_weights, ref.q2v_weights):
        assert torch.allclose(a, b, atol=1e-10)
    grads = []
    for out in (fast, ref):
        cca.zero_grad()
        out.score.sum().backward()
        grads.append([p.grad.clone() for p in cca.parameters()])
    for a, b in zip(*grads):
        assert torch.allclose(a, b, atol=1e-10)


def test_cascade_in_slices_equals_whole(monkeypatch):
    """Long videos: V2V's products are computed in slices of K (VLA.chunk_elems); same scores
    and gradients, with and without an index table."""
    torch.manual_seed(1)
    cca = CascadedCrossModalAttention(D).double()
    table = torch.randn(20, D, dtype=torch.float64)
    index = torch.randint(0, 20, (3, 7))
    vm = torch.ones(3, 7, dtype=torch.bool)
    q, qm = torch.randn(2, 4, D, dtype=torch.float64), torch.ones(2, 4, dtype=torch.bool)
    qi = torch.tensor([0, 1, 1])
    results = []
    for elems in (1 << 24, 3 * 31 * 2):  # whole; slices of 2 of the 7 columns (31 rhs rows)
        monkeypatch.setattr(VLA, "chunk_elems", elems)
        cca.zero_grad()
        out = cca(table, vm, q, qm, qi, index)
        out.score.sum().backward()
        results.append((out.score, out.q2v_weights[-1], [p.grad.clone() for p in cca.parameters()]))
    (s1, w1, g1), (s2, w2, g2) = results
    assert torch.allclose(s1, s2, atol=1e-12) and torch.allclose(w1, w2, atol=1e-12)
    assert all(torch.allclose(a, b, atol=1e-12) for a, b in zip(g1, g2))
    ref = cca.reference_forward(table[index], vm, q, qm, qi)
    assert torch.allclose(s1, ref.score, atol=1e-10)


# -- masks through the whole network ----------------------------------------------------------
def tiny_model(**kw):
    cfg = ModelConfig(hidden_dim=D, **kw)
    return VLANet(cfg, feature_dim=6, word_vectors=torch.randn(30, 5))


def make_inputs(t=10, k=4, m=4):
    feats = torch.randn(1, t, 6)
    win = torch.tensor([[[[kk, kk + 2.0], [kk, kk + 3.5], [kk + 0.5, kk + 5.0]] for kk in range(k)]])
    return feats, win, torch.randint(1, 30, (1, m))


@pytest.mark.parametrize("kw", [{}, {"surrogate": False}, {"self_attention": False}, {"cross_attention": False},
                                {"attention_scale": "none", "vla_reduce": "sum"}, {"share_cascade_weights": True}])
def test_padding_does_not_change_scores(kw):
    model = tiny_model(**kw).eval()
    feats, win, words = make_inputs()
    v = model.encode_video(feats, torch.ones(1, 10, dtype=torch.bool), win, torch.ones(1, 4, 3, dtype=torch.bool))
    q = model.encode_query(words, torch.ones(1, 4, dtype=torch.bool))
    out = model.score_pairs(v, q, torch.tensor([0]), torch.tensor([0]))
    # pad rows, groups and words
    f2 = torch.cat([feats, torch.randn(1, 5, 6)], 1)
    rm = torch.ones(1, 15, dtype=torch.bool)
    rm[0, 10:] = False
    w2 = torch.cat([win, torch.full((1, 3, 3, 2), 1.0)], 1)
    wm = torch.zeros(1, 7, 3, dtype=torch.bool)
    wm[0, :4] = True
    v2 = model.encode_video(f2, rm, w2, wm)
    q2 = model.encode_query(torch.cat([words, torch.zeros(1, 3, dtype=torch.long)], 1),
                            torch.tensor([[True] * 4 + [False] * 3]))
    out2 = model.score_pairs(v2, q2, torch.tensor([0]), torch.tensor([0]))
    assert torch.allclose(out.score, out2.score, atol=1e-5)
    n = out.element_scores.shape[1]
    assert torch.allclose(out.element_scores, out2.element_scores[:, :n], atol=1e-5)
    assert not out2.element_mask[0, n:].any()


def test_gradients_reach_every_trainable_parameter():
    model = tiny_model(dropout=0.0)
    feats, win, words = make_inputs()
    v = model.encode_video(feats.repeat(2, 1, 1), torch.ones(2, 10, dtype=torch.bool), win.repeat(2, 1, 1, 1),
                           torch.ones(2, 4, 3, dtype=torch.bool))
    q = model.encode_query(torch.cat([words, torch.randint(1, 30, (1, 4))]), torch.ones(2, 4, dtype=torch.bool))
    out = model.score_pairs(v, q, torch.tensor([0, 1, 0]), torch.tensor([0, 1, 1]))
    contrastive_loss(out.score[:2], out.score[2:], torch.tensor([0]), margin=10.0).backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    assert "query_encoder.word_vectors" not in dict(model.named_parameters())  # frozen buffer


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
    assert torch.allclose(cca(v, vm, q, qm).score, cca.reference_forward(v, vm, q, qm).score, atol=1e-10)


def test_trained_word_vectors_and_query_fc_are_parameters():
    model = tiny_model(freeze_word_vectors=False, query_fc=True)
    names = dict(model.named_parameters())
    assert "query_encoder.word_vectors" in names and "query_encoder.fc.weight" in names
    feats, win, words = make_inputs()
    _, _ = _pair_grads(model, feats, win, words)
    assert names["query_encoder.word_vectors"].grad[words[0]].abs().sum() > 0
    assert names["query_encoder.fc.weight"].grad.abs().sum() > 0


# -- Eq. (14) ---------------------------------------------------------------------------------
def test_contrastive_loss_hand_computed():
    pos = torch.tensor([0.9, 0.2])
    neg = torch.tensor([0.1, 0.8, 0.5])
    owner = torch.tensor([0, 0, 1])
    # pos 0: max(0, .2-.9+.1)=0, max(0, .2-.9+.8)=.1 -> mean .05 ; pos 1: max(0, .2-.2+.5)=.5
    assert float(contrastive_loss(pos, neg, owner, 0.2)) == pytest.approx((0.05 + 0.5) / 2)
    assert float(contrastive_loss(pos, neg, owner, 0.2, "max")) == pytest.approx((0.1 + 0.5) / 2)


def test_bf16_autocast_training_step_is_close_to_float32():
    """train.autocast=bf16: the same step under torch.autocast(bfloat16) gives a loss close to
    float32's, and every parameter's gradient is float32 and close (CPU autocast here; GPUs the same)."""
    from vlanet.config import load_config
    from vlanet.data.loading import load_splits
    from vlanet.train.loop import LossStep

    cfg = load_config(None, ["data.synthetic_train_videos=16", "data.synthetic_test_videos=4", "data.synthetic_dim=32",
                             "model.hidden_dim=32", "train.batch_size=16"])
    splits = load_splits(cfg, need=("train",))
    batch = splits.train.collate(list(range(16)))
    results = []
    for mode in ("none", "bf16"):
        torch.manual_seed(0)
        model = VLANet(cfg.model, splits.feature_dim, torch.from_numpy(splits.words.vectors))
        cfg.train.autocast = mode
        loss, pos, neg = LossStep(model, cfg.train)([batch], [torch.Generator().manual_seed(0)])
        loss.backward()
        assert loss.dtype == pos.dtype == torch.float32 and torch.isfinite(loss)
        grads = {n: p.grad for n, p in model.named_parameters() if p.requires_grad}
        assert all(g is not None and g.dtype == torch.float32 and torch.isfinite(g).all() for g in grads.values())
        results.append((loss.item(), pos, grads))
    (l32, p32, g32), (l16, p16, g16) = results
    assert l16 != l32 and not torch.equal(p16, p32)  # autocast is on: bf16 rounding shows
    assert l16 == pytest.approx(l32, rel=0.05, abs=0.01)
    assert torch.allclose(p16, p32, atol=0.05)
    cos = [torch.nn.functional.cosine_similarity(g32[n].flatten(), g16[n].flatten(), dim=0) for n in g32 if g32[n].abs().sum() > 0]
    assert min(cos) > 0.9


def test_pair_products_without_gradients_keep_no_v2v_block_alive():
    """At inference the word products are a copy: a view would keep the (P, K, K) V2V block of
    every K slice alive (an hour-long video: 467 MB)."""
    from vlanet.model.cca import _PairProducts

    rhs, v0 = torch.randn(2, 7 + 3, D), torch.randn(2, 7, D)
    with torch.no_grad():
        e, rest = _PairProducts.apply(rhs, v0, 7)
    assert rest.shape == (2, 3, 7) and rest.untyped_storage().nbytes() == rest.numel() * rest.element_size()
    torch.testing.assert_close(e, torch.tanh(rhs[:, :7] @ v0.transpose(1, 2)).sum(1), atol=1e-5, rtol=0)
    torch.testing.assert_close(rest, rhs[:, 7:] @ v0.transpose(1, 2))


@pytest.mark.parametrize("surrogate", [True, False])
def test_pairs_in_length_groups_give_the_same_numbers(monkeypatch, surrogate):
    """score_pairs cuts pairs of short videos to their own length (vlanet.PAIR_GROUP_RATIO):
    scores, attention, element scores and gradients equal those of one padded group."""
    from vlanet.config import load_config
    from vlanet.data.loading import load_splits
    from vlanet.model import vlanet as vlanet_module
    from vlanet.train.loop import batch_loss

    cfg = load_config(None, ["data.synthetic_train_videos=24", "data.synthetic_test_videos=4", "data.synthetic_dim=16",
                             "model.hidden_dim=16", f"model.surrogate={str(surrogate).lower()}"])
    splits = load_splits(cfg, need=("train",))
    order = sorted(range(len(splits.train)), key=lambda i: splits.train.queries[i].duration)
    batch = splits.train.collate(order[:6] + order[-2:])  # short videos and the two longest
    batch.feats = batch.feats.double()
    ends = (batch.win_mask.any(-1) if surrogate else batch.win_mask.flatten(1)).sum(1)
    assert len(vlanet_module.length_groups(ends, vlanet_module.PAIR_GROUP_RATIO)) > 1  # the case under test
    torch.manual_seed(0)
    model = VLANet(cfg.model, splits.feature_dim, torch.from_numpy(splits.words.vectors)).double()
    results = []
    for ratio in (0.0, vlanet_module.PAIR_GROUP_RATIO):
        monkeypatch.setattr(vlanet_module, "PAIR_GROUP_RATIO", ratio)
        model.zero_grad()
        video = model.encode_video(batch.feats, batch.row_mask, batch.windows, batch.win_mask)
        query = model.encode_query(batch.words, batch.word_mask)
        vi, qi = torch.tensor([0, 1, 6, 7, 6, 0, 3]), torch.tensor([0, 1, 6, 7, 0, 6, 7])
        out = model.score_pairs(video, query, vi, qi)
        loss, _, _ = batch_loss(model, batch, cfg.train, torch.Generator().manual_seed(0))
        (loss + out.score.sum()).backward()
        results.append((out, [p.grad.clone() for p in model.parameters() if p.grad is not None]))
    (a, ga), (b, gb) = results
    for x, y in [(a.score, b.score), (a.element_scores, b.element_scores), (a.cca.element_vla, b.cca.element_vla),
                 (a.cca.v, b.cca.v), (a.cca.q, b.cca.q)] + list(zip(a.cca.q2v_weights, b.cca.q2v_weights)):
        torch.testing.assert_close(x, y, atol=1e-10, rtol=0)
    assert len(ga) == len(gb) and all(torch.allclose(x, y, atol=1e-10) for x, y in zip(ga, gb))
