"""The cascade of Eqs. (9)-(13) computed with less work: the default (``model.cca_impl: fused``).

Same numbers as ``cca.CascadedCrossModalAttention.forward`` (the literal composition; tests in
tests/model/test_attention.py check scores, weights and gradients in float64 for every switch).

Why it is equal: Eq. (8) only rescales the rows of its set, so after any cascade V = diag(cv) V0
and Q = diag(cq) Q0 for the sets V0, Q0 that enter the CCA.  Every Eq. (7) term is then
tanh(cv_k c_j <V0_k A Y0_j>) with A = W1^T W2 of that attention unit, and every term but Q2Q's
(once per sentence) has V0 on one side: V2V's against V0 A^T, the video-word units' against the
projected words.  So one batched product per pair, of V0 against all of those rows, gives every
term of the cascade and of Eq. (13) (v_comp = sum_k cv_k V0_k is linear too); the cascade then
works on (P, K, M) tensors and the (P, K) scales instead of rescaled (P, K, D) copies of the
video.  V0 is given as rows of a table (the batch's proposals) and an index, so the projections
are done once per proposal and once per sentence, never per pair.  Measured in
docs/PERFORMANCE.md.
"""

from __future__ import annotations

import torch

from vlanet.model.attention import VLA, tanh_grad_from_sigmoid, tanh_sum_from_sigmoid
from vlanet.model.cca import CascadedCrossModalAttention, CCAOutput


def fused_cca(cca: CascadedCrossModalAttention, v: torch.Tensor, v_mask: torch.Tensor, q: torch.Tensor,
              q_mask: torch.Tensor, q_index: torch.Tensor | None = None,
              v_index: torch.Tensor | None = None) -> CCAOutput:
    """``cca.forward``'s arguments and result, from one batched product per pair."""
    d = v.shape[-1]
    v, v_index, q_index = _pair_index(v, q, q_index, v_index)
    n_pairs, k = v_index.shape
    cq = q.new_ones(q.shape[:2])  # Q = diag(cq) q
    if cca.self_attention:
        cq, _ = cca.q2q.weigh(cca.q2q.vla(q, q, q_mask), q_mask)  # Eq. (10), once per sentence
    # Q2V and Eq. (13) attend the video with the words (video on the x side of Eq. 7: q A^T);
    # V2Q attends the words with the video (words on the x side: q A).  Projected once per
    # sentence, then gathered per pair into ``rhs`` with V2V's V0 A^T rows.
    sides = [(u.vla, True) for u in cca.q2v] + [(u.vla, False) for u in cca.v2q] + [(cca.score_unit(), True)]
    z = torch.cat([q @ (vla.bilinear().t() if video_x else vla.bilinear()) for vla, video_x in sides], dim=1)
    n_words = z.shape[1]
    words_index = q_index.unsqueeze(1) * n_words + torch.arange(n_words, device=q.device)  # rows of z
    if cca.self_attention:
        rows = torch.cat([v @ cca.v2v.vla.bilinear().t(), z.reshape(-1, d)])
        rows_index = torch.cat([v_index, words_index + v.shape[0]], dim=1)
    else:
        rows, rows_index = z.reshape(-1, d), words_index
    v0 = v.index_select(0, v_index.reshape(-1)).view(n_pairs, k, d)
    rhs = rows.index_select(0, rows_index.reshape(-1)).view(n_pairs, -1, d)
    e_v2v, g = _products(v0, rhs, k if cca.self_attention else 0)
    q_mask, cq = q_mask[q_index], cq[q_index]
    cv = v.new_ones(n_pairs, k)  # V = diag(cv) V0 throughout
    if cca.self_attention:
        cv, _ = cca.v2v.weigh(cca.v2v.vla.normalise(e_v2v, v_mask), v_mask)  # Eq. (9)
    g = g.split(q.shape[1], dim=1)  # per unit (P, M, K): words by elements
    g_q2v, g_v2q, g_score = g[:len(cca.q2v)], g[len(cca.q2v):-1], g[-1].transpose(1, 2)
    weights: list[torch.Tensor] = []
    for i in range(cca.n_q2v):
        j = 0 if cca.share else i
        unit = cca.q2v[j]
        w, a = unit.weigh(unit.vla.from_products(g_q2v[j].transpose(1, 2), cv, cq, q_mask), v_mask)  # Eq. (11)
        cv = cv * w
        weights.append(a)
        if i < cca.n_rounds:
            unit = cca.v2q[j]
            cq = cq * unit.weigh(unit.vla.from_products(g_v2q[j], cq, cv, v_mask), q_mask)[0]  # Eq. (12)
    # Eq. (13): v_comp = sum_k V_k = sum_k cv_k v_k, so <v_comp A q_m> = sum_k cv_k <v_k A q_m>
    g_comp = cca.pool(cv.unsqueeze(-1) * g_score, v_mask)  # (P, M)
    score = cca.score_unit()
    c = score.from_products(g_comp.unsqueeze(1), cv.new_ones(len(cv), 1), cq, q_mask).squeeze(1)
    element_vla = score.from_products(g_score, cv, cq, q_mask)  # E(V_k, Q), ranking option 'vla'
    return CCAOutput(c, weights, v0, q[q_index], cv, cq, element_vla)


