"""CPL: Gaussian-based Contrastive Proposal Learning (Zheng et al., CVPR 2022), in this framework.

K Gaussian proposals per (video, sentence); the one that reconstructs the sentence best is the
positive, and the video around it and the whole video are its negatives:

==================================================  =============================================
Step                                                 Where
==================================================  =============================================
proposals (c_k, w_k) = sigmoid(W_g h_read), k < K    reconstruction.Reconstructor.proposals
masks g_k = N(t; c_k, w_k / sigma), peak 1           gaussian.cpl_mask
L_k = reconstruction loss under g_k; k* = argmin     ``CPL.losses``
L_ref = reconstruction loss of the whole video
L_rec = (L_k* + L_ref) / 2                           ``CPL.batch_loss``
L_left, L_right: under the two negatives of k*       gaussian.cpl_negatives
L_ivc = alpha_1 ([L_k* - L_ref + m_1]_+ +            ``CPL.batch_loss``
        [L_k* - L_left + m_2]_+ + [L_k* - L_right + m_2]_+)
L_div = || G G^T - lambda I ||_F^2, G the K masks    ``diversity_loss``
        each normalised to sum 1
loss = L_rec + L_ivc + alpha_2 L_div                 ``CPL.batch_loss``
test: proposals ranked by -L_k; c(V, S) = -L_k*      ``CPL.score_pairs``
==================================================  =============================================

The paper's code reconstructs under the two negatives of every proposal and then keeps k*'s;
only k*'s enter the loss, so only k*'s are computed here (same loss, 2 passes instead of 2K).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from vlanet.model.encoders import PairOutput
from vlanet.model.gaussian import cpl_mask, cpl_negatives
from vlanet.model.reconstruction import ClipEncoding, Reconstructor, SentenceEncoding


def diversity_loss(masks: torch.Tensor, lam: float) -> torch.Tensor:
    """|| G G^T - lam I ||_F^2 per pair (P,), masks (P, K, N) each normalised to sum 1 over N."""
    g = masks / masks.sum(-1, keepdim=True)
    eye = torch.eye(g.shape[1], device=g.device)
    return ((g @ g.transpose(1, 2) - lam * eye) ** 2).sum((1, 2))


class CPL(Reconstructor):
    progress = 1.0  # epoch / epochs, set by start_epoch; the negatives' curriculum

    def __init__(self, ccfg, feature_dim: int, word_vectors: torch.Tensor, words: list[str]):
        super().__init__(ccfg, feature_dim, word_vectors, words, n_props=ccfg.num_props)

    def _proposal_losses(self, video: ClipEncoding, query: SentenceEncoding, vi: torch.Tensor, qi: torch.Tensor,
                         gen: torch.Generator | None) -> dict[str, torch.Tensor]:
        """c, w (P, K), the masks g (P, K, N'), L_k (P, K), and the pairs' clips and inputs."""
        k = self.n_props
        c, w = self.proposals(self.readout_state(video, query, vi, qi))
        clips, clip_mask = self.recon_clips(video, vi)
        g = cpl_mask(clips.shape[1], c.flatten(), w.flatten(), self.rcfg.sigma).view(len(vi), k, -1)
        inputs = self.masked_inputs(query, qi, gen)

        def rep(t: torch.Tensor) -> torch.Tensor:  # every pair's tensor once per proposal
            return t.repeat_interleave(k, 0)

        nll = self.reconstruct(rep(clips), rep(clip_mask), g.flatten(0, 1), rep(inputs), rep(query.ids[qi]),
                               rep(query.mask[qi])).view(len(vi), k)
        return {"c": c, "w": w, "g": g, "nll": nll, "clips": clips, "clip_mask": clip_mask, "inputs": inputs}

    def score_pairs(self, video: ClipEncoding, query: SentenceEncoding, vi: torch.Tensor, qi: torch.Tensor) -> PairOutput:
        r = self._proposal_losses(video, query, vi, qi, None)
        c, w, nll = r["c"], r["w"], r["nll"]
        span = torch.stack([(c - w / 2).clamp(min=0.0), (c + w / 2).clamp(max=1.0)], -1)  # (P, K, 2)
        ones = torch.ones_like(nll, dtype=torch.bool)
        return PairOutput(-nll.amin(1), -nll, torch.zeros_like(ones, dtype=torch.long), ones, None, element_span=span)

    def losses(self, video: ClipEncoding, query: SentenceEncoding, gen: torch.Generator) -> dict[str, torch.Tensor]:
        """Every loss term (B,) of a batch's positive pairs."""
        idx = torch.arange(query.ids.shape[0], device=query.ids.device)
        r = self._proposal_losses(video, query, idx, idx, gen)
        best, k_star = r["nll"].min(1)
        pick = torch.arange(len(idx), device=idx.device)
        left, right = cpl_negatives(r["clips"].shape[1], r["c"][pick, k_star], r["w"][pick, k_star],
                                    self.rcfg.sigma, self.progress, self.rcfg.gamma)
        args = (r["inputs"], query.ids, query.mask)
        return {"best": best,
                "ref": self.reconstruct(r["clips"], r["clip_mask"], None, *args),
                "left": self.reconstruct(r["clips"], r["clip_mask"], left, *args),
                "right": self.reconstruct(r["clips"], r["clip_mask"], right, *args),
                "div": diversity_loss(r["g"], self.rcfg.lambda_div)}

    def batch_loss(self, batch, tcfg, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """L_rec + L_ivc + alpha_2 L_div.  Returns (loss, -L_k*, -L_ref)."""
        video = self.encode_video(batch.feats, batch.row_mask)
        query = self.encode_query(batch.words, batch.word_mask)
        r, cfg = self.losses(video, query, gen), self.rcfg
        rec = (r["best"].mean() + r["ref"].mean()) / 2
        ivc = (F.relu(r["best"] - r["ref"] + cfg.margin_1) + F.relu(r["best"] - r["left"] + cfg.margin_2)
               + F.relu(r["best"] - r["right"] + cfg.margin_2)).mean()
        loss = rec + cfg.alpha_1 * ivc + cfg.alpha_2 * r["div"].mean()
        return loss, -r["best"].detach(), -r["ref"].detach()

    def start_epoch(self, epoch: int, epochs: int) -> None:
        """Told by the training loop before each epoch (0-based): the negatives' curriculum."""
        self.progress = (epoch + 1) / epochs
