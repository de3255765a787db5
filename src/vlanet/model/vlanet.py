"""The assembled VLANet (Fig. 2): query encoder, proposals, surrogate selection, CCA, score.

Glossary: Bv videos and Bq queries in a batch, P (video, query) pairs scored, T feature rows,
K segment groups, L scales, M words, F feature size, D hidden size.

``score_pairs`` runs the whole network on any list of (video, query) index pairs, so positives
and in-batch negatives share one code path; videos and queries are encoded once per batch
(the "cheap win" of docs/CHOICES.md) however many pairs use them.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from vlanet.config import ModelConfig
from vlanet.model.cca import CascadedCrossModalAttention, CCAOutput
from vlanet.model.proposals import ProposalEncoder
from vlanet.model.surrogate import surrogate_scales
from vlanet.model.text import QueryEncoder


@dataclass
class VideoEncoding:
    proposals: torch.Tensor  # V of Eq. (2), (Bv, K, L, D)
    mask: torch.Tensor  # (Bv, K, L) True = valid proposal


@dataclass
class QueryEncoding:
    q: torch.Tensor  # Q of Eq. (1), (Bq, M, D)
    mask: torch.Tensor  # (Bq, M)
    last: torch.Tensor  # w_M (Bq, D)


@dataclass
class PairOutput:
    score: torch.Tensor  # c (P,)
    element_scores: torch.Tensor  # (P, N) ranking score of each attended video element
    element_window: torch.Tensor  # (P, N) flat index k*L + l of the window behind each element
    element_mask: torch.Tensor  # (P, N)
    cca: CCAOutput


class Encoders(nn.Module):
    """What VLANet and the TGA baseline share: Eq. (1) for queries, Eq. (2) for videos."""

    def __init__(self, cfg: ModelConfig, feature_dim: int, word_vectors: torch.Tensor):
        super().__init__()
        self.cfg = cfg
        self.query_encoder = QueryEncoder(word_vectors, cfg.hidden_dim)
        self.proposal_encoder = ProposalEncoder(feature_dim, cfg.hidden_dim)
        self.dropout = nn.Dropout(cfg.dropout)

    def encode_video(self, feats: torch.Tensor, row_mask: torch.Tensor, windows: torch.Tensor,
                     win_mask: torch.Tensor) -> VideoEncoding:
        """feats (Bv, T, F), row_mask (Bv, T), windows (Bv, K, L, 2) in rows, win_mask (Bv, K, L)."""
        p = self.proposal_encoder(self.dropout(feats), row_mask, windows)  # Eq. (2)
        return VideoEncoding(p * win_mask.unsqueeze(-1), win_mask)

    def encode_query(self, words: torch.Tensor, word_mask: torch.Tensor) -> QueryEncoding:
        q, last = self.query_encoder(words, word_mask)  # Eq. (1)
        return QueryEncoding(q, word_mask, last)


class VLANet(Encoders):
    def __init__(self, cfg: ModelConfig, feature_dim: int, word_vectors: torch.Tensor):
        super().__init__(cfg, feature_dim, word_vectors)
        d = cfg.hidden_dim
        self.cca = CascadedCrossModalAttention(
            d, self_attention=cfg.self_attention, cross_attention=cfg.cross_attention,
            cascade_steps=cfg.cascade_steps, final_q2v=cfg.final_q2v,
            share_weights=cfg.share_cascade_weights, scale=cfg.attention_scale,
            reduce=cfg.vla_reduce, temperature=cfg.vla_temperature, vcomp_pool=cfg.vcomp_pool,
        )

    # -- pairs ------------------------------------------------------------------------------
    def score_pairs(self, video: VideoEncoding, query: QueryEncoding,
                    video_idx: torch.Tensor, query_idx: torch.Tensor) -> PairOutput:
        """Run Eqs. (3)-(13) on pairs (video_idx[p], query_idx[p]); indices are (P,) long tensors."""
        bv, k, n_scales, d = video.proposals.shape
        table = video.proposals.reshape(-1, d)  # every proposal of the batch, one row each
        if self.cfg.surrogate:  # Eqs. (3)-(6): s_k is window k*L + l'_k of the pair's video
            best = surrogate_scales(video.proposals, video.mask, query.last, video_idx, query_idx)
            window = torch.arange(k, device=best.device) * n_scales + best  # (P, K)
            v_mask = video.mask[video_idx].any(-1)  # (P, K)
        else:  # "w/o surrogate": every proposal is an element (Table 3)
            window = torch.arange(k * n_scales, device=table.device).expand(len(video_idx), -1)
            v_mask = video.mask[video_idx].reshape(len(video_idx), k * n_scales)
        rows = video_idx.unsqueeze(1) * (k * n_scales) + window  # the elements' rows of the table
        out = self.cca(table, v_mask, query.q, query.mask, query_idx, rows)  # Eqs. (9)-(13)
        rank = self.cfg.rank_by
        if rank == "q2v_last" and out.q2v_weights:
            scores = out.q2v_weights[-1]
        elif rank == "q2v_mean" and out.q2v_weights:
            scores = torch.stack(out.q2v_weights).mean(0)
        else:  # "vla": E(s_k, Q) per element, also the fallback without cross-attention
            scores = out.element_vla
        return PairOutput(out.score, scores, window, v_mask, out)
