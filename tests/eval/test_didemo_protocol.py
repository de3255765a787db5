"""The DiDeMo protocol on hand-computed cases, and the window <-> chunk mapping."""

import pytest

from vlanet.data.annotations import Query
from vlanet.eval.baselines import didemo_baseline
from vlanet.eval.evaluate import Protocol, evaluate_rows, window_to_chunks
from vlanet.eval.metrics import DIDEMO_MOMENTS, didemo_iou, didemo_metrics
from vlanet.utils.errors import InputError


def test_21_candidates_in_official_order():
    assert len(DIDEMO_MOMENTS) == 21 and DIDEMO_MOMENTS[:7] == [(0, 0), (1, 1), (2, 2), (3, 3), (4, 4), (5, 5), (0, 1)]
    assert DIDEMO_MOMENTS[-1] == (4, 5)


def test_chunk_iou_uses_plus_one():
    assert didemo_iou((0, 0), (0, 0)) == 1.0
    assert didemo_iou((0, 1), (1, 2)) == pytest.approx(1 / 3)
    assert didemo_iou((0, 0), (2, 3)) == 0.0


def test_mean_of_best_three_ranks_is_tested_on_the_mean():
    ranked = [list(DIDEMO_MOMENTS)]
    # annotator moments at ranks 1, 5, 9 (and one at 21): best three average 5.0 -> R@5 hit, no R@1
    gts = [[DIDEMO_MOMENTS[0], DIDEMO_MOMENTS[4], DIDEMO_MOMENTS[8], DIDEMO_MOMENTS[20]]]
    m = didemo_metrics(ranked, gts)
    assert m["R@1"] == 0 and m["R@5"] == 100
    # top-1 is (0,0); annotators (0,0), (4,4), (0,3), (4,5): IoUs 1, 0, 1/4, 0 -> best three mean 5/12
    assert DIDEMO_MOMENTS[8] == (0, 3)
    assert m["mIoU"] == pytest.approx(100 * 5 / 12)


def test_fewer_than_three_annotations_average_what_exists():
    m = didemo_metrics([[(1, 1), (0, 0)]], [[(1, 1)]])
    assert m == {"R@1": 100.0, "R@5": 100.0, "mIoU": 100.0}


def test_window_mapping_and_off_grid_error():
    assert window_to_chunks([5.0, 10.0], 30.0, "x") == (1, 1)
    assert window_to_chunks([20.0, 27.3], 27.3, "x") == (4, 5)  # true end maps to its chunk
    with pytest.raises(InputError, match="does not start on the 5-second DiDeMo grid"):
        window_to_chunks([2.0, 10.0], 30.0, "x")
    with pytest.raises(InputError, match="does not end"):
        window_to_chunks([0.0, 7.0], 30.0, "x")


def test_oracle_and_prior_baselines_through_the_evaluator():
    qs = [Query(1, "v", "q", 30.0, [[0, 5]] * 3 + [[5, 10]], {"didemo_times": [[0, 0], [0, 0], [0, 0], [1, 1]]}),
          Query(2, "w", "q", 30.0, [[5, 15]] * 2, {"didemo_times": [[1, 2], [1, 2]]})]
    proto = Protocol("didemo")
    oracle = evaluate_rows(didemo_baseline("oracle", qs, None), qs, proto)
    # the most-voted moment first: annotator ranks (1, 1, 1, 2) and (1, 1) -> both R@1 hits
    assert oracle == {"R@1": 100.0, "R@5": 100.0, "mIoU": pytest.approx(100 * (1 + 1 + 1) / 3)}
    rnd = evaluate_rows(didemo_baseline("random", qs, None, seed=0), qs, proto)
    assert 0 <= rnd["R@1"] <= rnd["R@5"] <= 100
    prior = didemo_baseline("prior", qs[1:], qs[:1])
    assert prior[2]["pred_relevant_windows"][0][:2] == [0.0, 5.0]  # (0,0) is the most frequent moment
