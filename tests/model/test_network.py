"""The assembled network: masks and padding, gradients, Eq. (14), bf16 and length groups."""


import pytest
import torch
from model_helpers import D, make_inputs, tiny_model

from vlanet.model import VLANet
from vlanet.model.loss import contrastive_loss


# -- masks through the whole network ----------------------------------------------------------
@pytest.mark.parametrize("kw", [{}, {"surrogate": False}, {"self_attention": False}, {"cross_attention": False},
                                {"attention_scale": "none", "vla_reduce": "sum"}, {"share_cascade_weights": True}])
def test_padding_does_not_change_scores(kw):
    model = tiny_model(**kw).eval()
    feats, win, words = make_inputs()
    v = model.encode_video(feats, torch.ones(1, 10, dtype=torch.bool), win, torch.ones(1, 4, 3, dtype=torch.bool))
    q = model.encode_query(words, torch.ones(1, 4, dtype=torch.bool))
    out = model.score_pairs(v, q, torch.tensor([0]), torch.tensor([0]))
    # pad rows, groups and words
    f2 = torch.cat([feats, torch.randn(1, 5, 6)], 1)
    rm = torch.ones(1, 15, dtype=torch.bool)
    rm[0, 10:] = False
    w2 = torch.cat([win, torch.full((1, 3, 3, 2), 1.0)], 1)
    wm = torch.zeros(1, 7, 3, dtype=torch.bool)
    wm[0, :4] = True
    v2 = model.encode_video(f2, rm, w2, wm)
    q2 = model.encode_query(torch.cat([words, torch.zeros(1, 3, dtype=torch.long)], 1),
                            torch.tensor([[True] * 4 + [False] * 3]))
    out2 = model.score_pairs(v2, q2, torch.tensor([0]), torch.tensor([0]))
    assert torch.allclose(out.score, out2.score, atol=1e-5)
    n = out.element_scores.shape[1]
    assert torch.allclose(out.element_scores, out2.element_scores[:, :n], atol=1e-5)
    assert not out2.element_mask[0, n:].any()


def test_gradients_reach_every_trainable_parameter():
    model = tiny_model(dropout=0.0)
    feats, win, words = make_inputs()
    v = model.encode_video(feats.repeat(2, 1, 1), torch.ones(2, 10, dtype=torch.bool), win.repeat(2, 1, 1, 1),
                           torch.ones(2, 4, 3, dtype=torch.bool))
    q = model.encode_query(torch.cat([words, torch.randint(1, 30, (1, 4))]), torch.ones(2, 4, dtype=torch.bool))
    out = model.score_pairs(v, q, torch.tensor([0, 1, 0]), torch.tensor([0, 1, 1]))
    contrastive_loss(out.score[:2], out.score[2:], torch.tensor([0]), margin=10.0).backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    assert "query_encoder.word_vectors" not in dict(model.named_parameters())  # frozen buffer


# -- Eq. (14) ---------------------------------------------------------------------------------
def test_contrastive_loss_hand_computed():
    pos = torch.tensor([0.9, 0.2])
    neg = torch.tensor([0.1, 0.8, 0.5])
    owner = torch.tensor([0, 0, 1])
    # pos 0: max(0, .2-.9+.1)=0, max(0, .2-.9+.8)=.1 -> mean .05 ; pos 1: max(0, .2-.2+.5)=.5
    assert float(contrastive_loss(pos, neg, owner, 0.2)) == pytest.approx((0.05 + 0.5) / 2)
    assert float(contrastive_loss(pos, neg, owner, 0.2, "max")) == pytest.approx((0.1 + 0.5) / 2)



@pytest.mark.parametrize("surrogate", [True, False])
def test_reused_vcomp_negatives_recombine_the_positive_pairs(surrogate):
    """train.negative_vcomp=reused, Eq. (14) as written: a negative (video a, query b) scores
    pair a's v_comp against pair b's attended words.  On a = b that is the positive c itself
    (Eq. 13 computed the slow way); a mismatched pair differs from the network run on it."""
    torch.manual_seed(3)
    model = tiny_model(surrogate=surrogate, dropout=0.0).train()
    feats, win, words = make_inputs()
    v = model.encode_video(torch.cat([feats, torch.randn_like(feats)]), torch.ones(2, 10, dtype=torch.bool),
                           win.repeat(2, 1, 1, 1), torch.ones(2, 4, 3, dtype=torch.bool))
    q = model.encode_query(torch.cat([words, torch.randint(1, 30, (1, 4))]), torch.ones(2, 4, dtype=torch.bool))
    idx = torch.arange(2)
    out = model.score_pairs(v, q, idx, idx)
    a, b = torch.tensor([0, 1, 0, 1]), torch.tensor([0, 1, 1, 0])
    c, sel = model.recombined_scores(v, q, out, a, b)
    torch.testing.assert_close(c[:2], out.score, atol=1e-5, rtol=0)
    run = model.score_pairs(v, q, a, b)
    assert (c[2:] - run.score[2:]).abs().min() > 1e-4  # v_comp(V, Q-) is not v_comp(V, Q+)
    torch.testing.assert_close(sel, run.selection)  # Eq. (3) needs no v_comp: the same either way
    c.sum().backward()
    assert model.cca.score_unit().w1.weight.grad.abs().sum() > 0

