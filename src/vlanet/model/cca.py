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
  that enter the CCA.  Every Eq. (7) term is then tanh(cv_k c_j <V0_k A Y0_j>) with A = W1^T W2
  of that attention unit, and every term but Q2Q's (once per sentence) has V0 on one side:
  V2V's against V0 A^T, the video-word units' against the projected words.  So one batched
  product per pair, of V0 against all of those rows, gives every term of the cascade and of
  Eq. (13) (v_comp = sum_k cv_k V0_k is linear too); the cascade itself then works on (P, K, M) tensors and the
  (P, K) scales instead of rescaled (P, K, D) copies of the video.  V0 is given as rows of a
  table (the batch's proposals) and an index, so the projections are done once per proposal
  and once per sentence, never per pair.  tests/model/test_network.py checks the two agree.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from vlanet.model.attention import (
    VLA,
    DenseAttention,
    tanh_grad_from_sigmoid,
    tanh_sum_from_sigmoid,
)


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


class _PairProducts(torch.autograd.Function):
    """rhs (P, n + W, D) against v0 (P, K, D): prod = rhs v0^T (P, n + W, K), returned as
    (sum over the first n rows of tanh(prod) (P, K), the other rows (P, W, K)).

    What autograd would do with bmm, tanh and two slices, with the products' gradient assembled
    in one buffer (no zero-filled copies per slice) and both input gradients contiguous.  The
    tanh terms are 2 sigmoid(2 x) - 1 (the same function, see ``attention.scaled_tanh_sum``), computed
    in place in the products' buffer.
    """

    @staticmethod
    def forward(ctx, rhs: torch.Tensor, v0: torch.Tensor, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        prod = torch.bmm(rhs, v0.transpose(1, 2))
        s = prod[:, :n].mul_(2).sigmoid_()  # tanh(x) = 2 s - 1
        ctx.save_for_backward(rhs, v0, s)
        ctx.n = n
        rest = prod[:, n:]
        # Training saves s, a view of prod, so a view of the rest costs nothing; without
        # gradients a copy lets the (P, K, K) V2V block go (a 1-h video: 467 MB).
        e = tanh_sum_from_sigmoid(s, 1)
        return e, rest if any(ctx.needs_input_grad[:2]) else rest.clone()

    @staticmethod
    def backward(ctx, d_sum: torch.Tensor | None, d_rest: torch.Tensor | None):
        rhs, v0, s = ctx.saved_tensors
        n = ctx.n
        # In the products' dtype (bf16 under autocast, as autograd of an autocast bmm would do),
        # the gradients then returned in the inputs' dtypes.
        d_prod = s.new_empty(rhs.shape[0], rhs.shape[1], v0.shape[1])
        if d_sum is None:
            d_prod[:, :n] = 0
        else:
            tanh_grad_from_sigmoid(s, d_sum.unsqueeze(1), out=d_prod[:, :n])
        d_prod[:, n:] = 0 if d_rest is None else d_rest
        rhs_c, v0_c = rhs.to(s.dtype), v0.to(s.dtype)
        return torch.bmm(d_prod, v0_c).to(rhs.dtype), torch.bmm(d_prod.transpose(1, 2), rhs_c).to(v0.dtype), None


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
        """v (P, K, D) the elements of each pair, or with ``v_index`` (P, K) a table (R, D) whose
        rows v[v_index[p]] are pair p's elements (surrogates are rows of the proposal table, so
        V2V's projection is done once per proposal rather than once per pair).  v_mask (P, K);
        q (B, M, D), q_mask (B, M), pair p uses sentence q_index[p] (None: B = P, one sentence per
        pair).  Padded elements are zero vectors."""
        d = v.shape[-1]
        if v_index is None:
            v_index = torch.arange(v.shape[0] * v.shape[1], device=v.device).view(v.shape[:2])
            v = v.reshape(-1, d)
        if q_index is None:
            q_index = torch.arange(q.shape[0], device=q.device)
        n_pairs, k = v_index.shape
        cq = q.new_ones(q.shape[:2])  # Q = diag(cq) q
        if self.self_attention:
            cq, _ = self.q2q.weigh(self.q2q.vla(q, q, q_mask), q_mask)  # Eq. (10), once per sentence
        # Every product the CCA still needs involves pair p's elements V0, so one batched matmul
        # per pair gives them all: V0 against the words projected by every unit that pairs video
        # with words and, for V2V (Eq. 9), against V0's own rows projected by A^T.  Q2V and
        # Eq. (13) attend the video with the words (video on the x side of Eq. 7: q A^T); V2Q
        # attends the words with the video (words on the x side: q A).  Both are projected once
        # (per proposal, per sentence), then gathered per pair into ``rhs``.
        sides = [(u.vla, True) for u in self.q2v] + [(u.vla, False) for u in self.v2q] + [(self.score_unit(), True)]
        z = torch.cat([q @ (vla.bilinear().t() if video_x else vla.bilinear()) for vla, video_x in sides], dim=1)
        n_words = z.shape[1]
        words_index = q_index.unsqueeze(1) * n_words + torch.arange(n_words, device=q.device)  # rows of z
        if self.self_attention:
            rows = torch.cat([v @ self.v2v.vla.bilinear().t(), z.reshape(-1, d)])
            rows_index = torch.cat([v_index, words_index + v.shape[0]], dim=1)
        else:
            rows, rows_index = z.reshape(-1, d), words_index
        v0 = v.index_select(0, v_index.reshape(-1)).view(n_pairs, k, d)
        rhs = rows.index_select(0, rows_index.reshape(-1)).view(n_pairs, -1, d)
        e_v2v, g = self._products(v0, rhs, k if self.self_attention else 0)
        q_mask, cq = q_mask[q_index], cq[q_index]
        cv = v.new_ones(n_pairs, k)  # V = diag(cv) V0 throughout
        if self.self_attention:
            cv, _ = self.v2v.weigh(self.v2v.vla.normalise(e_v2v, v_mask), v_mask)  # Eq. (9)
        g = g.split(q.shape[1], dim=1)  # per unit (P, M, K): words by elements
        g_q2v, g_v2q, g_score = g[:len(self.q2v)], g[len(self.q2v):-1], g[-1].transpose(1, 2)
        weights: list[torch.Tensor] = []
        for i in range(self.n_q2v):
            j = 0 if self.share else i
            unit = self.q2v[j]
            w, a = unit.weigh(unit.vla.from_products(g_q2v[j].transpose(1, 2), cv, cq, q_mask), v_mask)  # Eq. (11)
            cv = cv * w
            weights.append(a)
            if i < self.n_rounds:
                unit = self.v2q[j]
                e = unit.vla.from_products(g_v2q[j], cq, cv, v_mask)  # Eq. (12)
                cq = cq * unit.weigh(e, q_mask)[0]
        # Eq. (13): v_comp = sum_k V_k = sum_k cv_k v_k, so <v_comp A q_m> = sum_k cv_k <v_k A q_m>
        g_comp = self.pool(cv.unsqueeze(-1) * g_score, v_mask)  # (P, M)
        c = self.score_unit().from_products(g_comp.unsqueeze(1), cv.new_ones(len(cv), 1), cq, q_mask).squeeze(1)
        element_vla = self.score_unit().from_products(g_score, cv, cq, q_mask)  # E(V_k, Q), ranking option 'vla'
        return CCAOutput(c, weights, v0, q[q_index], cv, cq, element_vla)

    @staticmethod
    def _products(v0: torch.Tensor, rhs: torch.Tensor, n_self: int) -> tuple[torch.Tensor, torch.Tensor]:
        """v0 (P, K, D) against rhs (P, n_self + W, D): the V2V terms of Eq. (7) summed over the
        first n_self rows of rhs, tanh(v0_k A v0_j) -> (P, K), and the other products (P, W, K).

        The products are laid out (P, n_self + W, K); _PairProducts returns both gradients
        contiguous (autograd's bmm against a transposed view would hand v0's back transposed).
        The caller splits the W rows per attention unit before transposing them, so that their
        gradients come back as contiguous blocks of the (P, W, K) layout.
        Long videos (V2V is quadratic in K) go in slices of K, so the (P, K, K) term never
        exists at once beyond ``VLA.chunk_elems`` elements.
        """
        n_pairs, k = v0.shape[:2]
        cols = max(1, VLA.chunk_elems // max(1, n_pairs * rhs.shape[1]))
        parts = [_PairProducts.apply(rhs, v0[:, i:i + cols], n_self) for i in range(0, k, cols)]
        if len(parts) == 1:
            return parts[0]
        return torch.cat([e for e, _ in parts], 1), torch.cat([g for _, g in parts], 2)

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
        v_comp = self.pool(v, v_mask)  # Eq. (13): sum of all elements of V
        c = self.score_unit()(v_comp.unsqueeze(1), q, q_mask).squeeze(1)  # Eq. (13): c = E(v_comp, Q)
        return CCAOutput(c, weights, v, q, element_vla=self.score_unit()(v, q, q_mask))
