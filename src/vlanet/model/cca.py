"""Section 3.4, Cascaded Cross-modal Attention (CCA) -- Eqs. (9)-(13).

    (9)   V <- A(V, V)                 V2V self-attention
    (10)  Q <- A(Q, Q)                 Q2Q self-attention
    (11)  V <- A(V, Q)                 Q2V: the query attends the video
    (12)  Q <- A(Q, V)                 V2Q: the (attended) video attends the query
          (11)-(12) are applied ``cascade_steps`` times in series, then, with ``final_q2v``,
          one last (11): "attended query to attended video" (Section 1).
    (13)  v_comp = sum_k V_k,   c = E(v_comp, Q)

Glossary: P pairs, K video elements (surrogates, or K*L proposals without surrogate selection),
M words, D hidden.  ``q2v_weights`` lists the softmax weights over the K video elements of every
Eq. (11) application; the last one (default) ranks proposals at test time.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from vlanet.model.attention import VLA, DenseAttention


@dataclass
class CCAOutput:
    score: torch.Tensor  # c of Eq. (13), (P,)
    v: torch.Tensor  # attended video elements before pooling (P, K, D)
    q: torch.Tensor  # attended words (P, M, D)
    q2v_weights: list[torch.Tensor]  # each (P, K)


class CascadedCrossModalAttention(nn.Module):
    def __init__(
        self, dim: int, *, self_attention: bool = True, cross_attention: bool = True,
        cascade_steps: int = 2, final_q2v: bool = True, share_weights: bool = False,
        scale: str = "count", reduce: str = "sum", temperature: float = 1.0, vcomp_pool: str = "sum",
    ):
        super().__init__()

        def unit() -> DenseAttention:
            return DenseAttention(dim, reduce=reduce, scale=scale, temperature=temperature)

        self.self_attention = self_attention
        self.v2v = unit() if self_attention else None
        self.q2q = unit() if self_attention else None
        n_rounds = cascade_steps if cross_attention else 0
        n_q2v = n_rounds + (1 if (final_q2v and cross_attention) else 0)
        n_unique_q2v = min(n_q2v, 1) if share_weights else n_q2v
        n_unique_v2q = min(n_rounds, 1) if share_weights else n_rounds
        self.q2v = nn.ModuleList(unit() for _ in range(n_unique_q2v))
        self.v2q = nn.ModuleList(unit() for _ in range(n_unique_v2q))
        self.n_rounds, self.n_q2v, self.share = n_rounds, n_q2v, share_weights
        self.score_vla = VLA(dim, reduce)  # E of Eq. (13)
        self.vcomp_pool = vcomp_pool

    def forward(self, v: torch.Tensor, v_mask: torch.Tensor, q: torch.Tensor, q_mask: torch.Tensor) -> CCAOutput:
        """v (P, K, D), v_mask (P, K), q (P, M, D), q_mask (P, M)."""
        if self.self_attention:
            v, _ = self.v2v(v, v_mask, v, v_mask)  # Eq. (9)
            q, _ = self.q2q(q, q_mask, q, q_mask)  # Eq. (10)
        weights: list[torch.Tensor] = []
        for i in range(self.n_q2v):
            v, a = self.q2v[0 if self.share else i](v, v_mask, q, q_mask)  # Eq. (11)
            weights.append(a)
            if i < self.n_rounds:
                q, _ = self.v2q[0 if self.share else i](q, q_mask, v, v_mask)  # Eq. (12)
        vm = v * v_mask.unsqueeze(-1)
        v_comp = vm.sum(1)  # Eq. (13): sum of all elements of V
        if self.vcomp_pool == "mean":
            v_comp = v_comp / v_mask.sum(1, keepdim=True).clamp(min=1).to(v.dtype)
        c = self.score_vla(v_comp.unsqueeze(1), q, q_mask).squeeze(1)  # Eq. (13): c = E(v_comp, Q)
        return CCAOutput(score=c, v=v, q=q, q2v_weights=weights)
