"""The assembled VLANet (Fig. 2): query encoder, proposals, surrogate selection, CCA, score.

Glossary: Bv videos and Bq queries in a batch, P (video, query) pairs scored, T feature rows,
K segment groups, L scales, M words, F feature size, D hidden size.

``score_pairs`` runs the whole network on any list of (video, query) index pairs, so positives
and in-batch negatives share one code path; videos and queries are encoded once per batch
(the "cheap win" of docs/CHOICES.md) however many pairs use them.
"""

from __future__ import annotations

import torch

from vlanet.config import ModelConfig
from vlanet.model.cca import CascadedCrossModalAttention, CCAOutput
from vlanet.model.encoders import Encoders, PairOutput, QueryEncoding, VideoEncoding
from vlanet.model.fused import fused_cca
from vlanet.model.surrogate import select_surrogates, selection_scores, straight_through


class VLANet(Encoders):
    def __init__(self, cfg: ModelConfig, feature_dim: int, word_vectors: torch.Tensor):
        super().__init__(cfg, feature_dim, word_vectors)
        d = cfg.hidden_dim
        self.cca = CascadedCrossModalAttention(
            d, self_attention=cfg.self_attention, cross_attention=cfg.cross_attention,
            cascade_steps=cfg.cascade_steps, final_q2v=cfg.final_q2v,
            share_weights=cfg.share_cascade_weights, scale=cfg.attention_scale,
            reduce=cfg.vla_reduce, temperature=cfg.vla_temperature, vcomp_pool=cfg.vcomp_pool,
            score_weights=cfg.score_weights,
        )

    # -- pairs ------------------------------------------------------------------------------
    def score_pairs(self, video: VideoEncoding, query: QueryEncoding,
                    video_idx: torch.Tensor, query_idx: torch.Tensor) -> PairOutput:
        """Run Eqs. (3)-(13) on pairs (video_idx[p], query_idx[p]); indices are (P,) long tensors."""
        bv, k, n_scales, d = video.proposals.shape
        table = video.proposals.reshape(-1, d)  # every proposal of the batch, one row each
        scores = None  # Eq. (3), needed to select surrogates, and in training for train.selection_weight
        if self.cfg.surrogate or self.training:
            scores = selection_scores(video.proposals, video.mask, query.last, video_idx, query_idx)
        selection = scores.flatten(1).amax(1) if self.training else None
        if self.cfg.surrogate:  # Eqs. (3)-(6): s_k is window k*L + l'_k of the pair's video
            window, best = select_surrogates(scores)
            v_mask = video.mask[video_idx].any(-1)  # (P, K)
        else:  # "w/o surrogate": every proposal is an element (Table 3)
            window = torch.arange(k * n_scales, device=table.device).expand(len(video_idx), -1)
            v_mask = video.mask[video_idx].reshape(len(video_idx), k * n_scales)
        rows = video_idx.unsqueeze(1) * (k * n_scales) + window  # the elements' rows of the table
        if self.cfg.surrogate and self.cfg.selection == "straight-through" and self.training:
            s = straight_through(video.proposals, scores, best, video_idx, self.cfg.selection_temperature)
            table, rows = s.reshape(-1, d), torch.arange(s.shape[0] * k, device=s.device).view(-1, k)
        out = self._cca_by_length(table, v_mask, query, query_idx, rows)  # Eqs. (9)-(13)
        return PairOutput(out.score, element_ranking(out, self.cfg.rank_by), window, v_mask, out, selection)

    def recombined_scores(self, video: VideoEncoding, query: QueryEncoding, out: PairOutput,
                          a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Eq. (14) as written (``train.negative_vcomp=reused``): for pairs (video a, query b) of a
        batch whose positive pairs (i, i) are ``out``, c = E(v_comp of (a, a), Q of (b, b)), the
        positive pair's v_comp (Eq. 13) against the other pair's attended words, so the negatives
        cost no network run.  Returns (c, Eq. (3)'s max p . w_M of (a, b) in training, else None)."""
        cca = out.cca
        v_comp = self.cca.pool(cca.v, out.element_mask)  # (B, D), as in Eq. (13)
        c = self.cca.score_unit()(v_comp[a].unsqueeze(1), cca.q[b], query.mask[b]).squeeze(1)
        selection = None
        if self.training:
            selection = selection_scores(video.proposals, video.mask, query.last, a, b).flatten(1).amax(1)
        return c, selection

    def _run_cca(self, *args) -> CCAOutput:
        """Eqs. (9)-(13) (``model.cca_impl``): the literal composition (cca.py) or the same
        numbers with less work (fused.py)."""
        return self.cca(*args) if self.cfg.cca_impl == "literal" else fused_cca(self.cca, *args)

    def _cca_by_length(self, table: torch.Tensor, v_mask: torch.Tensor, query: QueryEncoding,
                       query_idx: torch.Tensor, rows: torch.Tensor) -> CCAOutput:
        """The CCA on the pairs, in groups of similar length, each cut to its own longest pair.

        A batch pads every pair to its longest video, and V2V costs K^2 per pair: in a batch with
        one 194-s video (K = 561) among 30-s ones (K = 69) every pair would pay 561^2.  Pairs are
        sorted by their last valid element; a new group starts where a pair is shorter than
        ``PAIR_GROUP_RATIO`` times its group's longest.  Padded elements are zero vectors under
        a False mask, so cutting them changes no number (tests/model/test_network.py); the outputs are
        padded back to K and put back in pair order.
        """
        n_pairs, k = v_mask.shape
        ends = (v_mask * torch.arange(1, k + 1, device=v_mask.device)).amax(1)  # (P,) valid prefix length
        groups = length_groups(ends, PAIR_GROUP_RATIO)
        if len(groups) == 1 and int(groups[0][1]) == k:
            return self._run_cca(table, v_mask, query.q, query.mask, query_idx, rows)
        parts = [(idx, self._run_cca(table, v_mask[idx, :n], query.q, query.mask, query_idx[idx], rows[idx, :n]))
                 for idx, n in groups]
        return merge_pair_outputs(parts, n_pairs, k)


def element_ranking(out: CCAOutput, rank_by: str) -> torch.Tensor:
    """The scores that rank the video elements at test time (``model.rank_by``), (P, K):
    'q2v_last' the last Q2V attention, 'q2v_mean' the mean of every Q2V attention, 'vla'
    E(s_k, Q) per element (also the fallback without cross-attention)."""
    if rank_by == "q2v_last" and out.q2v_weights:
        return out.q2v_weights[-1]
    if rank_by == "q2v_mean" and out.q2v_weights:
        return torch.stack(out.q2v_weights).mean(0)
    return out.element_vla


# A new length group starts where a pair is shorter than this times its group's longest pair
# (0 disables grouping).  Same numbers either way; measured in docs/PERFORMANCE.md.
PAIR_GROUP_RATIO = 0.67


def length_groups(ends: torch.Tensor, ratio: float) -> list[tuple[torch.Tensor, int]]:
    """Pairs sorted by length, longest first, cut into groups: [(pair indices, group length)]."""
    if ratio <= 0 or len(ends) == 0:
        return [(torch.arange(len(ends), device=ends.device), int(ends.max()) if len(ends) else 0)]
    order = torch.argsort(ends, descending=True, stable=True)
    lengths = ends[order].tolist()
    groups, start = [], 0
    for i in range(1, len(lengths) + 1):
        if i == len(lengths) or lengths[i] < ratio * lengths[start]:
            groups.append((order[start:i], max(1, lengths[start])))
            start = i
    return groups


def merge_pair_outputs(parts: list[tuple[torch.Tensor, CCAOutput]], n_pairs: int, k: int) -> CCAOutput:
    """CCA outputs of pair groups -> one output in pair order, element axes padded back to K."""

    def stitch(tensors: list[torch.Tensor], pad_k: bool) -> torch.Tensor:
        first = tensors[0]
        out = first.new_zeros((n_pairs, k, *first.shape[2:]) if pad_k else (n_pairs, *first.shape[1:]))
        for (idx, _), t in zip(parts, tensors):
            if pad_k:
                out[idx, :t.shape[1]] = t
            else:
                out[idx] = t
        return out

    def field(name: str, pad_k: bool) -> torch.Tensor | None:
        tensors = [getattr(o, name) for _, o in parts]
        return None if tensors[0] is None else stitch(tensors, pad_k)

    n_q2v = len(parts[0][1].q2v_weights)
    return CCAOutput(
        score=field("score", False), q2v_weights=[stitch([o.q2v_weights[i] for _, o in parts], True) for i in range(n_q2v)],
        v_base=field("v_base", True), q_base=field("q_base", False), v_scale=field("v_scale", True),
        q_scale=field("q_scale", False), element_vla=field("element_vla", True))
