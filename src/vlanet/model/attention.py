"""Section 3.4, Dense Attention and the Video-Language Alignment function -- Eqs. (7)-(8).

    (7)  E(x_n, Y) = sum_m tanh(W1 x_n . W2 y_m)
    (8)  A(X, Y)   = Softmax([E(x_1,Y) ... E(x_N,Y)]) X        (row n of X scaled by its weight)

Glossary: X (B, N, D) the set being attended, Y (B, M, D) the set attending it, masks True = valid.

Departures, all config switches (docs/CHOICES.md):
* ``reduce``: 'sum' is Eq. (7) literally; 'mean' divides by the number of valid y_m so that E
  lies in [-1, 1] whatever M is (V2V has M = K ~ 70 elements, Q2V has M ~ 8 words).
* ``temperature``: Eq. (8)'s softmax is taken over ``temperature * E``.  1.0 is literal.
* ``scale`` -- the scale trap.  Literal Eq. (8) multiplies x_n by a weight of about 1/N, so a
  cascade of attentions shrinks features geometrically and E collapses to 0.  'count' multiplies
  by the number of valid elements N (weights then average 1, keeping the scale);
  'residual' returns x_n + a_n x_n; 'none' is the literal form.
"""

from __future__ import annotations

import torch
from torch import nn


