"""The transformer decoder that CNM and CPL share: attention whose weights a Gaussian mask can
reweight.

    A = softmax(Q K^T / sqrt(d) + bias),  then with a mask g over the keys:
    A_g[i, j] = A[i, j] g_j / sum_j' A[i, j'] g_j'        (CNM Sec. 3, CPL Sec. 3: the
                                                            "Gaussian-weighted" attention)

which equals softmax(Q K^T / sqrt(d) + bias + log g), so it runs as one fused attention call
(``gaussian_bias``; a small floor keeps log g finite where g is 0).  Each layer is
self-attention, optional cross-attention to a memory, and a feed-forward block, each with a
residual and a LayerNorm after it (post-norm), as in both papers' code.

Glossary: B sequences, N queries, S keys, D hidden size, H heads.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

GAUSS_FLOOR = 1e-10  # g + this before the log: a key with g = 0 keeps a vanishing weight


def gaussian_bias(key_mask: torch.Tensor, gauss: torch.Tensor | None, n_queries: int,
                  causal: bool) -> torch.Tensor:
    """The additive attention bias (B, 1, N, S): -inf at padded keys (and future keys when
    ``causal``), log(g + floor) of the Gaussian over the keys."""
    b, s = key_mask.shape
    bias = torch.zeros(b, 1, n_queries, s, device=key_mask.device)
    if gauss is not None:
        bias = bias + torch.log(gauss + GAUSS_FLOOR)[:, None, None, :]
    blocked = ~key_mask[:, None, None, :]
    if causal:
        future = torch.ones(n_queries, s, dtype=torch.bool, device=key_mask.device).triu(1)
        blocked = blocked | future
    return bias.masked_fill(blocked, float("-inf"))


class Attention(nn.Module):
    """Multi-head attention; ``bias`` as ``gaussian_bias`` builds it.  No dropout on the
    attention weights (the papers' code sets none; dropout acts on the residual branches)."""

    def __init__(self, d: int, heads: int):
        super().__init__()
        self.heads = heads
        self.q, self.k, self.v, self.out = (nn.Linear(d, d) for _ in range(4))

    def forward(self, x: torch.Tensor, memory: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape

        def split(t: torch.Tensor) -> torch.Tensor:  # (B, S, D) -> (B, H, S, D/H)
            return t.view(b, t.shape[1], self.heads, d // self.heads).transpose(1, 2)

        y = F.scaled_dot_product_attention(split(self.q(x)), split(self.k(memory)), split(self.v(memory)),
                                           attn_mask=bias.to(x.dtype))
        return self.out(y.transpose(1, 2).reshape(b, n, d))


class DecoderLayer(nn.Module):
    def __init__(self, d: int, heads: int, dropout: float):
        super().__init__()
        self.self_attn, self.cross_attn = Attention(d, heads), Attention(d, heads)
        self.norm1, self.norm2, self.norm3 = nn.LayerNorm(d), nn.LayerNorm(d), nn.LayerNorm(d)
        self.ff = nn.Sequential(nn.Linear(d, 2 * d), nn.ReLU(), nn.Linear(2 * d, d))
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, self_bias: torch.Tensor, memory: torch.Tensor | None,
                cross_bias: torch.Tensor | None) -> torch.Tensor:
        x = self.norm1(x + self.drop(self.self_attn(x, x, self_bias)))
        if memory is not None:
            x = self.norm2(x + self.drop(self.cross_attn(x, memory, cross_bias)))
        return self.norm3(x + self.drop(self.ff(x)))


class Decoder(nn.Module):
    """A stack of ``DecoderLayer``.  ``self_gauss`` reweights the self-attention's keys (the
    sequence's own positions), ``memory_gauss`` the cross-attention's (the memory's positions)."""

    def __init__(self, layers: int, d: int, heads: int, dropout: float, causal: bool):
        super().__init__()
        self.layers = nn.ModuleList(DecoderLayer(d, heads, dropout) for _ in range(layers))
        self.causal = causal

    def forward(self, x: torch.Tensor, mask: torch.Tensor, memory: torch.Tensor | None = None,
                memory_mask: torch.Tensor | None = None, self_gauss: torch.Tensor | None = None,
                memory_gauss: torch.Tensor | None = None) -> torch.Tensor:
        n = x.shape[1]
        self_bias = gaussian_bias(mask, self_gauss, n, self.causal)
        cross_bias = None if memory is None else gaussian_bias(memory_mask, memory_gauss, n, False)
        for layer in self.layers:
            x = layer(x, self_bias, memory, cross_bias)
        return x