def test_bf16_autocast_training_step_is_close_to_float32():
    """train.autocast=bf16: the same step under torch.autocast(bfloat16) gives a loss close to
    float32's, and every parameter's gradient is float32 and close (CPU autocast here; GPUs the same)."""
    from vlanet.config import load_config
    from vlanet.data.loading import load_splits
    from vlanet.train.step import LossStep

    cfg = load_config(None, ["data.synthetic_train_videos=16", "data.synthetic_test_videos=4", "data.synthetic_dim=32",
                             "model.hidden_dim=32", "train.batch_size=16"])
    splits = load_splits(cfg, need=("train",))
    batch = splits.train.collate(list(range(16)))
    results = []
    for mode in ("none", "bf16"):
        torch.manual_seed(0)
        model = VLANet(cfg.model, splits.feature_dim, torch.from_numpy(splits.words.vectors))
        cfg.train.autocast = mode
        loss, pos, neg = LossStep(model, cfg.train)([batch], [torch.Generator().manual_seed(0)])
        loss.backward()
        assert loss.dtype == pos.dtype == torch.float32 and torch.isfinite(loss)
        grads = {n: p.grad for n, p in model.named_parameters() if p.requires_grad}
        assert all(g is not None and g.dtype == torch.float32 and torch.isfinite(g).all() for g in grads.values())
        results.append((loss.item(), pos, grads))
    (l32, p32, g32), (l16, p16, g16) = results
    assert l16 != l32 and not torch.equal(p16, p32)  # autocast is on: bf16 rounding shows
    assert l16 == pytest.approx(l32, rel=0.05, abs=0.01)
    assert torch.allclose(p16, p32, atol=0.05)
    cos = [torch.nn.functional.cosine_similarity(g32[n].flatten(), g16[n].flatten(), dim=0) for n in g32 if g32[n].abs().sum() > 0]
    assert min(cos) > 0.9


def test_pair_products_without_gradients_keep_no_v2v_block_alive():
    """At inference the word products are a copy: a view would keep the (P, K, K) V2V block of
    every K slice alive (an hour-long video: 467 MB)."""
    from vlanet.model.fused import PairProducts

    rhs, v0 = torch.randn(2, 7 + 3, D), torch.randn(2, 7, D)
    with torch.no_grad():
        e, rest = PairProducts.apply(rhs, v0, 7)
    assert rest.shape == (2, 3, 7) and rest.untyped_storage().nbytes() == rest.numel() * rest.element_size()
    torch.testing.assert_close(e, torch.tanh(rhs[:, :7] @ v0.transpose(1, 2)).sum(1), atol=1e-5, rtol=0)
    torch.testing.assert_close(rest, rhs[:, 7:] @ v0.transpose(1, 2))


