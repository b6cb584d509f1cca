"""Multi-objective helpers in plain numpy: Pareto dominance, non-dominated sorting (Deb et al.
2002, NSGA-II) and the 2-D hypervolume indicator (Zitzler & Thiele 1998), as used to compare
accuracy-vs-latency searches such as MnasNet's (Tan et al. 2019).

Every function takes ``points`` as an (n, m) array-like (one row per candidate, one column per
objective) and ``maximize``, one flag per objective; internally all objectives are turned into
minimization by negating the maximized ones.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np


def _oriented(points, maximize: Sequence[bool]) -> np.ndarray:
    array = np.asarray(points, dtype=float)
    if array.ndim == 1 and array.size == 0:
        array = array.reshape(0, len(maximize))
    if array.ndim != 2:
        raise ValueError(f"points must be a 2-D array (n candidates x m objectives), got shape {array.shape}")
    flags = np.asarray(maximize)
    if flags.ndim != 1 or len(flags) != array.shape[1] or flags.dtype != bool:
        raise ValueError(f"maximize must hold one bool per objective ({array.shape[1]}), got {maximize!r}")
    if not np.isfinite(array).all():
        raise ValueError("points must be finite (drop failed candidates first)")
    return np.where(flags, -array, array)


def _dominance(costs: np.ndarray) -> np.ndarray:
    """``d[i, j]``: row i dominates row j (no worse everywhere, strictly better somewhere)."""
    no_worse = (costs[:, None, :] <= costs[None, :, :]).all(axis=2)
    better = (costs[:, None, :] < costs[None, :, :]).any(axis=2)
    return no_worse & better


def non_dominated_sort(points, maximize: Sequence[bool]) -> list[np.ndarray]:
    """Fronts of row indices, best first: front 0 is the Pareto front, front k is the Pareto front
    once fronts 0..k-1 are removed. Duplicate points share a front."""
    dominates = _dominance(_oriented(points, maximize))
    dominated_by = dominates.sum(axis=0)
    left = np.ones(len(dominates), dtype=bool)
    fronts = []
    while left.any():
        front = np.flatnonzero(left & (dominated_by == 0))
        fronts.append(front)
        left[front] = False
        dominated_by -= dominates[front].sum(axis=0)
    return fronts


def pareto_front(points, maximize: Sequence[bool]) -> np.ndarray:
    """Row indices of the non-dominated points, ascending."""
    fronts = non_dominated_sort(points, maximize)
    return fronts[0] if fronts else np.zeros(0, dtype=int)


def hypervolume_2d(points, reference: Sequence[float], maximize: Sequence[bool]) -> float:
    """Area dominated by ``points`` and bounded by ``reference`` (a point worse than all that count).

    Points not strictly better than the reference in both objectives add nothing.
    """
    costs = _oriented(points, maximize)
    if costs.shape[1] != 2:
        raise ValueError(f"hypervolume_2d needs 2 objectives, got {costs.shape[1]}")
    ref = _oriented([reference], maximize)[0]
    costs = costs[(costs < ref).all(axis=1)]
    if not len(costs):
        return 0.0
    costs = costs[pareto_front(costs, [False, False])]
    costs = costs[np.lexsort((costs[:, 1], costs[:, 0]))]  # x ascending, so y descending on a front
    # Sweep in x: each front point adds the strip between its y and the previous point's y.
    upper = np.concatenate([[ref[1]], costs[:-1, 1]])
    return float(np.sum((ref[0] - costs[:, 0]) * (upper - costs[:, 1])))
