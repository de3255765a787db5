"""Eq. (14), the margin contrastive loss with in-batch negatives.

    L = max[0, Delta - E(v_comp, Q+) + E(v_comp, Q-)]

v_comp depends on the query through cross-attention, so by default the negative term is the
full network run on the mismatched pair: c(V, Q-) = E(v_comp(V, Q-), Q-);
``train.negative_vcomp=reused`` scores E(v_comp(V, Q+), Q-) as the equation is written
(``VLANet.recombined_scores``, train/step.py).  With ``negatives='both'`` we also use the
symmetric term c(V-, Q) (TGA's bidirectional hinge).  Pairs whose video and query come from
the same video are never negatives.
"""

from __future__ import annotations

import torch


def contrastive_loss(
    pos: torch.Tensor, neg: torch.Tensor, neg_owner: torch.Tensor, margin: float, reduce: str = "mean"
) -> torch.Tensor:
    """pos (B,) positive scores; neg (N,) negative scores, neg_owner (N,) index of their positive.

    Each negative is hinged against its own positive; per positive the hinges are averaged
    (``reduce='mean'``) or the hardest one kept (``'max'``); the loss is the mean over positives.
    """
    b = pos.shape[0]
    if neg.numel() == 0:  # every query of the batch is on one video: no negative, a zero loss
        return pos.sum() * 0.0  # still on the graph, so backward (and DDP) see every parameter
    hinge = (margin - pos[neg_owner] + neg).clamp(min=0)  # Eq. (14)
    if reduce == "max":
        per = pos.new_zeros(b).scatter_reduce(0, neg_owner, hinge, reduce="amax", include_self=True)
    else:
        total = pos.new_zeros(b).index_add(0, neg_owner, hinge)
        count = pos.new_zeros(b).index_add(0, neg_owner, torch.ones_like(hinge)).clamp(min=1)
        per = total / count
    return per.mean()
