"""The Charades-STA metrics on hand-computed cases."""

import json

import numpy as np
import pytest

from vlanet.data.annotations import Query
from vlanet.eval.evaluate import Protocol, evaluate_files, evaluate_rows
from vlanet.eval.metrics import recall_metrics
from vlanet.utils.errors import InputError


def test_hand_computed_recalls_and_miou():
    gts = [[[0, 10]], [[20, 30]], [[5, 6]]]
    preds = [
        [[0, 10, 0.9], [50, 60, 0.1]],  # top-1 IoU 1.0
        [[0, 5, 0.9], [22, 30, 0.8]],  # top-1 IoU 0; rank-2 IoU 0.8
        [],  # empty: a miss everywhere, IoU 0
    ]
    m = recall_metrics(preds, gts, (1, 5), (0.3, 0.5, 0.7))
    assert m["R@1,IoU=0.5"] == pytest.approx(100 / 3)
    assert m["R@5,IoU=0.7"] == pytest.approx(200 / 3)
    assert m["mIoU"] == pytest.approx(100 / 3)


def test_iou_exactly_at_threshold_depends_on_hit_rule():
    gts = [[[0, 10]]]
    preds = [[[0, 5, 1.0]]]  # IoU exactly 0.5
    assert recall_metrics(preds, gts, (1,), (0.5,), hit_rule=">=")["R@1,IoU=0.5"] == 100
    assert recall_metrics(preds, gts, (1,), (0.5,), hit_rule=">")["R@1,IoU=0.5"] == 0


def test_zero_length_prediction_and_gt_never_hit():
    assert recall_metrics([[[3, 3, 1.0]]], [[[0, 10]]], (1,), (0.3,))["R@1,IoU=0.3"] == 0
    assert recall_metrics([[[0, 10, 1.0]]], [[[4, 4]]], (1,), (0.3,))["R@1,IoU=0.3"] == 0


def test_fewer_than_n_predictions_uses_what_exists():
    m = recall_metrics([[[0, 10, 1.0]]], [[[0, 10]]], (1, 5), (0.7,))
    assert m["R@5,IoU=0.7"] == 100


def test_ties_keep_the_given_order():
    gts = [[[0, 10]]]
    preds = [[[20, 30, 0.5], [0, 10, 0.5]]]
    assert recall_metrics(preds, gts, (1,), (0.5,))["R@1,IoU=0.5"] == 0
    assert recall_metrics(preds, gts, (1,), (0.5,), nms_mode=0.5)["R@1,IoU=0.5"] == 0


def test_nms_modes_change_top5():
    gts = [[[40, 50]]]
    near_dupes = [[0, 10, 0.9 - i * 0.01] for i in range(5)] + [[40, 50, 0.1]]
    assert recall_metrics([near_dupes], gts, (5,), (0.5,))["R@5,IoU=0.5"] == 0
    assert recall_metrics([near_dupes], gts, (5,), (0.5,), nms_mode=0.5)["R@5,IoU=0.5"] == 100
    assert recall_metrics([near_dupes], gts, (5,), (0.5,), nms_mode="tall")["R@5,IoU=0.5"] == 100


def test_multiple_gt_windows_take_the_best():
    m = recall_metrics([[[20, 30, 1.0]]], [[[0, 10], [20, 30]]], (1,), (0.7,))
    assert m["R@1,IoU=0.7"] == 100 and m["mIoU"] == 100


def test_missing_prediction_is_an_input_error():
    with pytest.raises(InputError, match="no prediction"):
        evaluate_rows({}, [Query(1, "v", "q", 10.0, [[0, 1]])], Protocol())


def test_evaluate_files_roundtrip(tmp_path):
    gt = tmp_path / "gt.jsonl"
    pr = tmp_path / "pr.jsonl"
    gt.write_text(json.dumps({"qid": 1, "vid": "v", "query": "q", "duration": 30, "relevant_windows": [[0, 10]]}) + "\n")
    pr.write_text(json.dumps({"qid": 1, "pred_relevant_windows": [[0, 9, 0.5]]}) + "\n")
    m = evaluate_files(pr, gt, Protocol())
    assert m["R@1,IoU=0.7"] == 100 and m["mIoU"] == pytest.approx(90)


# -- mAP (moment_detr's definition) -----------------------------------------------------------
def test_average_precision_hand_computed():
    from vlanet.eval.metrics import average_precision

    assert average_precision([[0, 10, 0.9], [20, 30, 0.8]], [[0, 10]], 0.5) == pytest.approx(1.0)
    assert average_precision([[20, 30, 0.9], [0, 10, 0.8]], [[0, 10]], 0.5) == pytest.approx(0.5)
    # two ground-truth windows; the second prediction re-finds a matched one: a false positive
    ap = average_precision([[0, 10, 0.9], [1, 10, 0.8], [20, 30, 0.7]], [[0, 10], [20, 30]], 0.5)
    assert ap == pytest.approx(0.5 * 1.0 + 0.5 * (2 / 3))
    # scores, not list order, rank the windows
    assert average_precision([[0, 10, 0.8], [20, 30, 0.9]], [[0, 10]], 0.5) == pytest.approx(0.5)
    assert average_precision([], [[0, 10]], 0.5) == 0.0


def test_map_averages_thresholds_and_keeps_the_top_10():
    from vlanet.eval.metrics import map_metrics

    gt = [[[0.0, 10.0]]]
    # IoU 0.8: a hit up to threshold 0.8, a miss from 0.85 (7 of the 10 thresholds)
    m = map_metrics([[[0.0, 8.0, 1.0]]], gt)
    assert m["mAP@0.5"] == 100.0 and m["mAP@0.75"] == 100.0 and m["mAP"] == pytest.approx(70.0)
    # the right window in 11th place is not counted
    far = [[100.0 + i, 101.0 + i, 1.0 - i / 100] for i in range(10)]
    assert map_metrics([far + [[0.0, 10.0, 0.0]]], gt)["mAP"] == 0.0
    assert map_metrics([far[:9] + [[0.0, 10.0, 0.0]]], gt)["mAP"] == pytest.approx(10.0)


def test_prediction_rows_list_each_window_once():
    """A window proposed twice (two scales clipped at the video's end) takes one top-k place."""
    from vlanet.data.annotations import Query
    from vlanet.predict import prediction_row

    q = Query(1, "v", "q", 30.0, [[0.0, 5.0]])
    wins = np.array([[25.0, 30.0], [25.0, 30.0], [0.0, 5.0], [5.0, 10.0]])
    row = prediction_row(q, wins, np.array([0.9, 0.8, 0.7, 0.6]), None, 3)
    assert [w[:2] for w in row["pred_relevant_windows"]] == [[25.0, 30.0], [0.0, 5.0], [5.0, 10.0]]
    assert row["pred_relevant_windows"][0][2] == 0.9


def test_average_precision_breaks_equal_overlaps_as_moment_detr_does():
    """A window overlapping two ground-truth windows equally takes the last listed one (numpy's
    argsort reversed, as in moment_detr's and lighthouse's evaluators), leaving [0, 10] to the
    second prediction: both are true positives. Taking the first would make the second a miss (AP 0.5)."""
    from vlanet.eval.metrics import average_precision

    gt = [[0.0, 10.0], [10.0, 20.0]]
    pred = [[5.0, 15.0, 0.9], [0.0, 10.0, 0.8]]  # IoU 1/3 with both, then 1.0 with the first
    assert average_precision(pred, gt, 0.3) == pytest.approx(1.0)
