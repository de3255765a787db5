"""One training step, Eq. (14): score the positive pairs and the sampled in-batch negatives with
one ``score_pairs`` call, the hinge loss, and (``train.selection_weight`` > 0) the same hinge on
Eq. (3)'s best selection score."""

from __future__ import annotations

import torch

from vlanet.config import TrainConfig
from vlanet.data.dataset import Batch
from vlanet.model.loss import contrastive_loss


class LossStep(torch.nn.Module):
    """Eq. (14) over one step's groups: the mean of the group losses.  A module, so that
    DistributedDataParallel sees one forward per backward."""

    def __init__(self, model: torch.nn.Module, tcfg: TrainConfig):
        super().__init__()
        self.model, self.tcfg = model, tcfg

    def forward(self, groups: list[Batch], gens: list[torch.Generator]):
        with torch.autocast(groups[0].feats.device.type, dtype=torch.bfloat16, enabled=self.tcfg.autocast == "bf16"):
            out = [model_loss(self.model, b, self.tcfg, g) for b, g in zip(groups, gens)]
            loss = torch.stack([o[0] for o in out]).float().mean()
        return loss, torch.cat([o[1] for o in out]).float(), torch.cat([o[2] for o in out]).float()


def model_loss(model: torch.nn.Module, batch: Batch, tcfg: TrainConfig, gen: torch.Generator
               ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A batch's (loss, positive scores, negative scores): the model's own objective where it has
    one (CNM, CPL say so with a ``batch_loss`` method), else Eq. (14), ``batch_loss`` below."""
    own = getattr(model, "batch_loss", None)
    return own(batch, tcfg, gen) if own else batch_loss(model, batch, tcfg, gen)


def sample_pairs(code: torch.Tensor, tcfg: TrainConfig, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Positive pairs (i, i) then negatives.  Returns (video_idx, query_idx, owner) for the negatives.

    A negative for positive i is (video i, query j) ["query" direction] and/or (video j, query i)
    ["video" direction], with j drawn uniformly from the batch positions whose video differs
    from i's, ``num_negatives`` per direction (0 = all of them).
    """
    b = len(code)
    valid = code[:, None] != code[None, :]  # (B, B)
    if tcfg.num_negatives and tcfg.num_negatives < b:
        r = torch.rand(b, b, generator=gen).masked_fill(~valid, 2.0)
        pick = r.topk(tcfg.num_negatives, dim=1, largest=False).indices  # (B, n)
        ok = torch.gather(valid, 1, pick)
        owner = torch.arange(b)[:, None].expand_as(pick)[ok]
        other = pick[ok]
    else:
        owner, other = valid.nonzero(as_tuple=True)
    vi, qi, own = [], [], []
    if tcfg.negatives in ("both", "query"):
        vi.append(owner), qi.append(other), own.append(owner)
    if tcfg.negatives in ("both", "video"):
        vi.append(other), qi.append(owner), own.append(owner)
    return torch.cat(vi), torch.cat(qi), torch.cat(own)


def batch_loss(model: torch.nn.Module, batch: Batch, tcfg: TrainConfig, gen: torch.Generator
               ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Eq. (14) on one batch.  Returns (loss, positive scores, negative scores)."""
    video = model.encode_video(batch.feats, batch.row_mask, batch.windows, batch.win_mask)
    query = model.encode_query(batch.words, batch.word_mask)
    b = len(batch.index)
    nv, nq, owner = sample_pairs(batch.video_code.cpu(), tcfg, gen)
    dev = batch.feats.device
    idx = torch.arange(b)
    if tcfg.negative_vcomp == "reused":  # Eq. (14) as written: the positives' v_comp, recombined
        idx = idx.to(dev)
        out = model.score_pairs(video, query, idx, idx)
        neg, neg_sel = model.recombined_scores(video, query, out, nv.to(dev), nq.to(dev))
        pos, sel = out.score, (None if out.selection is None else torch.cat([out.selection, neg_sel]))
    else:  # each negative is the network run on the mismatched pair
        out = model.score_pairs(video, query, torch.cat([idx, nv]).to(dev), torch.cat([idx, nq]).to(dev))
        pos, neg, sel = out.score[:b], out.score[b:], out.selection
    loss = contrastive_loss(pos, neg, owner.to(dev), tcfg.margin, tcfg.negative_reduce)
    if tcfg.selection_weight > 0 and sel is not None:  # trains Eq. (3)'s selection score
        loss = loss + tcfg.selection_weight * contrastive_loss(sel[:b], sel[b:], owner.to(dev), tcfg.margin,
                                                               tcfg.negative_reduce)
    return loss, pos.detach(), neg.detach()
