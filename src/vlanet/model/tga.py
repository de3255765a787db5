"""TGA, the paper's main weakly-supervised baseline (Mithun et al., CVPR 2019), in this framework.

Text-Guided Attention, as VLANet's Section 2 describes its ancestor:

* the sentence is one vector: the last GRU state, projected and L2-normalised (VLANet keeps
  every word state, Eq. 1);
* the video elements are all K*L proposals of Eq. (2) -- no surrogate selection, no
  self-attention, no cascade;
* text-guided attention: a_kl = softmax over the proposals of ``temperature * cos(p_kl, s)``;
  the attended video is v = sum a_kl p_kl;
* joint embedding: v and s are mapped by one linear layer each into a common space and the
  score is their cosine;
* the same weak loss (Eq. 14, in-batch negatives), and at test time proposals are ranked by
  their attention weight a_kl, as TGA ranks its segments.

It shares the query encoder, the proposal encoder and the whole training / prediction path with
VLANet (``model.name: tga``); only this module differs.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from vlanet.config import ModelConfig
from vlanet.model.cca import CCAOutput
from vlanet.model.encoders import Encoders, PairOutput, QueryEncoding, VideoEncoding


class TGA(Encoders):
    def __init__(self, cfg: ModelConfig, feature_dim: int, word_vectors: torch.Tensor):
        super().__init__(cfg, feature_dim, word_vectors)
        d = cfg.hidden_dim
        self.sentence = nn.Linear(d, d)  # s = W_s w_M
        self.joint_v = nn.Linear(d, d, bias=False)  # joint embedding of the attended video
        self.joint_s = nn.Linear(d, d, bias=False)  # joint embedding of the sentence
        self.temperature = cfg.vla_temperature

    def score_pairs(self, video: VideoEncoding, query: QueryEncoding, video_idx: torch.Tensor,
                    query_idx: torch.Tensor) -> PairOutput:
        bv, k, n_scales, d = video.proposals.shape
        s = F.normalize(self.sentence(query.last), dim=-1)  # (Bq, D)
        p = video.proposals.reshape(bv, k * n_scales, d)
        mask = video.mask.reshape(bv, k * n_scales)
        logits = torch.einsum("bnd,qd->bqn", p, s)[video_idx, query_idx] * self.temperature  # (P, N)
        mp = mask[video_idx]
        a = torch.softmax(logits.masked_fill(~mp, float("-inf")), dim=-1)
        v = torch.einsum("pn,pnd->pd", a, p[video_idx])  # attended video
        score = F.cosine_similarity(self.joint_v(v), self.joint_s(s[query_idx]), dim=-1)
        window = torch.arange(k * n_scales, device=p.device).expand(len(video_idx), -1)
        cca = CCAOutput(score=score, q2v_weights=[a], v_base=p[video_idx], q_base=query.q[query_idx])
        return PairOutput(score, a, window, mp, cca)
