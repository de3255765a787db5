"""Section 3.3, Surrogate Proposal Selection -- Eqs. (3)-(6).

    (3)  score_lk = p_lk . w_M          (cosine: both are unit vectors)
    (4)  l'_k    = argmax_l score_lk
    (5)  s_k     = p_{l'_k k}
    (6)  V'      = [s_1 ... s_K]

Only the selected surrogates carry gradient (argmax is piecewise constant), exactly as the
paper states, so Eq. (3)'s score is never trained by the paper's loss.  Two switches train it
(docs/CHOICES.md): ``model.selection='straight-through'`` (``straight_through``) and
``train.selection_weight`` > 0 (a contrastive term on the best p . w_M of a pair, train/step.py).  Glossary: P pairs (video, query), K groups, L scales, D hidden.
"""

from __future__ import annotations

import torch


def select_surrogates(scores: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Eqs. (4)-(6) from Eq. (3)'s scores (P, K, L) of ``selection_scores``: (window (P, K),
    l' (P, K)).  s_k of Eq. (5) is proposal window[p, k] = k*L + l'_k of pair p's video, so the
    model gathers V' (Eq. 6) as rows of the batch's proposal table, each projected once."""
    best = scores.detach().argmax(-1)  # Eq. (4)
    k, n_scales = scores.shape[1:]
    return torch.arange(k, device=best.device) * n_scales + best, best  # Eqs. (5)-(6)


def selection_scores(
    proposals: torch.Tensor, prop_mask: torch.Tensor, w_last: torch.Tensor,
    video_idx: torch.Tensor, query_idx: torch.Tensor,
) -> torch.Tensor:
    """Eq. (3) for pairs: p_lk . w_M (P, K, L), -inf at invalid proposals (with gradient)."""
    scores = torch.einsum("bkld,qd->bqkl", proposals, w_last)[video_idx, query_idx]
    return scores.masked_fill(~prop_mask[video_idx], float("-inf"))


def straight_through(proposals: torch.Tensor, scores: torch.Tensor, best: torch.Tensor, video_idx: torch.Tensor,
                     temperature: float) -> torch.Tensor:
    """The surrogates s_k (P, K, D) of Eq. (5) in the forward pass, with the gradient of the
    softmax-weighted mean over the L scales (temperature ``temperature``) in the backward pass:
    ``model.selection='straight-through'``, which trains Eq. (3)'s score through the main loss.
    The paper's argmax (``'argmax'``) gives Eq. (3) no gradient at all."""
    props = proposals[video_idx]  # (P, K, L, D)
    hard = torch.gather(props, 2, best[..., None, None].expand(-1, -1, 1, props.shape[-1])).squeeze(2)
    w = torch.softmax(scores / temperature, dim=-1).nan_to_num(0.0)  # a group with no valid window: 0
    soft = torch.einsum("pkl,pkld->pkd", w, props)
    return hard + soft - soft.detach()
