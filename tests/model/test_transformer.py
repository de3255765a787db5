"""The Gaussian-reweighted attention of CNM and CPL (model/transformer.py): one fused call equals
the literal "softmax, multiply by g over the keys, renormalise"."""

import math

import torch

from vlanet.model.transformer import Attention, Decoder, gaussian_bias


def literal_attention(att: Attention, x, memory, key_mask, g, causal):
    """Per head: A = softmax(Q K^T / sqrt(d_h)) over the unmasked keys, A g / sum(A g), A V."""
    b, n, d = x.shape
    h = att.heads
    dh = d // h
    q, k, v = att.q(x), att.k(memory), att.v(memory)
    out = torch.zeros(b, n, d)
    for bi in range(b):
        for hi in range(h):
            sl = slice(hi * dh, (hi + 1) * dh)
            logits = q[bi, :, sl] @ k[bi, :, sl].T / math.sqrt(dh)
            allowed = key_mask[bi][None, :].expand(n, -1).clone()
            if causal:
                allowed &= torch.ones(n, memory.shape[1], dtype=torch.bool).tril()
            a = torch.softmax(logits.masked_fill(~allowed, float("-inf")), -1)
            if g is not None:
                a = a * g[bi][None, :]
                a = a / a.sum(-1, keepdim=True)
            out[bi, :, sl] = a @ v[bi, :, sl]
    return att.out(out)


def test_fused_gaussian_attention_is_the_literal_reweighting():
    torch.manual_seed(0)
    att = Attention(8, heads=2)
    x, mem = torch.randn(2, 3, 8), torch.randn(2, 5, 8)
    key_mask = torch.tensor([[True] * 5, [True, True, True, True, False]])
    g = torch.rand(2, 5) * 0.9 + 0.05
    for gauss in (None, g):
        got = att(x, mem, gaussian_bias(key_mask, gauss, 3, causal=False))
        want = literal_attention(att, x, mem, key_mask, gauss, causal=False)
        assert torch.allclose(got, want, atol=1e-5)


def test_causal_self_attention_with_a_mask_is_the_literal_form():
    torch.manual_seed(1)
    att = Attention(8, heads=4)
    x = torch.randn(1, 6, 8)
    mask = torch.ones(1, 6, dtype=torch.bool)
    g = torch.rand(1, 6) + 0.1
    got = att(x, x, gaussian_bias(mask, g, 6, causal=True))
    assert torch.allclose(got, literal_attention(att, x, x, mask, g, causal=True), atol=1e-5)


def test_a_zero_mask_weight_silences_a_key_and_the_decoder_is_causal():
    torch.manual_seed(2)
    dec = Decoder(2, 8, 2, dropout=0.0, causal=True).eval()
    x, mem = torch.randn(1, 4, 8), torch.randn(1, 5, 8)
    mask, mem_mask = torch.ones(1, 4, dtype=torch.bool), torch.ones(1, 5, dtype=torch.bool)
    g = torch.tensor([[1.0, 0.7, 0.0, 0.4, 1.0]])
    y = dec(x, mask, mem, mem_mask, memory_gauss=g)
    changed = mem.clone()
    changed[0, 2] += 10.0  # the key that g zeroes
    assert torch.allclose(dec(x, mask, changed, mem_mask, memory_gauss=g), y, atol=1e-5)
    later = x.clone()
    later[0, 3] += 5.0  # a change at the last position leaves the earlier ones alone
    y2 = dec(later, mask, mem, mem_mask, memory_gauss=g)
    assert torch.allclose(y2[0, :3], y[0, :3], atol=1e-5) and not torch.allclose(y2[0, 3], y[0, 3])
    ones = dec(x, mask, mem, mem_mask, memory_gauss=torch.ones(1, 5))
    assert torch.allclose(ones, dec(x, mask, mem, mem_mask), atol=1e-5)  # g = 1 is no mask
