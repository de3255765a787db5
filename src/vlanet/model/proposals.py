"""Section 3.2, video representation -- Eq. (2).

    V = [p_lk],  p_lk = FC(mean of the feature rows inside window (k, l)), L2-normalised.

Glossary: T feature rows of size F, K segment groups (shared start), L window scales, D hidden.
``windows`` (B, K, L, 2) are window edges in *row coordinates* (seconds / seconds-per-row,
computed by vlanet.utils.spans.proposal_grid and vlanet.data.dataset), so windows may start or end
inside a row.

Fractional edges: the video is treated as piecewise constant, row t covering [t, t+1).  A
window [a, b) is the exact average of that function, so a row cut by the window edge counts
with the fraction of it that lies inside.  This handles the 8-frame stride against 16-frame
C3D rows without rounding.

Order of operations: because FC is affine and the pooling weights sum to 1,
FC(mean(x)) == mean(FC(x)).  We project the T rows once and pool after, costing
O(T*F*D + K*L*T*D) instead of O(K*L*F*D) -- same numbers, ~4x fewer FLOPs at the paper setting.

How the pooling is computed: as one batched product of the (K*L, T) overlap weights with the
rows (fast: a matmul), or, when that weight matrix would exceed ``POOL_MATMUL_ELEMS`` elements
(hour-long videos), from prefix sums in O(K*L*D) time and memory.  Both give the same numbers.
"""

from __future__ import annotations

import torch
from torch import nn

from vlanet.model.unit import unit_rows

POOL_MATMUL_ELEMS = 1 << 23  # largest (B, K*L, T) weight matrix pool_windows builds (32 MB)


def pool_windows(rows: torch.Tensor, row_mask: torch.Tensor, windows: torch.Tensor) -> torch.Tensor:
    """Exact mean of piecewise-constant ``rows`` (B, T, D) over ``windows`` (B, K, L, 2) -> (B, K, L, D).

    Rows outside ``row_mask`` (padding) are never inside a valid window: edges are clamped to
    each video's own length.  A window narrower than 1/1000 of a row is the row it sits in
    (avoids 0/0).
    """
    b, t, d = rows.shape
    rows = rows * row_mask.unsqueeze(-1)
    n_rows = row_mask.sum(1).to(rows.dtype).view(b, 1, 1)
    lo = torch.minimum(windows[..., 0].clamp(min=0), n_rows)  # (B, K, L)
    hi = torch.minimum(windows[..., 1].clamp(min=0), n_rows)
    width = (hi - lo).unsqueeze(-1)
    point = lo.floor().long().clamp(max=t - 1)  # the row a too-narrow window sits in
    if b * lo[0].numel() * t <= POOL_MATMUL_ELEMS:
        edges = torch.arange(t, dtype=rows.dtype, device=rows.device)  # row t covers [t, t+1)
        weight = (torch.minimum(hi.unsqueeze(-1), edges + 1) - torch.maximum(lo.unsqueeze(-1), edges)).clamp(min=0)
        weight = torch.where(width > 1e-3, weight / width.clamp(min=1e-3),
                             (edges == point.unsqueeze(-1)).to(rows.dtype))  # (B, K, L, T)
        return torch.bmm(weight.view(b, -1, t), rows).view(*lo.shape, d)
    csum = torch.cat([rows.new_zeros(b, 1, d), rows.cumsum(1)], dim=1)  # (B, T+1, D)

    def take(x: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:  # rows of x (B, *, D) at idx (B, K, L)
        return torch.gather(x, 1, idx.view(b, -1, 1).expand(-1, -1, d)).view(*idx.shape, d)

    def integral(x: torch.Tensor) -> torch.Tensor:  # int_0^x f, x (B, K, L) -> (B, K, L, D)
        idx = x.floor().long().clamp(max=t - 1)
        return take(csum, idx) + (x - idx.to(x.dtype)).unsqueeze(-1) * take(rows, idx)

    pooled = (integral(hi) - integral(lo)) / width.clamp(min=1e-3)
    return torch.where(width > 1e-3, pooled, take(rows, point))


class _RowProjection(torch.autograd.Function):
    """x (N, F) -> x w^T + b, what nn.Linear does, with the weight's gradient computed as
    (x^T g)^T instead of g^T x (a faster layout on CPU, docs/PERFORMANCE.md and
    benchmarks/fc_layouts.py).  Only the layout differs; tests check the gradients."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(x, w)
        return torch.addmm(b, x, w.t())

    @staticmethod
    def backward(ctx, g: torch.Tensor):
        x, w = ctx.saved_tensors
        dx = g @ w.to(g.dtype) if ctx.needs_input_grad[0] else None
        dw = (x.to(g.dtype).t() @ g).t().to(w.dtype) if ctx.needs_input_grad[1] else None
        db = g.sum(0).to(w.dtype) if ctx.needs_input_grad[2] else None
        return dx, dw, db


class ProposalEncoder(nn.Module):
    def __init__(self, feature_dim: int, hidden_dim: int):
        super().__init__()
        self.fc = nn.Linear(feature_dim, hidden_dim)  # "FC layers resize the feature dimension to D"

    def forward(self, feats: torch.Tensor, row_mask: torch.Tensor, windows: torch.Tensor,
                win_mask: torch.Tensor | None = None) -> torch.Tensor:
        """feats (B, T, F), row_mask (B, T), windows (B, K, L, 2) rows, win_mask (B, K, L) ->
        V (B, K, L, D), unit rows (zero where win_mask is False)."""
        b, t, f = feats.shape  # project once, pool after (see module docstring)
        rows = _RowProjection.apply(feats.reshape(b * t, f), self.fc.weight, self.fc.bias).view(b, t, -1)
        p = pool_windows(rows, row_mask, windows)  # (B, K, L, D)
        return unit_rows(p, win_mask)  # Eq. (2): each p_lk is a unit vector
