"""The one prediction path (predict.py): scoring a mismatched pair per query is asked for, and
asking for it changes no prediction."""

import math

import torch

from vlanet.checkpoint import build_model
from vlanet.config import load_config
from vlanet.data.loading import load_splits
from vlanet.predict import predict_dataset


def test_negative_pairs_are_scored_only_when_asked_and_change_no_prediction():
    cfg = load_config(None, ["data.synthetic_train_videos=6", "data.synthetic_test_videos=6", "data.synthetic_dim=16",
                             "model.hidden_dim=16", "eval.batch_size=8"])
    splits = load_splits(cfg, ("test",))
    torch.manual_seed(0)
    model = build_model(cfg, splits.feature_dim, splits.words)
    plain = predict_dataset(model, splits.test, cfg.eval)
    with_neg = predict_dataset(model, splits.test, cfg.eval, negatives=True)
    assert plain.rows == with_neg.rows and plain.pos_score == with_neg.pos_score
    assert math.isnan(plain.neg_score) and math.isfinite(with_neg.neg_score)
    assert with_neg.neg_score != with_neg.pos_score