def scaled_tanh_sum(g: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """sum_m tanh(a_n g_nm b_m) for g (B, N, M), a (B, N), b (B, M) -> (B, N).

    Computed as 2 sum sigmoid(2x) - M, the same function (tanh(x) = 2 sigmoid(2x) - 1; a padded
    zero term is 0 either way), as one autograd node with its own gradient; why this form is
    faster is measured in docs/PERFORMANCE.md.  The sum is at least float32: under bf16
    autocast, a bf16 sum near M/2 would lose the small difference.
    """
    return _ScaledTanhSum.apply(g, a, b)


def tanh_sum_from_sigmoid(s: torch.Tensor, dim: int) -> torch.Tensor:
    """sum of tanh(x) over ``dim`` from s = sigmoid(2x): 2 sum(s) - n, summed in at least float32."""
    return s.sum(dim, dtype=acc_dtype(s)).mul_(2).sub_(s.shape[dim])


def tanh_grad_from_sigmoid(s: torch.Tensor, d: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
    """d * dtanh(x)/dx from s = sigmoid(2x): d/dx (2 sigmoid(2x) - 1) = 4 s (1 - s); d broadcasts."""
    t = torch.addcmul(s, s, s, value=-1)
    d = 4 * d.to(s.dtype)
    return t.mul_(d) if out is None else torch.mul(t, d, out=out)


class _ScaledTanhSum(torch.autograd.Function):
    """Works in g's own layout: the cascade hands g over as a transposed view of the products
    (inner dimension N ~ 70 contiguous, M ~ 8 strided), and elementwise kernels over an inner
    dimension of 8 strided elements run ~2.5x slower than over the contiguous one."""

    @staticmethod
    def forward(ctx, g: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        flip = g.stride(-1) != 1 and g.stride(-2) == 1  # then work on g^T (B, M, N), sum over M
        gl = g.transpose(-1, -2) if flip else g
        ax, by, m_dim = _broadcast(a, b, flip)
        s = torch.mul(2 * ax, by).mul_(gl).sigmoid_()  # sigmoid(2x) for every term x = a_n g_nm b_m
        ctx.save_for_backward(gl, a, b, s)
        ctx.flip = flip
        return tanh_sum_from_sigmoid(s, m_dim)

    @staticmethod
    def backward(ctx, de: torch.Tensor):
        gl, a, b, s = ctx.saved_tensors
        ax, by, m_dim = _broadcast(a, b, ctx.flip)
        h = tanh_grad_from_sigmoid(s, de.unsqueeze(m_dim))  # dE/dx for every term x
        da = db = dg = None
        if ctx.needs_input_grad[1] or ctx.needs_input_grad[2]:
            hg = h * gl
            if ctx.needs_input_grad[1]:  # sum over m of hg * b_m
                da = _contract(hg, b.to(hg.dtype), m_dim).to(a.dtype)
            if ctx.needs_input_grad[2]:  # sum over n of hg * a_n
                db = _contract(hg, a.to(hg.dtype), -1 if m_dim == -2 else -2).to(b.dtype)
        if ctx.needs_input_grad[0]:
            dg = h.mul_(ax).mul_(by).to(gl.dtype)
            dg = dg.transpose(-1, -2) if ctx.flip else dg
        return dg, da, db


def _broadcast(a: torch.Tensor, b: torch.Tensor, flip: bool) -> tuple[torch.Tensor, torch.Tensor, int]:
    """a (B, N) and b (B, M) unsqueezed against g (B, N, M), or g^T (B, M, N) when ``flip``, and
    the dimension of M in it."""
    if flip:
        return a.unsqueeze(-2), b.unsqueeze(-1), -2
    return a.unsqueeze(-1), b.unsqueeze(-2), -1


def _contract(t: torch.Tensor, v: torch.Tensor, dim: int) -> torch.Tensor:
    """sum over ``dim`` (-1 or -2) of t (B, X, Y) times v along that dimension, as a batched product."""
    if dim == -1:
        return torch.bmm(t, v.unsqueeze(-1)).squeeze(-1)
    return torch.bmm(v.unsqueeze(1), t).squeeze(1)


def acc_dtype(x: torch.Tensor) -> torch.dtype:
    """float32 for bf16/fp16 tensors, else their own dtype: what sums are accumulated in."""
    return torch.promote_types(x.dtype, torch.float32)


class VLA(nn.Module):
    """The Video-Language Alignment function E of Eq. (7), with its own W1, W2."""

    # Largest (B, N, M) tanh term computed at once; bigger ones (V2V on long videos: N = M = K
    # grows with duration) are computed in row slices -- same numbers, memory O(chunk), not O(K^2).
    chunk_elems: int = 1 << 24

    def __init__(self, dim: int, reduce: str = "sum"):
        super().__init__()
        self.w1 = nn.Linear(dim, dim, bias=False)
        self.w2 = nn.Linear(dim, dim, bias=False)
        self.reduce = reduce

    def forward(self, x: torch.Tensor, y: torch.Tensor, y_mask: torch.Tensor) -> torch.Tensor:
        """x (B, N, D), y (B, M, D), y_mask (B, M) -> E (B, N).

        Padded elements of y must be zero vectors (the whole model keeps them so): then their
        term is tanh(0) = 0 and the sum needs no (B, N, M) mask.
        """
        # (W1 x) . (W2 y) = x . (W1^T W2 y) = (W2^T W1 x) . y : project only the smaller set.
        # Same numbers as projecting both sides, but the big video tensor is never projected.
        if x.shape[1] >= y.shape[1]:
            y = y @ self.bilinear().t()
        else:
            x = x @ self.bilinear()
        b, n, m = x.shape[0], x.shape[1], y.shape[1]
        # The terms are laid out (B, M, N): y's gradient then comes back contiguous (no copy).
        if b * n * m <= self.chunk_elems:
            e = torch.tanh(torch.bmm(y, x.transpose(1, 2))).sum(1)  # Eq. (7)
        else:  # long videos: the (B, N, M) term in slices of rows, so memory stays bounded
            rows = max(1, self.chunk_elems // (b * m))
            e = torch.cat([torch.tanh(torch.bmm(y, x[:, i:i + rows].transpose(1, 2))).sum(1)
                           for i in range(0, n, rows)], dim=1)
        return self.normalise(e, y_mask)

    def bilinear(self) -> torch.Tensor:
        """A = W1^T W2 (D, D): the term of Eq. (7) is (W1 x).(W2 y) = x A y^T for row vectors."""
        return self.w1.weight.t() @ self.w2.weight

    def from_products(self, g: torch.Tensor, x_scale: torch.Tensor, y_scale: torch.Tensor,
                      y_mask: torch.Tensor) -> torch.Tensor:
        """Eq. (7) for rescaled sets X = diag(x_scale) X0, Y = diag(y_scale) Y0, from g = X0 A Y0^T.

        g (B, N, M), x_scale (B, N), y_scale (B, M) -> E (B, N).  Equal to ``forward`` on the
        rescaled sets: (a x).(W y b) = a b (x A y^T).  The cascade uses it (cca.py) because every
        Dense Attention only rescales the rows of its set.
        """
        e = scaled_tanh_sum(g, x_scale, y_scale)
        return self.normalise(e, y_mask)

    def normalise(self, e: torch.Tensor, y_mask: torch.Tensor) -> torch.Tensor:
        """Eq. (7) from the summed terms e (B, N): unchanged for 'sum', divided by the number of
        valid y_m for 'mean'."""
        if self.reduce == "mean":
            e = e / y_mask.sum(-1, keepdim=True).clamp(min=1).to(e.dtype)
        return e


class DenseAttention(nn.Module):
    """A(X, Y): attends X using Y (Eq. 8). Returns the attended X and the weights over X."""

    def __init__(self, dim: int, reduce: str = "sum", scale: str = "count", temperature: float = 1.0):
        super().__init__()
        self.vla = VLA(dim, reduce)
        self.scale = scale
        self.temperature = temperature

    def forward(
        self, x: torch.Tensor, x_mask: torch.Tensor, y: torch.Tensor, y_mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """x (B, N, D), x_mask (B, N), y (B, M, D), y_mask (B, M) -> (A(X,Y) (B, N, D), weights (B, N))."""
        w, a = self.weigh(self.vla(x, y, y_mask), x_mask)
        return w.unsqueeze(-1) * x, a

    def weigh(self, e: torch.Tensor, x_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Eq. (8) from E (B, N): (the factor row n of X is multiplied by, the softmax weights)."""
        a = torch.softmax((e * self.temperature).masked_fill(~x_mask, float("-inf")), dim=-1)  # over n
        a = torch.nan_to_num(a) * x_mask  # an all-padding row (never produced by the data) stays 0
        if self.scale == "count":
            return a * x_mask.sum(-1, keepdim=True).to(a.dtype), a
        if self.scale == "residual":
            return 1.0 + a, a
        return a, a  # "none": literal Eq. (8)
