"""What the model tests share: a small hidden size, random unit vectors, a tiny VLANet and its
inputs (one 10-row video of 4 groups x 3 scales, one 4-word sentence)."""

import torch

from vlanet.config import ModelConfig
from vlanet.model import VLANet

D = 8


def unit(*shape):
    return torch.nn.functional.normalize(torch.randn(*shape), dim=-1)


def tiny_model(**kw):
    cfg = ModelConfig(hidden_dim=D, **kw)
    return VLANet(cfg, feature_dim=6, word_vectors=torch.randn(30, 5))


def make_inputs(t=10, k=4, m=4):
    feats = torch.randn(1, t, 6)
    win = torch.tensor([[[[kk, kk + 2.0], [kk, kk + 3.5], [kk + 0.5, kk + 5.0]] for kk in range(k)]])
    return feats, win, torch.randint(1, 30, (1, m))
