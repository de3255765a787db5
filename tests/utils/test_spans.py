import numpy as np
import pytest

from vlanet.utils.spans import iou_matrix, nms, proposal_grid, temporal_iou


@pytest.mark.parametrize("a,b,want", [
    ((0, 10), (5, 15), 5 / 15),
    ((0, 10), (0, 10), 1.0),
    ((0, 10), (10, 20), 0.0),  # touching
    ((0, 10), (2, 4), 0.2),
    ((3, 3), (0, 10), 0.0),  # zero length
    ((5, 2), (0, 10), 0.0),  # reversed
])
def test_temporal_iou_hand_cases(a, b, want):
    assert temporal_iou(a, b) == pytest.approx(want)
    assert temporal_iou(b, a) == pytest.approx(want)


def test_iou_matrix_matches_scalar():
    rng = np.random.default_rng(0)
    a = np.sort(rng.uniform(0, 30, (7, 2)), 1)
    b = np.sort(rng.uniform(0, 30, (5, 2)), 1)
    b[0] = [4, 4]
    m = iou_matrix(a, b)
    for i in range(7):
        for j in range(5):
            assert m[i, j] == pytest.approx(temporal_iou(a[i], b[j]))


@pytest.mark.parametrize("a,b,want", [
    ((0.0, 5e-324), (0.0, 5e-324), 1.0),  # a subnormal window (hypothesis found it): halving would zero it
    ((-1e308, 1e308), (0.0, 1e308), 0.5),  # no overflow at the edge of float64
])
def test_iou_at_the_float_limits_same_in_both_forms(a, b, want):
    assert temporal_iou(a, b) == want
    assert iou_matrix(np.array([a]), np.array([b]))[0, 0] == want


def test_nms_suppresses_above_threshold_only():
    w = np.array([[0, 10], [1, 11], [0, 5], [20, 30]], float)
    s = np.array([0.9, 0.8, 0.7, 0.6])
    # IoU([0,10],[1,11]) = 9/11 > 0.5 -> suppressed; IoU([0,10],[0,5]) = 0.5 -> kept (not > 0.5)
    assert nms(w, s, 0.5).tolist() == [0, 2, 3]
    assert nms(w, s, None).tolist() == [0, 1, 2, 3]
    assert nms(w, s, 0.5, topk=2).tolist() == [0, 2]


def test_nms_ties_keep_input_order():
    w = np.array([[0, 1], [2, 3], [4, 5]], float)
    assert nms(w, np.array([0.5, 0.5, 0.5]), 0.5).tolist() == [0, 1, 2]


def test_proposal_grid_groups_share_start_and_clip():
    win, mask = proposal_grid(12.0, 1.0, [4.0, 6.0, 8.0], "clip")
    # groups while the smallest window (4 s) fits: starts 0..8
    assert win.shape == (9, 3, 2) and mask.all()
    assert np.allclose(win[:, :, 0], np.arange(9)[:, None])
    assert np.allclose(win[0, :, 1], [4, 6, 8])
    assert np.allclose(win[8, :, 1], [12, 12, 12])  # clipped to the end


def test_proposal_grid_drop_masks_overflowing_scales():
    win, mask = proposal_grid(12.0, 1.0, [4.0, 6.0, 8.0], "drop")
    assert mask[4].tolist() == [True, True, True]
    assert mask[5].tolist() == [True, True, False]
    assert mask[8].tolist() == [True, False, False]


def test_short_video_still_gets_proposals():
    for overflow in ("clip", "drop"):
        win, mask = proposal_grid(3.0, 1.0 / 3, [7.33, 8.67, 10.0], overflow)
        assert win.shape[0] == 1 and mask.all()
        assert np.allclose(win[0, :, 0], 0) and np.allclose(win[0, :, 1], 3.0)
