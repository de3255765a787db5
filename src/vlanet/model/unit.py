"""The L2 normalisation of Eqs. (1) and (2): every word feature w_m and proposal feature p_lk
is a unit vector; padded ones are zero vectors (the rest of the model relies on that).

``unit_rows`` is ``F.normalize(x, dim=-1) * mask`` with its own gradient: the projection onto
the tangent plane, (g - y <g, y>) / |x|, in three passes over x where autograd's chain of
norm, clamp, division and mask takes about ten (docs/PERFORMANCE.md; tests/model/test_network.py checks
both against each other).
"""

from __future__ import annotations

import torch

EPS = 1e-12  # as F.normalize: rows are divided by max(|x|, EPS)


class _UnitRows(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        inv = torch.linalg.vector_norm(x, dim=-1, keepdim=True).clamp_(min=EPS).reciprocal_()
        if mask is not None:
            inv = inv * mask.unsqueeze(-1).to(inv.dtype)  # a padded row: y = 0, gradient 0
        y = x * inv
        ctx.save_for_backward(y, inv)
        return y

    @staticmethod
    def backward(ctx, g: torch.Tensor):
        y, inv = ctx.saved_tensors
        g = g.to(y.dtype)
        dot = torch.linalg.vecdot(g, y, dim=-1).unsqueeze(-1)
        return torch.addcmul(g, y, dot, value=-1).mul_(inv), None


def unit_rows(x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """x (..., D) -> each row divided by its norm; rows where ``mask`` (...) is False are 0."""
    return _UnitRows.apply(x, mask)
