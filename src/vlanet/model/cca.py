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

Two implementations of the same function:

* ``reference_forward`` composes Dense Attentions (attention.py) exactly as Eqs. (9)-(13) read.
* ``forward`` (used everywhere) gives the same numbers with less work.  Eq. (8) only rescales the
  rows of its set, so after any cascade V = diag(cv) V0 and Q = diag(cq) Q0 for the sets V0, Q0
  that enter the CCA.  Every Eq. (7) term between video and words is then
  tanh(cv_k cq_m <V0_k A Q0_m>) with A = W1^T W2 of that attention unit, so one batched product
  of V0 with the projected words of all units gives every term of the cascade and of Eq. (13)
  (v_comp = sum_k cv_k V0_k is linear too).  The cascade itself then works on (P, K, M) tensors
  and the (P, K) scales instead of rescaled (P, K, D) copies of the video.  Only V2V (Eq. 9)
  needs its own (P, K, K) product.  tests/test_model.py checks the two agree.
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

    def _pool(self, x: torch.Tensor, v_mask: torch.Tensor) -> torch.Tensor:
        """Eq. (13)'s v_comp = sum_k x_k for x (P, K, C), or the mean with ``vcomp_pool='mean'``."""
        pooled = (x * v_mask.unsqueeze(-1).to(x.dtype)).sum(1)
        if self.vcomp_pool == "mean":
            pooled = pooled / v_mask.sum(1, keepdim=True).clamp(min=1).to(x.dtype)
        return pooled

    def forward(self, v: torch.Tensor, v_mask: torch.Tensor, q: torch.Tensor, q_mask: torch.Tensor,
                q_index: torch.Tensor | None = None) -> CCAOutput:
        """v (P, K, D), v_mask (P, K); q (B, M, D), q_mask (B, M), pair p uses sentence q_index[p]
        (None: B = P, one sentence per pair).  Padded elements are zero vectors."""
        cv = v.new_ones(v.shape[:2])  # V = diag(cv) v throughout
        cq = q.new_ones(q.shape[:2])  # Q = diag(cq) q
        if self.self_attention:
            cv, _ = self.v2v.weigh(self.v2v.vla(v, v, v_mask), v_mask)  # Eq. (9)
            cq, _ = self.q2q.weigh(self.q2q.vla(q, q, q_mask), q_mask)  # Eq. (10), once per sentence
        # <v_k A q_m> for every unit that pairs video with words, in one product: (P, K, M) each.
        # Q2V and Eq. (13) attend the video with the words (video on the x side of Eq. 7: q A^T);
        # V2Q attends the words with the video (words on the x side: q A).  The words are
        # projected once per sentence, then gathered per pair.
        sides = [(u.vla, True) for u in self.q2v] + [(u.vla, False) for u in self.v2q] + [(self.score_vla, True)]
        z = torch.cat([q @ (vla.bilinear().t() if video_x else vla.bilinear()) for vla, video_x in sides], dim=1)
        if q_index is not None:
            z, q, q_mask, cq = z[q_index], q[q_index], q_mask[q_index], cq[q_index]
        g = torch.bmm(v, z.transpose(1, 2)).split(q.shape[1], dim=2)
        g_q2v, g_v2q, g_score = g[:len(self.q2v)], g[len(self.q2v):-1], g[-1]
        weights: list[torch.Tensor] = []
        for i in range(self.n_q2v):
            j = 0 if self.share else i
            unit = self.q2v[j]
            w, a = unit.weigh(unit.vla.from_products(g_q2v[j], cv, cq, q_mask), v_mask)  # Eq. (11)
            cv = cv * w
            weights.append(a)
            if i < self.n_rounds:
                unit = self.v2q[j]
                e = unit.vla.from_products(g_v2q[j].transpose(1, 2), cq, cv, v_mask)  # Eq. (12)
                cq = cq * unit.weigh(e, q_mask)[0]
        # Eq. (13): v_comp = sum_k V_k = sum_k cv_k v_k, so <v_comp A q_m> = sum_k cv_k <v_k A q_m>
        g_comp = self._pool(cv.unsqueeze(-1) * g_score, v_mask)  # (P, M)
        c = self.score_vla.from_products(g_comp.unsqueeze(1), cv.new_ones(len(cv), 1), cq, q_mask).squeeze(1)
        element_vla = self.score_vla.from_products(g_score, cv, cq, q_mask)  # E(V_k, Q), ranking option 'vla'
        return CCAOutput(c, weights, v, q, cv, cq, element_vla)

    def reference_forward(self, v: torch.Tensor, v_mask: torch.Tensor, q: torch.Tensor, q_mask: torch.Tensor,
                          q_index: torch.Tensor | None = None) -> CCAOutput:
        """Eqs. (9)-(13) composed literally, one Dense Attention at a time (same result as forward)."""
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
        v_comp = self._pool(v, v_mask)  # Eq. (13): sum of all elements of V
        c = self.score_vla(v_comp.unsqueeze(1), q, q_mask).squeeze(1)  # Eq. (13): c = E(v_comp, Q)
        return CCAOutput(c, weights, v, q, element_vla=self.score_vla(v, q, q_mask))
