"""CNM: Contrastive Negative sample Mining (Zheng et al., AAAI 2022), in this framework.

One Gaussian proposal per (video, sentence); the sentence is reconstructed from the video
three times, under the proposal, under its complement and from the whole video:

==================================================  =============================================
Step                                                 Where
==================================================  =============================================
proposal (c, w): c, w = sigmoid(W_g h_read),         reconstruction.Reconstructor.proposals,
w scaled by ``max_width``                            ``CNM.proposal``
positive mask g = exp(-alpha (t - c)^2 / w^2)        gaussian.cnm_mask
L_pos, L_easy, L_hard: reconstruction loss under g,  reconstruction.Reconstructor.reconstruct
under 1 - g (easy negative), of the whole video
(hard negative)
L_rec = L_pos + L_hard: trains everything but W_g    ``CNM.batch_loss``
L_ivc = [L_pos - L_hard + beta_1]_+                  ``CNM.batch_loss``
      + [L_pos - L_easy + beta_2]_+: trains W_g
score c(V, S) = -L_pos; the moment [c - w/2, c + w/2]  ``CNM.score_pairs``
==================================================  =============================================

The paper's code steps two optimisers in turn on the same forward pass, L_rec with the
proposal head frozen and L_ivc with everything else frozen.  Here one backward gives the
same gradients: L_rec's for every other weight, L_ivc's for W_g only (``CNM.batch_loss``,
tested against the two-step form in tests/model/test_cnm.py).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from vlanet.model.encoders import PairOutput
from vlanet.model.gaussian import cnm_mask
from vlanet.model.reconstruction import ClipEncoding, Reconstructor, SentenceEncoding


class CNM(Reconstructor):
    def __init__(self, ccfg, feature_dim: int, word_vectors: torch.Tensor, words: list[str]):
        super().__init__(ccfg, feature_dim, word_vectors, words, n_props=1)

    def proposal(self, h: torch.Tensor, head_grad: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
        """(c, w) (P,), w in (0, max_width)."""
        c, w = self.proposals(h, head_grad)
        return c[:, 0], w[:, 0] * self.rcfg.max_width

    def score_pairs(self, video: ClipEncoding, query: SentenceEncoding, vi: torch.Tensor, qi: torch.Tensor) -> PairOutput:
        c, w = self.proposal(self.readout_state(video, query, vi, qi))
        clips, clip_mask = self.recon_clips(video, vi)
        g = cnm_mask(clips.shape[1], c, w, self.rcfg.alpha)
        nll = self.reconstruct(clips, clip_mask, g, self.masked_inputs(query, qi, None), query.ids[qi], query.mask[qi])
        span = torch.stack([(c - w / 2).clamp(min=0.0), (c + w / 2).clamp(max=1.0)], -1)[:, None]  # (P, 1, 2)
        ones = torch.ones(len(vi), 1, dtype=torch.bool, device=c.device)
        return PairOutput(-nll, -nll[:, None], torch.zeros_like(ones, dtype=torch.long), ones, None, element_span=span)

    def losses(self, video: ClipEncoding, query: SentenceEncoding, gen: torch.Generator) -> dict[str, torch.Tensor]:
        """The three reconstruction losses (B,) of a batch's positive pairs and what makes them:
        the readout state h and the positive mask g (built with the head held fixed)."""
        idx = torch.arange(query.ids.shape[0], device=query.ids.device)
        h = self.readout_state(video, query, idx, idx)
        c, w = self.proposal(h, head_grad=False)
        clips, clip_mask = self.recon_clips(video, idx)
        g = cnm_mask(clips.shape[1], c, w, self.rcfg.alpha)
        inputs, ids, mask = self.masked_inputs(query, idx, gen), query.ids, query.mask
        return {"pos": self.reconstruct(clips, clip_mask, g, inputs, ids, mask),
                "hard": self.reconstruct(clips, clip_mask, None, inputs, ids, mask),
                "easy": self.reconstruct(clips, clip_mask, 1 - g, inputs, ids, mask), "h": h, "g": g}

    def ivc_loss(self, r: dict[str, torch.Tensor]) -> torch.Tensor:
        return (F.relu(r["pos"] - r["hard"] + self.rcfg.beta_1).mean()
                + F.relu(r["pos"] - r["easy"] + self.rcfg.beta_2).mean())

    def batch_loss(self, batch, tcfg, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """L_rec + L_ivc with the gradients routed as above.  Returns (loss, -L_pos, -L_hard)."""
        video = self.encode_video(batch.feats, batch.row_mask)
        query = self.encode_query(batch.words, batch.word_mask)
        r = self.losses(video, query, gen)
        rec, ivc = r["pos"].mean() + r["hard"].mean(), self.ivc_loss(r)
        # dL_ivc/dg, then the head's share of it: the chain rule through g = mask(head(h)),
        # with h and every reconstruction weight held fixed, as in the paper's second step
        (dg,) = torch.autograd.grad(ivc, r["g"], retain_graph=True)
        c, w = self.proposal(r["h"].detach())
        head_term = (cnm_mask(dg.shape[1], c, w, self.rcfg.alpha) * dg).sum()
        loss = rec + head_term - head_term.detach() + ivc.detach()  # value L_rec + L_ivc
        return loss, -r["pos"].detach(), -r["hard"].detach()
