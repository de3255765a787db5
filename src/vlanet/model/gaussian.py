"""Gaussian masks over a video's clips, the proposals of CNM and CPL.

A proposal is a centre c and a width w, both in (0, 1) of the video's length; the clips sit at
positions t_i = i / (N - 1).  Masks are (B, N) with values in [0, 1].

=========================  ================================================  ==================
Mask                       Formula                                           Used by
=========================  ================================================  ==================
CNM positive               g_i = exp(-alpha (t_i - c)^2 / w^2),  w >= 0.1    ``cnm_mask``
CNM easy negative          1 - g                                             cnm.CNM
CPL positive               g_i = N(t_i; c, w / sigma) / max_i N(.)           ``cpl_mask``
CPL left / right negative  a Gaussian in the middle of the video left        ``cpl_negatives``
                           (right) of the proposal, moving out from the
                           video's edge as training goes on: (epoch / E)^gamma
=========================  ================================================  ==================
"""

from __future__ import annotations

import torch


def positions(n: int, device: torch.device | str = "cpu") -> torch.Tensor:
    """t_i = i / (n - 1), the clips' positions in [0, 1] (n,)."""
    return torch.linspace(0.0, 1.0, n, device=device)


def cnm_mask(n: int, centre: torch.Tensor, width: torch.Tensor, alpha: float) -> torch.Tensor:
    """CNM's mask (B, n) for centres and widths (B,); widths are floored at 0.1 as in its code."""
    t = positions(n, centre.device)[None, :]
    return torch.exp(-alpha * (t - centre[:, None]) ** 2 / width.clamp(min=0.1)[:, None] ** 2)


def normal_peak(t: torch.Tensor, centre: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """exp(-(t - c)^2 / (2 std^2)) divided by its maximum over t: a normal density rescaled so
    that its highest sampled value is 1.  t (1, n) or (B, n); centre, std (B, 1)."""
    g = torch.exp(-((t - centre) ** 2) / (2 * std ** 2))
    return g / g.amax(-1, keepdim=True)


def cpl_mask(n: int, centre: torch.Tensor, width: torch.Tensor, sigma: float) -> torch.Tensor:
    """CPL's mask (B, n): a normal density of std w / sigma (w floored at 0.01), peak 1."""
    t = positions(n, centre.device)[None, :]
    return normal_peak(t, centre[:, None], width.clamp(min=0.01)[:, None] / sigma)


def cpl_negatives(n: int, centre: torch.Tensor, width: torch.Tensor, sigma: float, progress: float,
                  gamma: float) -> tuple[torch.Tensor, torch.Tensor]:
    """CPL's two intra-video negatives of each proposal (B, n) each.

    Left of the proposal lies [0, c - w/2]: its negative is centred at r * (c - w/2) / 2, with
    that same value as its width (std = width / (sigma / 2)), where r = progress^gamma grows
    from 0 (a spike at the video's start) to 1 (the middle of the free span).  The right one
    mirrors it in [c + w/2, 1].  ``progress`` = epoch / epochs, clipped to [0, 1].
    """
    t = positions(n, centre.device)[None, :]
    r = min(max(progress, 0.0), 1.0) ** gamma
    left = (centre - width / 2).clamp(min=0.0) * r * 0.5  # the left negative's centre and width
    right = (1.0 - centre - width / 2).clamp(min=0.0) * r * 0.5  # distance of the right one from the end
    std_left = left.clamp(min=0.01)[:, None] / (sigma / 2)
    std_right = right.clamp(min=0.01)[:, None] / (sigma / 2)
    return normal_peak(t, left[:, None], std_left), normal_peak(t, (1.0 - right)[:, None], std_right)
