"""What VLANet and the TGA baseline share (Section 3.2): Eq. (1) encodes a query, Eq. (2) a
video's proposals; and what a model's ``score_pairs`` returns.

Glossary: Bv videos and Bq queries in a batch, P (video, query) pairs scored, K segment groups,
L scales, M words, N attended video elements, D hidden size.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from vlanet.config import ModelConfig
from vlanet.model.cca import CCAOutput
from vlanet.model.proposals import ProposalEncoder
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
    cca: CCAOutput | None  # None for models without the cascade (CNM, CPL)
    selection: torch.Tensor | None = None  # max over the pair's proposals of Eq. (3)'s p . w_M (P,)
    # (P, N, 2) start and end of each element as a fraction of the video, for models whose
    # elements are free spans (CNM's and CPL's Gaussians) rather than windows of the grid
    element_span: torch.Tensor | None = None


class Encoders(nn.Module):
    """What VLANet and the TGA baseline share: Eq. (1) for queries, Eq. (2) for videos."""

    def __init__(self, cfg: ModelConfig, feature_dim: int, word_vectors: torch.Tensor):
        super().__init__()
        self.cfg, self.feature_dim = cfg, feature_dim
        self.query_encoder = QueryEncoder(word_vectors, cfg.hidden_dim, cfg.freeze_word_vectors, cfg.query_fc)
        self.proposal_encoder = ProposalEncoder(feature_dim, cfg.hidden_dim)
        self.dropout = nn.Dropout(cfg.dropout)

    def encode_video(self, feats: torch.Tensor, row_mask: torch.Tensor, windows: torch.Tensor,
                     win_mask: torch.Tensor) -> VideoEncoding:
        """feats (Bv, T, F), row_mask (Bv, T), windows (Bv, K, L, 2) in rows, win_mask (Bv, K, L)."""
        p = self.proposal_encoder(self.dropout(feats), row_mask, windows, win_mask)  # Eq. (2)
        return VideoEncoding(p, win_mask)

    def encode_query(self, words: torch.Tensor, word_mask: torch.Tensor) -> QueryEncoding:
        q, last = self.query_encoder(words, word_mask)  # Eq. (1)
        return QueryEncoding(q, word_mask, last)
