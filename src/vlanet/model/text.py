"""Section 3.2, query representation -- Eq. (1).

    Q = [w_1 ... w_M],  w_m = m-th GRU hidden state, each L2-normalised.

Glossary: M words, D hidden size, ``words`` (B, M) token ids into the frozen word-vector table,
``word_mask`` (B, M) True = real word.  The word vectors themselves (GloVe, or the synthetic
dataset's own) are a frozen buffer so that a checkpoint can embed new sentences on its own.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from vlanet.model.unit import unit_rows


class QueryEncoder(nn.Module):
    def __init__(self, word_vectors: torch.Tensor, hidden_dim: int):
        super().__init__()
        self.register_buffer("word_vectors", word_vectors.float(), persistent=True)  # (V, Dw)
        self.gru = nn.GRU(word_vectors.shape[1], hidden_dim, batch_first=True)

    def forward(self, words: torch.Tensor, word_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Returns Q (B, M, D) with unit rows (zeros at padding) and w_M (B, D), the last state."""
        x = self.word_vectors[words]  # (B, M, Dw)
        lengths = word_mask.sum(1).clamp(min=1)
        packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        out, _ = self.gru(packed)
        q, _ = pad_packed_sequence(out, batch_first=True, total_length=words.shape[1])  # (B, M, D)
        q = unit_rows(q, word_mask)  # Eq. (1): each w_m is a unit vector, padding 0
        last = q[torch.arange(q.shape[0], device=q.device), lengths - 1]  # w_M (B, D)
        return q, last
