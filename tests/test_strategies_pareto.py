"""Pareto front, non-dominated sort and 2-D hypervolume on hand-checked examples."""
from __future__ import annotations

import numpy as np
import pytest

from nas.strategies.pareto import hypervolume_2d, non_dominated_sort, pareto_front


def test_fronts_minimize_both():
    points = [[1, 3], [2, 1], [3, 3], [1, 3], [4, 4], [2, 2]]
    fronts = non_dominated_sort(points, [False, False])
    # (1,3) twice and (2,1) are not dominated; (2,2) is dominated by (2,1); (3,3) by (2,2); (4,4) by all.
    assert [f.tolist() for f in fronts] == [[0, 1, 3], [5], [2], [4]]
    assert pareto_front(points, [False, False]).tolist() == [0, 1, 3]


def test_mixed_directions_and_three_objectives():
    # accuracy (max), MACs (min), latency (min)
    points = [[90, 300, 5], [85, 100, 3], [90, 300, 6], [80, 400, 9], [95, 500, 2]]
    assert pareto_front(points, [True, False, False]).tolist() == [0, 1, 4]
    fronts = non_dominated_sort(points, [True, False, False])
    assert [f.tolist() for f in fronts] == [[0, 1, 4], [2], [3]]
    assert sum(len(f) for f in fronts) == len(points)


def test_hypervolume_hand_checked():
    # Two rectangles [1,4]x[3,4] (area 3) and [2,4]x[1,4] (area 6) overlap on [2,4]x[3,4] (area 2).
    assert hypervolume_2d([[1, 3], [2, 1]], [4, 4], [False, False]) == pytest.approx(7.0)
    # A dominated point and a point beyond the reference add nothing.
    assert hypervolume_2d([[1, 3], [2, 1], [3, 3], [5, 0]], [4, 4], [False, False]) == pytest.approx(7.0)
    # Maximize accuracy, minimize MACs, reference (0 %, 100 M): 90*90 + 80*95 - 80*90.
    assert hypervolume_2d([[90, 10], [80, 5]], [0, 100], [True, False]) == pytest.approx(8500.0)
    assert hypervolume_2d([[90, 10]], [0, 100], [True, False]) == pytest.approx(8100.0)
    assert hypervolume_2d(np.zeros((0, 2)), [0, 0], [True, True]) == 0.0
    # Both maximized: the box between (0,0) and (2,3).
    assert hypervolume_2d([[2, 3]], [0, 0], [True, True]) == pytest.approx(6.0)


def test_hypervolume_grows_with_a_better_point():
    base = hypervolume_2d([[1, 3], [2, 1]], [4, 4], [False, False])
    assert hypervolume_2d([[1, 3], [2, 1], [1.5, 1.5]], [4, 4], [False, False]) == pytest.approx(base + 0.75)


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="one bool per objective"):
        pareto_front([[1, 2]], [True])
    with pytest.raises(ValueError, match="2-D array"):
        pareto_front([1, 2, 3], [True])
    with pytest.raises(ValueError, match="finite"):
        pareto_front([[1, float("nan")]], [True, False])
    with pytest.raises(ValueError, match="needs 2 objectives"):
        hypervolume_2d([[1, 2, 3]], [0, 0, 0], [True, True, True])
