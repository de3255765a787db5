"""Eqs. (1)-(2): the query and proposal encoders against slow references."""


import pytest
import torch
from model_helpers import D

from vlanet.model import proposals
from vlanet.model.proposals import ProposalEncoder, pool_windows
from vlanet.model.text import QueryEncoder
from vlanet.model.unit import unit_rows


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


