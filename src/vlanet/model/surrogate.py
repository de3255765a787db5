"""Section 3.3, Surrogate Proposal Selection -- Eqs. (3)-(6).

    (3)  score_lk = p_lk . w_M          (cosine: both are unit vectors)
    (4)  l'_k    = argmax_l score_lk
    (5)  s_k     = p_{l'_k k}
    (6)  V'      = [s_1 ... s_K]

Only the selected surrogates carry gradient (argmax is piecewise constant), exactly as the
paper states.  Glossary: P pairs (video, query), K groups, L scales, D hidden.
"""

from __future__ import annotations

import torch


def select_surrogates(
    proposals: torch.Tensor, prop_mask: torch.Tensor, w_last: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """proposals (P, K, L, D), prop_mask (P, K, L), w_last (P, D) -> (surrogates (P, K, D), l' (P, K))."""
    scores = torch.einsum("pkld,pd->pkl", proposals, w_last)  # Eq. (3)
    scores = scores.masked_fill(~prop_mask, float("-inf"))
    best = scores.argmax(-1)  # Eq. (4)  (P, K)
    s = torch.gather(proposals, 2, best[..., None, None].expand(-1, -1, 1, proposals.shape[-1]))
    return s.squeeze(2), best  # Eqs. (5)-(6)


def surrogate_rows(
    proposals: torch.Tensor, prop_mask: torch.Tensor, w_last: torch.Tensor,
    video_idx: torch.Tensor, query_idx: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Eqs. (3)-(6) as indices: s_k of pair p is row rows[p, k] of proposals.reshape(-1, D).

    proposals (Bv, K, L, D), prop_mask (Bv, K, L), w_last (Bq, D); index tensors (P,).
    Returns (rows (P, K), l' (P, K)).  The CCA gathers the rows itself (cca.py), so per-proposal
    work is done once per proposal, not once per pair, and V is never copied per pair.
    """
    bv, k, n_scales, _ = proposals.shape
    scores = torch.einsum("bkld,qd->bqkl", proposals, w_last)[video_idx, query_idx]  # Eq. (3) (P, K, L)
    scores = scores.masked_fill(~prop_mask[video_idx], float("-inf"))
    best = scores.argmax(-1)  # Eq. (4)
    groups = torch.arange(k, device=proposals.device) * n_scales
    return (video_idx.unsqueeze(1) * (k * n_scales) + groups + best), best  # Eqs. (5)-(6)
