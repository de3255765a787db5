"""Section 3.2, query representation -- Eq. (1).

    Q = [w_1 ... w_M],  w_m = m-th GRU hidden state, each L2-normalised.

Glossary: M words, D hidden size, ``words`` (B, M) token ids into the frozen word-vector table,
``word_mask`` (B, M) True = real word.  The word vectors themselves (GloVe, or the synthetic
dataset's own) are kept in the model, so that a checkpoint can embed new sentences on its own;
frozen by default (the paper does not say; TGA keeps GloVe fixed).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from vlanet.model.unit import unit_rows


class QueryEncoder(nn.Module):
    """``freeze_words`` (model.freeze_word_vectors): the table is a buffer, else a trained
    parameter.  ``fc`` (model.query_fc): a linear layer after the GRU, the "FC that resizes Q"
    of Fig. 2; without it the GRU's hidden size is already D."""

    def __init__(self, word_vectors: torch.Tensor, hidden_dim: int, freeze_words: bool = True, fc: bool = False):
        super().__init__()
        if freeze_words:
            self.register_buffer("word_vectors", word_vectors.float(), persistent=True)  # (V, Dw)
        else:
            self.word_vectors = nn.Parameter(word_vectors.float().clone())
        self.gru = nn.GRU(word_vectors.shape[1], hidden_dim, batch_first=True)
        self.fc = nn.Linear(hidden_dim, hidden_dim) if fc else None

    def forward(self, words: torch.Tensor, word_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Returns Q (B, M, D) with unit rows (zeros at padding) and w_M (B, D), the last state."""
        x = self.word_vectors[words]  # (B, M, Dw)
        lengths = word_mask.sum(1).clamp(min=1)
        packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        out, _ = self.gru(packed)
        q, _ = pad_packed_sequence(out, batch_first=True, total_length=words.shape[1])  # (B, M, D)
        if self.fc is not None:
            q = self.fc(q)
        q = unit_rows(q, word_mask)  # Eq. (1): each w_m is a unit vector, padding 0
        last = q[torch.arange(q.shape[0], device=q.device), lengths - 1]  # w_M (B, D)
        return q, last