@pytest.mark.parametrize("surrogate", [True, False])
def test_pairs_in_length_groups_give_the_same_numbers(monkeypatch, surrogate):
    """score_pairs cuts pairs of short videos to their own length (vlanet.PAIR_GROUP_RATIO):
    scores, attention, element scores and gradients equal those of one padded group."""
    from vlanet.config import load_config
    from vlanet.data.loading import load_splits
    from vlanet.model import vlanet as vlanet_module
    from vlanet.train.step import batch_loss

    cfg = load_config(None, ["data.synthetic_train_videos=24", "data.synthetic_test_videos=4", "data.synthetic_dim=16",
                             "model.hidden_dim=16", f"model.surrogate={str(surrogate).lower()}"])
    splits = load_splits(cfg, need=("train",))
    order = sorted(range(len(splits.train)), key=lambda i: splits.train.queries[i].duration)
    batch = splits.train.collate(order[:6] + order[-2:])  # short videos and the two longest
    batch.feats = batch.feats.double()
    ends = (batch.win_mask.any(-1) if surrogate else batch.win_mask.flatten(1)).sum(1)
    assert len(vlanet_module.length_groups(ends, vlanet_module.PAIR_GROUP_RATIO)) > 1  # the case under test
    torch.manual_seed(0)
    model = VLANet(cfg.model, splits.feature_dim, torch.from_numpy(splits.words.vectors)).double()
    results = []
    for ratio in (0.0, vlanet_module.PAIR_GROUP_RATIO):
        monkeypatch.setattr(vlanet_module, "PAIR_GROUP_RATIO", ratio)
        model.zero_grad()
        video = model.encode_video(batch.feats, batch.row_mask, batch.windows, batch.win_mask)
        query = model.encode_query(batch.words, batch.word_mask)
        vi, qi = torch.tensor([0, 1, 6, 7, 6, 0, 3]), torch.tensor([0, 1, 6, 7, 0, 6, 7])
        out = model.score_pairs(video, query, vi, qi)
        loss, _, _ = batch_loss(model, batch, cfg.train, torch.Generator().manual_seed(0))
        (loss + out.score.sum()).backward()
        results.append((out, [p.grad.clone() for p in model.parameters() if p.grad is not None]))
    (a, ga), (b, gb) = results
    for x, y in [(a.score, b.score), (a.element_scores, b.element_scores), (a.cca.element_vla, b.cca.element_vla),
                 (a.cca.v, b.cca.v), (a.cca.q, b.cca.q)] + list(zip(a.cca.q2v_weights, b.cca.q2v_weights)):
        torch.testing.assert_close(x, y, atol=1e-10, rtol=0)
    assert len(ga) == len(gb) and all(torch.allclose(x, y, atol=1e-10) for x, y in zip(ga, gb))


def test_batch_loss_with_reused_vcomp_scores_the_same_positives():
    """One training step under either negative_vcomp: the same positives and sampled negatives,
    only the negatives' scores differ; both losses reach the encoders."""
    from vlanet.config import load_config
    from vlanet.data.loading import load_splits
    from vlanet.train.step import batch_loss

    base = ["data.synthetic_train_videos=24", "data.synthetic_test_videos=4", "data.synthetic_dim=16",
            "model.hidden_dim=16", "model.dropout=0"]
    cfg = load_config(None, base)
    splits = load_splits(cfg, need=("train",))
    batch = splits.train.collate(list(range(8)))
    torch.manual_seed(0)
    model = VLANet(cfg.model, splits.feature_dim, torch.from_numpy(splits.words.vectors)).train()
    res = {}
    for mode in ("recomputed", "reused"):
        cfg.train.negative_vcomp = mode
        model.zero_grad()
        loss, pos, neg = batch_loss(model, batch, cfg.train, torch.Generator().manual_seed(0))
        loss.backward()
        assert torch.isfinite(loss) and model.proposal_encoder.fc.weight.grad.abs().sum() > 0
        res[mode] = pos, neg
    torch.testing.assert_close(res["recomputed"][0], res["reused"][0])
    assert res["recomputed"][1].shape == res["reused"][1].shape
    assert not torch.allclose(res["recomputed"][1], res["reused"][1])


def test_element_ranking_follows_rank_by():
    """q2v_mean averages every Q2V attention, q2v_last takes the last, vla E(s_k, Q); without
    Q2V weights (no cross-attention) every choice falls back to E(s_k, Q)."""
    from vlanet.model.cca import CCAOutput
    from vlanet.model.vlanet import element_ranking

    w1, w2, vla = torch.tensor([[0.7, 0.2, 0.1]]), torch.tensor([[0.1, 0.3, 0.6]]), torch.tensor([[3.0, 2.0, 1.0]])
    base = dict(score=torch.zeros(1), v_base=torch.zeros(1, 3, 2), q_base=torch.zeros(1, 2, 2), element_vla=vla)
    out = CCAOutput(q2v_weights=[w1, w2], **base)
    assert torch.equal(element_ranking(out, "q2v_last"), w2)
    assert torch.allclose(element_ranking(out, "q2v_mean"), torch.tensor([[0.4, 0.25, 0.35]]))
    assert torch.equal(element_ranking(out, "vla"), vla)
    # the three rankings differ here: the top element is 0 (mean), 2 (last) and 0 (vla)
    assert element_ranking(out, "q2v_mean").argmax() != element_ranking(out, "q2v_last").argmax()
    for rank_by in ("q2v_last", "q2v_mean", "vla"):
        assert torch.equal(element_ranking(CCAOutput(q2v_weights=[], **base), rank_by), vla)
