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


def select_surrogates(
    proposals: torch.Tensor, prop_mask: torch.Tensor, w_last: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """proposals (P, K, L, D), prop_mask (P, K, L), w_last (P, D) -> (surrogates (P, K, D), l' (P, K))."""
    scores = torch.einsum("pkld,pd->pkl", proposals, w_last)  # Eq. (3)
    scores = scores.masked_fill(~prop_mask, float("-inf"))
    best = scores.argmax(-1)  # Eq. (4)  (P, K)
    s = torch.gather(proposals, 2, best[..., None, None].expand(-1, -1, 1, proposals.shape[-1]))
    return s.squeeze(2), best  # Eqs. (5)-(6)


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


def surrogate_scales(
    proposals: torch.Tensor, prop_mask: torch.Tensor, w_last: torch.Tensor,
    video_idx: torch.Tensor, query_idx: torch.Tensor,
) -> torch.Tensor:
    """Eqs. (3)-(4) for pairs (video_idx[p], query_idx[p]) without copying V per pair: l'_k (P, K).

    proposals (Bv, K, L, D), prop_mask (Bv, K, L), w_last (Bq, D); index tensors (P,).  The
    surrogate s_k of pair p (Eqs. 5-6) is then window k*L + l'_k of its video: the CCA gathers it
    from the batch's proposal table (vlanet.py, cca.py), so per-proposal work is done once per
    proposal, not once per pair.
    """
    return selection_scores(proposals, prop_mask, w_last, video_idx, query_idx).argmax(-1)  # Eq. (4)
