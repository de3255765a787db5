"""Eqs. (7)-(13): the VLA function, Dense Attention and the cascade, against loops and the
literal composition."""

import math

import pytest
import torch
from model_helpers import D, unit

from vlanet.model.attention import VLA, DenseAttention, scaled_tanh_sum
from vlanet.model.cca import CascadedCrossModalAttention
from vlanet.model.fused import fused_cca


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
                assert float(e[b, i].detach()) == pytest.approx(want, abs=1e-5)


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
        e = torch.tensor([sum(math.tanh(float((att.vla.w1(x[0, i]) @ att.vla.w2(y[0, j])).detach())) for j in range(3)) for i in range(4)])
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
        norms[scale] = float(v.norm(dim=-1).mean().detach())
    # literal: every element shrinks by ~1/N per application; count: the mean norm stays >= ~1
    assert norms["none"] < 1e-3 and norms["count"] > 0.3


@pytest.mark.parametrize("kw", [{}, {"self_attention": False}, {"cross_attention": False}, {"scale": "none"},
                                {"scale": "residual", "reduce": "mean"}, {"share_weights": True},
                                {"cascade_steps": 1, "final_q2v": False}, {"vcomp_pool": "mean", "temperature": 3.0}])
def test_fast_cascade_equals_literal_composition(kw):
    """fused_cca (one batched product, rescaled sets) == forward (Eqs. 9-13 one by one)."""
    torch.manual_seed(0)
    cca = CascadedCrossModalAttention(D, **kw).double()  # float64: equal up to rounding, so tight
    v, q = torch.randn(3, 6, D, dtype=torch.float64), torch.randn(3, 4, D, dtype=torch.float64)
    vm, qm = torch.ones(3, 6, dtype=torch.bool), torch.ones(3, 4, dtype=torch.bool)
    vm[1, 4:], qm[2, 3:] = False, False
    v, q = v * vm.unsqueeze(-1), q * qm.unsqueeze(-1)
    fast, ref = fused_cca(cca, v, vm, q, qm), cca(v, vm, q, qm)
    # sentences given once and indexed per pair: the same as gathering them first
    idx = torch.tensor([2, 0, 2])
    by_index = fused_cca(cca, v, vm, q, qm, idx)
    gathered = cca(v, vm, q[idx], qm[idx])
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
        out = fused_cca(cca, table, vm, q, qm, qi, index)
        out.score.sum().backward()
        results.append((out.score, out.q2v_weights[-1], [p.grad.clone() for p in cca.parameters()]))
    (s1, w1, g1), (s2, w2, g2) = results
    assert torch.allclose(s1, s2, atol=1e-12) and torch.allclose(w1, w2, atol=1e-12)
    assert all(torch.allclose(a, b, atol=1e-12) for a, b in zip(g1, g2))
    ref = cca(table[index], vm, q, qm, qi)
    assert torch.allclose(cca(table, vm, q, qm, qi, index).score, ref.score, atol=1e-12)
    assert torch.allclose(s1, ref.score, atol=1e-10)


