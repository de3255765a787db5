"""The Gaussian masks of CNM and CPL (model/gaussian.py) against their formulas, point by point."""

import math

import pytest
import torch

from vlanet.model.gaussian import cnm_mask, cpl_mask, cpl_negatives, positions


def test_positions_span_the_video():
    assert positions(5).tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]


def test_cnm_mask_is_the_formula_with_the_width_floor():
    c, w = torch.tensor([0.3, 0.8]), torch.tensor([0.4, 0.02])
    g = cnm_mask(9, c, w, alpha=2.0)
    for b in range(2):
        wb = max(float(w[b]), 0.1)  # widths below 0.1 are floored
        for i in range(9):
            t = i / 8
            assert float(g[b, i]) == pytest.approx(math.exp(-2.0 * (t - float(c[b])) ** 2 / wb ** 2), rel=1e-5)


def test_cpl_mask_is_a_normal_density_with_peak_one():
    c, w = torch.tensor([0.5, 0.1]), torch.tensor([0.3, 0.5])
    g = cpl_mask(11, c, w, sigma=9.0)
    assert torch.allclose(g.amax(1), torch.ones(2))
    for b in range(2):
        std = float(w[b]) / 9.0
        dens = [math.exp(-((i / 10 - float(c[b])) ** 2) / (2 * std ** 2)) for i in range(11)]
        top = max(dens)
        assert g[b].tolist() == pytest.approx([d / top for d in dens], rel=1e-4, abs=1e-6)


def test_cpl_negatives_move_from_the_edges_to_the_free_spans():
    c, w = torch.tensor([0.5]), torch.tensor([0.2])  # the proposal covers [0.4, 0.6]
    n = 101
    left, right = cpl_negatives(n, c, w, sigma=9.0, progress=0.0, gamma=1.0)
    assert int(left.argmax()) == 0 and int(right.argmax()) == n - 1  # spikes at the video's edges
    left, right = cpl_negatives(n, c, w, sigma=9.0, progress=1.0, gamma=1.0)
    assert int(left.argmax()) == 20 and int(right.argmax()) == 80  # the middles of [0, 0.4] and [0.6, 1]
    # width = centre (0.2), std = width / (sigma / 2)
    std = 0.2 / 4.5
    want = [math.exp(-((i / 100 - 0.2) ** 2) / (2 * std ** 2)) for i in range(n)]
    assert left[0].tolist() == pytest.approx(want, rel=1e-4, abs=1e-6)
    half, _ = cpl_negatives(n, c, w, sigma=9.0, progress=0.25, gamma=0.5)  # r = 0.25^0.5 = 0.5
    assert int(half.argmax()) == 10
    clipped, _ = cpl_negatives(n, c, w, sigma=9.0, progress=3.0, gamma=1.0)  # progress is clipped to 1
    assert int(clipped.argmax()) == 20
