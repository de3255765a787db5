"""Section 3.2, video representation -- Eq. (2).

    V = [p_lk],  p_lk = FC(mean of the feature rows inside window (k, l)), L2-normalised.

Glossary: T feature rows of size F, K segment groups (shared start), L window scales, D hidden.
``windows`` (B, K, L, 2) are window edges in *row coordinates* (seconds / seconds-per-row,
computed by vlanet.spans.proposal_grid and vlanet.data.batching), so windows may start or end
inside a row.

Fractional edges: the video is treated as piecewise constant, row t covering [t, t+1).  A
window [a, b) is the exact average of that function, so a row cut by the window edge counts
with the fraction of it that lies inside.  This handles the 8-frame stride against 16-frame
C3D rows without rounding.

Order of operations: because FC is affine and the pooling weights sum to 1,
FC(mean(x)) == mean(FC(x)).  We project the T rows once and pool with prefix sums, costing
O(T*F*D + K*L*D) instead of O(K*L*F*D) -- same numbers, ~4x fewer FLOPs at the paper setting.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def pool_windows(rows: torch.Tensor, row_mask: torch.Tensor, windows: torch.Tensor) -> torch.Tensor:
    """Exact mean of piecewise-constant ``rows`` (B, T, D) over ``windows`` (B, K, L, 2) -> (B, K, L, D).

    Rows outside ``row_mask`` (padding) are never inside a valid window: edges are clamped to
    each video's own length.
    """
    b, t, d = rows.shape
    rows = rows * row_mask.unsqueeze(-1)
    n_rows = row_mask.sum(1).to(rows.dtype)  # (B,)
    csum = torch.cat([rows.new_zeros(b, 1, d), rows.cumsum(1)], dim=1)  # (B, T+1, D)
    lo = torch.minimum(windows[..., 0].clamp(min=0), n_rows.view(b, 1, 1))
    hi = torch.minimum(windows[..., 1].clamp(min=0), n_rows.view(b, 1, 1))

    def integral(x: torch.Tensor) -> torch.Tensor:  # int_0^x f, x (B, K, L) -> (B, K, L, D)
        idx = x.floor().long().clamp(max=t - 1)
        frac = (x - idx.to(x.dtype)).unsqueeze(-1)
        flat = idx.view(b, -1)
        c = torch.gather(csum, 1, flat.unsqueeze(-1).expand(-1, -1, d)).view(*x.shape, d)
        r = torch.gather(rows, 1, flat.unsqueeze(-1).expand(-1, -1, d)).view(*x.shape, d)
        return c + frac * r

    width = (hi - lo).unsqueeze(-1)
    pooled = (integral(hi) - integral(lo)) / width.clamp(min=1e-3)
    # A window narrower than 1/1000 of a row is the row it sits in (avoids 0/0).
    point = torch.gather(
        rows, 1, lo.floor().long().clamp(max=t - 1).view(b, -1).unsqueeze(-1).expand(-1, -1, d)
    ).view(*lo.shape, d)
    return torch.where(width > 1e-3, pooled, point)


class ProposalEncoder(nn.Module):
    def __init__(self, feature_dim: int, hidden_dim: int):
        super().__init__()
        self.fc = nn.Linear(feature_dim, hidden_dim)  # "FC layers resize the feature dimension to D"

    def forward(self, feats: torch.Tensor, row_mask: torch.Tensor, windows: torch.Tensor) -> torch.Tensor:
        """feats (B, T, F), row_mask (B, T), windows (B, K, L, 2) rows -> V (B, K, L, D), unit rows."""
        rows = self.fc(feats)  # (B, T, D): project once, pool after (see module docstring)
        p = pool_windows(rows, row_mask, windows)  # (B, K, L, D)
        return F.normalize(p, dim=-1)  # Eq. (2): each p_lk is a unit vector
