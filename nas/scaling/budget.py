"""The largest network that fits a budget, over a grid of two knobs (NASNet's "N @ F": normal
cells per stage and filters, Zoph et al. 2018 section 4; MnasNet/EfficientNet's depth and width
multipliers for block specs).

"Largest" is defined exactly, so a test can check it by brute force:

- candidates are the grid ``outer x inner`` (cells: N in ``outer``, F in ``inner``; blocks: depth
  multiplier in ``outer``, width multiplier in ``inner``);
- a candidate fits when its MACs <= ``max_macs`` and its params <= ``max_params`` (each only when
  given);
- among the fitting candidates the one with the largest key ``(primary, inner, outer)`` wins,
  where ``primary`` is the MACs when ``max_macs`` is given, else the params. So the budgeted
  quantity is used as fully as possible; ties (rounding makes neighbours equal) go to the wider,
  then the deeper network.

The search bisects ``inner`` for each ``outer`` value. That is exact because cost never decreases
as the inner knob grows (more filters, or a larger width multiplier through monotone rounding):
the largest fitting inner value of an outer value also has its largest primary cost, so the
per-outer winners contain the global winner.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

from cells.counting import Cost

Make = Callable[[Any, Any], Any]       # (outer, inner) -> spec
CostOf = Callable[[Any], Cost]


@dataclass(frozen=True)
class Fit:
    """The chosen grid point, its spec and cost, and how many costs were computed."""

    outer: Any
    inner: Any
    spec: Any
    cost: Cost
    evaluated: int


def _check_limit(name: str, value: Any) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}")


def fits(cost: Cost, max_macs: float | None, max_params: float | None) -> bool:
    return (max_macs is None or cost.macs <= max_macs) and (max_params is None or cost.params <= max_params)


def key(cost: Cost, inner: Any, outer: Any, max_macs: float | None) -> tuple:
    """The order "largest" means (see the module docstring)."""
    return (cost.macs if max_macs is not None else cost.params, inner, outer)


def largest_fit(make: Make, cost_of: CostOf, outer: Sequence, inner: Sequence, *,
                max_macs: float | None = None, max_params: float | None = None) -> Fit:
    """The largest grid point within the budget; ValueError naming the smallest candidate's cost
    when nothing fits. ``inner`` must be ascending (cost non-decreasing along it)."""
    _check_limit("max_macs", max_macs)
    _check_limit("max_params", max_params)
    if max_macs is None and max_params is None:
        raise ValueError("a budget needs max_macs and/or max_params")
    outer, inner = list(outer), list(inner)
    if not outer or not inner:
        raise ValueError(f"the candidate grid is empty (outer={outer}, inner={inner})")
    if any(b <= a for a, b in zip(inner, inner[1:])):
        raise ValueError(f"inner grid values must be strictly ascending, got {inner}")
    cache: dict[tuple, Cost] = {}

    def cost_at(o: Any, i: int) -> Cost:
        if (o, i) not in cache:
            cache[(o, i)] = cost_of(make(o, inner[i]))
        return cache[(o, i)]

    best: tuple | None = None
    for o in outer:
        lo, hi = -1, len(inner)  # invariant: inner[lo] fits (or lo = -1), inner[hi] does not
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if fits(cost_at(o, mid), max_macs, max_params):
                lo = mid
            else:
                hi = mid
        if lo >= 0:
            candidate = (key(cost_at(o, lo), inner[lo], o, max_macs), o, lo)
            best = candidate if best is None or candidate[0] > best[0] else best
    if best is None:
        smallest = min((cost_at(o, 0) for o in outer), key=lambda c: (c.macs, c.params))
        raise ValueError(f"no candidate fits the budget (max_macs={max_macs}, max_params={max_params}); "
                         f"the smallest on the grid has {smallest.params:,} params and {smallest.macs:,} MACs")
    _, o, i = best
    return Fit(o, inner[i], make(o, inner[i]), cost_at(o, i), len(cache))


def brute_force_fit(make: Make, cost_of: CostOf, outer: Sequence, inner: Sequence, *,
                    max_macs: float | None = None, max_params: float | None = None) -> Fit | None:
    """The same choice by evaluating every grid point (for tests and small grids)."""
    best = None
    count = 0
    for o in outer:
        for i in inner:
            spec = make(o, i)
            cost = cost_of(spec)
            count += 1
            if fits(cost, max_macs, max_params):
                k = key(cost, i, o, max_macs)
                if best is None or k > best[0]:
                    best = (k, Fit(o, i, spec, cost, 0))
    return None if best is None else Fit(best[1].outer, best[1].inner, best[1].spec, best[1].cost, count)


def step_grid(step: float, stop: float, start: float | None = None) -> list:
    """``start, start + step, ... <= stop`` (start defaults to ``step``); ints stay ints and
    floats are rounded to 6 decimals so the values print and compare cleanly."""
    _check_limit("step", step)
    start = step if start is None else start
    count = int((stop - start) / step + 1e-9) + 1
    if count < 1:
        raise ValueError(f"empty grid: start {start} > stop {stop}")
    if all(isinstance(v, int) for v in (step, start)):
        return [start + k * step for k in range(count)]
    return [round(start + k * step, 6) for k in range(count)]
