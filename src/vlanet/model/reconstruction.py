"""What CNM and CPL share: a video and a sentence in, Gaussian proposals out, and a sentence
reconstructed from the video under a mask, whose loss scores how well a proposal explains it.

=======================================================  ==================================
Step                                                     Where
=======================================================  ==================================
clips: each video resampled to N clips (mean of rows)    ``resample_rows``
x_i = W_v clip_i;  e_m = W_w glove(word_m) + pos_m       ``Reconstructor.encode_video`` /
                                                         ``encode_query``
proposal (c, w) = sigmoid(W_g h_read), h_read the        ``Reconstructor.proposals``
readout token after the video decoder attends to the
sentence decoder's output
mask every ``mask_every``-th word (random in training,   ``masked_inputs``
evenly spaced at test) and predict each next word from
the masked sentence and the video under a mask g
reconstruction loss: label-smoothed NLL per sentence     ``Reconstructor.reconstruct`` /
                                                         ``smoothed_nll``
=======================================================  ==================================

The score of a (video, sentence) pair is minus the reconstruction loss at its best proposal:
higher means the proposal explains the sentence better.  Every setting is a field of the
model's config section (``cnm:`` or ``cpl:``, docs/CHOICES.md).

Glossary: Bv videos, Bq queries, P pairs, N clips, M words, D hidden size, V vocabulary.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from vlanet.model.transformer import Decoder

# Closed-class words: a content word (any other) is hidden exp(content_weight) times as often
# (the papers' code tags parts of speech and favours nouns, verbs, adjectives and adverbs by
# e^2 against e^1; this list stands in for the tagger).
FUNCTION_WORDS = frozenset(
    "a an the this that these those his her their its my your our some any each every another "
    "of in on at to from into onto with without by for over under up down out off through "
    "around across about near behind after before while as than then and or but so "
    "he she it they them him we you i me who which what there here is are was were be been".split())


@dataclass
class ClipEncoding:
    clips: torch.Tensor  # (Bv, N, D) projected clips
    mask: torch.Tensor  # (Bv, N) all True: every video has N clips


@dataclass
class SentenceEncoding:
    x: torch.Tensor  # (Bq, M + 1, D) projected [start; words], no positions yet
    ids: torch.Tensor  # (Bq, M) word ids, the reconstruction targets
    mask: torch.Tensor  # (Bq, M) True = real word


def resample_rows(feats: torch.Tensor, row_mask: torch.Tensor, n: int) -> torch.Tensor:
    """(B, T, F) rows with (B, T) validity -> (B, n, F): clip j is the mean of the rows in
    [round(j T_b / n), round((j + 1) T_b / n)) of video b (its T_b valid rows), or the one row
    at the start when that range is empty (videos shorter than n rows repeat rows)."""
    b, t, _ = feats.shape
    lengths = row_mask.sum(1).clamp(min=1).to(feats.dtype)  # (B,)
    edges = torch.round(torch.arange(n + 1, device=feats.device, dtype=feats.dtype)[None] / n * lengths[:, None])
    start = edges[:, :-1].clamp(max=lengths[:, None] - 1)
    end = torch.maximum(edges[:, 1:], start + 1)  # (B, n)
    r = torch.arange(t, device=feats.device, dtype=feats.dtype)[None, None]
    inside = (r >= start[..., None]) & (r < end[..., None])  # (B, n, T)
    weights = inside.to(feats.dtype) / (end - start)[..., None]
    return torch.bmm(weights, feats)


def sinusoid(n: int, d: int, device: torch.device | str) -> torch.Tensor:
    """Sinusoidal position codes (n, d): sin in the first half, cos in the second."""
    half = d // 2
    freq = torch.exp(-math.log(10000.0) * torch.arange(half, device=device) / max(half - 1, 1))
    angle = torch.arange(n, device=device)[:, None] * freq[None]
    out = torch.cat([torch.sin(angle), torch.cos(angle)], 1)
    return F.pad(out, (0, d - out.shape[1]))


def masked_positions(mask: torch.Tensor, every: int, log_weight: torch.Tensor | None,
                     gen: torch.Generator | None) -> torch.Tensor:
    """Which words to hide (B, M) bool: max(l // every, 1) of the l words of each sentence.
    With a generator, drawn without replacement with probability proportional to
    exp(log_weight) ((B, M), None = uniform) by the Gumbel top-k trick; without one (test
    time), evenly spaced, the same for every run."""
    b, m = mask.shape
    lengths = mask.sum(1)
    k = torch.clamp(lengths // every, min=1)  # (B,)
    if gen is not None:
        logw = log_weight.float().cpu() if log_weight is not None else torch.zeros(b, m)
        u = torch.rand(b, m, generator=gen).clamp(1e-12, 1 - 1e-12)
        keys = (logw - torch.log(-torch.log(u))).to(mask.device).masked_fill(~mask, float("-inf"))
        rank = keys.argsort(1, descending=True).argsort(1)  # 0 = the highest key
    else:
        j = torch.arange(m, device=mask.device)[None]  # hide positions floor((i + 0.5) l / k), i < k
        rank = torch.full((b, m), m, device=mask.device)
        for i in range(int(k.max()) if b else 0):
            pos = ((i + 0.5) * lengths / k).long().clamp(max=m - 1)
            rank = torch.where((j == pos[:, None]) & (i < k[:, None]), torch.zeros_like(rank), rank)
    return (rank < k[:, None]) & mask


def smoothed_nll(logits: torch.Tensor, target: torch.Tensor, mask: torch.Tensor, eps: float) -> torch.Tensor:
    """Label-smoothed negative log-likelihood per sentence (P,): (1 - eps) NLL(target) +
    eps / V * sum_v -log p_v, averaged over the sentence's real words."""
    logp = logits.float().log_softmax(-1)
    nll = -logp.gather(-1, target[..., None]).squeeze(-1)
    loss = (1 - eps) * nll - eps / logits.shape[-1] * logp.sum(-1)
    return (loss * mask).sum(1) / mask.sum(1).clamp(min=1)


class Reconstructor(nn.Module):
    """The shared body: projections, the video decoder (clips; attends to the sentence when it
    generates proposals), the sentence decoder (causal; attends to the masked video when it
    reconstructs), the vocabulary layer, and a head of ``n_props`` proposals."""

    def __init__(self, rcfg, feature_dim: int, word_vectors: torch.Tensor, words: list[str], n_props: int):
        super().__init__()
        self.rcfg, self.feature_dim, self.n_props = rcfg, feature_dim, n_props
        d = rcfg.hidden_dim
        self.register_buffer("word_vectors", word_vectors.float(), persistent=True)  # (V, Dw), frozen GloVe
        self.register_buffer("content", torch.tensor([w not in FUNCTION_WORDS for w in words]), persistent=False)
        dw = word_vectors.shape[1]
        self.frame_fc, self.word_fc = nn.Linear(feature_dim, d), nn.Linear(dw, d)
        self.start_vec, self.mask_vec = nn.Parameter(torch.zeros(dw)), nn.Parameter(torch.zeros(dw))
        self.readout = nn.Parameter(torch.zeros(d))  # appended after the clips; its output is h_read
        self.video_decoder = Decoder(rcfg.layers, d, rcfg.heads, rcfg.dropout, causal=rcfg.causal_video)
        self.sentence_decoder = Decoder(rcfg.layers, d, rcfg.heads, rcfg.dropout, causal=True)
        self.vocab = nn.Linear(d, word_vectors.shape[0])
        self.head = nn.Linear(d, 2 * n_props)  # (c, w) of each proposal, through a sigmoid
        self.drop = nn.Dropout(rcfg.dropout)

    # -- inputs ---------------------------------------------------------------------------------
    def encode_video(self, feats: torch.Tensor, row_mask: torch.Tensor, windows=None, win_mask=None) -> ClipEncoding:
        """feats (Bv, T, F), row_mask (Bv, T); the proposal grid is not used (the Gaussians are)."""
        clips = self.frame_fc(self.drop(resample_rows(feats.float(), row_mask, self.rcfg.num_clips)))
        return ClipEncoding(clips, torch.ones(clips.shape[:2], dtype=torch.bool, device=clips.device))

    def encode_query(self, words: torch.Tensor, word_mask: torch.Tensor) -> SentenceEncoding:
        start = self.start_vec.expand(words.shape[0], 1, -1)
        x = self.word_fc(self.drop(torch.cat([start, self.word_vectors[words]], 1)))
        return SentenceEncoding(x, words, word_mask)

    def _with_positions(self, x: torch.Tensor) -> torch.Tensor:
        return x + sinusoid(x.shape[1], x.shape[2], x.device)[None]

    # -- proposals ------------------------------------------------------------------------------
    def readout_state(self, video: ClipEncoding, query: SentenceEncoding, vi: torch.Tensor,
                      qi: torch.Tensor) -> torch.Tensor:
        """h_read (P, D): the sentence decoder reads [start; words]; the video decoder reads the
        clips and the readout token, attending to that output; the token's state is returned."""
        q = query.x[qi]
        q_mask = F.pad(query.mask[qi], (1, 0), value=True)  # the start token is always there
        sent = self.sentence_decoder(self._with_positions(q), q_mask)
        clips = torch.cat([video.clips[vi], self.readout.expand(len(vi), 1, -1)], 1)
        c_mask = F.pad(video.mask[vi], (0, 1), value=True)
        return self.video_decoder(clips, c_mask, sent, q_mask)[:, -1]

    def proposals(self, h: torch.Tensor, head_grad: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
        """(centre, width) (P, n_props), both sigmoid outputs in (0, 1).  ``head_grad=False``: the
        head's weights are held fixed (gradients reach h only)."""
        w, b = (self.head.weight, self.head.bias) if head_grad else (self.head.weight.detach(), self.head.bias.detach())
        out = torch.sigmoid(F.linear(h, w, b)).view(len(h), self.n_props, 2)
        return out[..., 0], out[..., 1]

    # -- reconstruction -------------------------------------------------------------------------
    def recon_clips(self, video: ClipEncoding, vi: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Every ``recon_stride``-th clip of each pair's video (P, N', D) and its mask."""
        n = video.clips.shape[1]
        keep = torch.linspace(0, n - 1, max(n // self.rcfg.recon_stride, 2), device=video.clips.device).long()
        return video.clips[vi][:, keep], video.mask[vi][:, keep]

    def masked_inputs(self, query: SentenceEncoding, qi: torch.Tensor, gen: torch.Generator | None) -> torch.Tensor:
        """The decoder's input for each pair (P, M, D): [start; words] with the hidden words
        replaced by the mask token, positions added, the last position dropped (position t
        predicts word t + 1)."""
        mask = query.mask[qi]
        log_weight = self.content[query.ids[qi]].float() * self.rcfg.content_weight  # e^1 more for content words
        hide = masked_positions(mask, self.rcfg.mask_every, log_weight, gen)
        hide = F.pad(hide, (1, 0), value=False)[..., None]  # the start token is never hidden
        token = self.word_fc(self.mask_vec)
        x = torch.where(hide, token, query.x[qi])
        return self._with_positions(x)[:, :-1]

    def reconstruct(self, clips: torch.Tensor, clip_mask: torch.Tensor, gauss: torch.Tensor | None,
                    inputs: torch.Tensor, ids: torch.Tensor, word_mask: torch.Tensor) -> torch.Tensor:
        """The reconstruction loss (P,) of each sentence from its clips under the mask ``gauss``
        (P, N') (None = the whole video): the clips attend to each other and the words to the
        clips, both with their keys reweighted by g (transformer.py)."""
        memory = self.video_decoder(clips, clip_mask, self_gauss=gauss)
        h = self.sentence_decoder(inputs, word_mask, memory, clip_mask, memory_gauss=gauss)
        return smoothed_nll(self.vocab(h), ids, word_mask, self.rcfg.label_smoothing)
