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
Eq. (11) application; ``model.rank_by`` picks which rank proposals at test time.

``CascadedCrossModalAttention.forward`` composes the Dense Attentions of attention.py exactly as
Eqs. (9)-(13) read (``model.cca_impl: literal``).  fused.py computes the same numbers with less
work and is the default (``model.cca_impl: fused``).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from vlanet.model.attention import VLA, DenseAttention


@dataclass
class CCAOutput:
    score: torch.Tensor  # c of Eq. (13), (P,)
    q2v_weights: list[torch.Tensor]  # each (P, K)
    v_base: torch.Tensor  # the video elements entering the CCA (P, K, D)
    q_base: torch.Tensor  # the words entering the CCA (P, M, D)
    v_scale: torch.Tensor | None = None  # (P, K): attended V = diag(v_scale) V_base; None = 1
    q_scale: torch.Tensor | None = None  # (P, M)
    element_vla: torch.Tensor | None = None  # E(v_k, Q) of Eq. (13)'s E per attended element (P, K)

    @property
    def v(self) -> torch.Tensor:
        """The attended video elements before pooling (P, K, D) (Fig. 5 uses them)."""
        return self.v_base if self.v_scale is None else self.v_scale.unsqueeze(-1) * self.v_base

    @property
    def q(self) -> torch.Tensor:
        """The attended words (P, M, D)."""
        return self.q_base if self.q_scale is None else self.q_scale.unsqueeze(-1) * self.q_base


class CascadedCrossModalAttention(nn.Module):
    def __init__(
        self, dim: int, *, self_attention: bool = True, cross_attention: bool = True,
        cascade_steps: int = 2, final_q2v: bool = True, share_weights: bool = False,
        scale: str = "count", reduce: str = "sum", temperature: float = 1.0, vcomp_pool: str = "sum",
        score_weights: str = "own",
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
        # E of Eq. (13): its own (W1, W2), or those of the last Q2V unit (score_weights='last_q2v')
        own = not (score_weights == "last_q2v" and len(self.q2v))
        self.score_vla = VLA(dim, reduce) if own else None
        self.vcomp_pool = vcomp_pool

    def score_unit(self) -> VLA:
        """E of Eq. (13)."""
        return self.score_vla if self.score_vla is not None else self.q2v[-1].vla

    def pool(self, x: torch.Tensor, v_mask: torch.Tensor) -> torch.Tensor:
        """Eq. (13)'s v_comp = sum_k x_k for x (P, K, C), or the mean with ``vcomp_pool='mean'``."""
        pooled = (x * v_mask.unsqueeze(-1).to(x.dtype)).sum(1)
        if self.vcomp_pool == "mean":
            pooled = pooled / v_mask.sum(1, keepdim=True).clamp(min=1).to(x.dtype)
        return pooled

    def forward(self, v: torch.Tensor, v_mask: torch.Tensor, q: torch.Tensor, q_mask: torch.Tensor,
                q_index: torch.Tensor | None = None, v_index: torch.Tensor | None = None) -> CCAOutput:
        """Eqs. (9)-(13) for P pairs.  v (P, K, D) the elements of each pair, or with ``v_index``
        (P, K) a table (R, D) whose rows v[v_index[p]] are pair p's elements (surrogates are rows
        of the batch's proposal table); v_mask (P, K).  q (B, M, D), q_mask (B, M); pair p uses
        sentence q_index[p] (None: B = P).  Padded elements are zero vectors."""
        if v_index is not None:
            v = v[v_index]
        if q_index is not None:
            q, q_mask = q[q_index], q_mask[q_index]
        if self.self_attention:
            v, _ = self.v2v(v, v_mask, v, v_mask)  # Eq. (9)
            q, _ = self.q2q(q, q_mask, q, q_mask)  # Eq. (10)
        weights: list[torch.Tensor] = []
        for i in range(self.n_q2v):
            v, a = self.q2v[0 if self.share else i](v, v_mask, q, q_mask)  # Eq. (11)
            weights.append(a)
            if i < self.n_rounds:
                q, _ = self.v2q[0 if self.share else i](q, q_mask, v, v_mask)  # Eq. (12)
        v_comp = self.pool(v, v_mask)  # Eq. (13): v_comp, the sum of all elements of V
        c = self.score_unit()(v_comp.unsqueeze(1), q, q_mask).squeeze(1)  # Eq. (13): c = E(v_comp, Q)
        return CCAOutput(c, weights, v, q, element_vla=self.score_unit()(v, q, q_mask))