def _products(v0: torch.Tensor, rhs: torch.Tensor, n_self: int) -> tuple[torch.Tensor, torch.Tensor]:
    """v0 (P, K, D) against rhs (P, n_self + W, D): the V2V terms of Eq. (7) summed over the
    first n_self rows of rhs, tanh(v0_k A v0_j) -> (P, K), and the other products (P, W, K).

    The caller splits the W rows per attention unit before transposing them, so that their
    gradients come back as contiguous blocks of the (P, W, K) layout.  Long videos (V2V is
    quadratic in K) go in slices of K, so the (P, K, K) term never exists at once beyond
    ``VLA.chunk_elems`` elements.
    """
    n_pairs, k = v0.shape[:2]
    cols = max(1, VLA.chunk_elems // max(1, n_pairs * rhs.shape[1]))
    parts = [PairProducts.apply(rhs, v0[:, i:i + cols], n_self) for i in range(0, k, cols)]
    if len(parts) == 1:
        return parts[0]
    return torch.cat([e for e, _ in parts], 1), torch.cat([g for _, g in parts], 2)


class PairProducts(torch.autograd.Function):
    """rhs (P, n + W, D) against v0 (P, K, D): prod = rhs v0^T (P, n + W, K), returned as
    (sum over the first n rows of tanh(prod) (P, K), the other rows (P, W, K)).

    What autograd would do with bmm, tanh and two slices, with the products' gradient assembled
    in one buffer and both input gradients contiguous.  The tanh terms are 2 sigmoid(2 x) - 1
    (the same function, see ``attention.scaled_tanh_sum``), computed in the products' buffer.
    """

    @staticmethod
    def forward(ctx, rhs: torch.Tensor, v0: torch.Tensor, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        prod = torch.bmm(rhs, v0.transpose(1, 2))
        s = prod[:, :n].mul_(2).sigmoid_()  # tanh(x) = 2 s - 1
        ctx.save_for_backward(rhs, v0, s)
        ctx.n = n
        rest = prod[:, n:]
        # Training saves s, a view of prod, so a view of the rest costs nothing; without
        # gradients a copy lets the (P, K, K) V2V block go.
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


def _pair_index(v: torch.Tensor, q: torch.Tensor, q_index: torch.Tensor | None,
                v_index: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The CCA's inputs as (table of elements (R, D), v_index (P, K), q_index (P,)): v (P, K, D)
    without an index becomes its own table; no q_index means one sentence per pair."""
    if v_index is None:
        v_index = torch.arange(v.shape[0] * v.shape[1], device=v.device).view(v.shape[:2])
        v = v.reshape(-1, v.shape[-1])
    if q_index is None:
        q_index = torch.arange(q.shape[0], device=q.device)
    return v, v_index, q_index
