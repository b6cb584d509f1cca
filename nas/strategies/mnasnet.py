"""The MnasNet-style multi-objective controller (Tan et al., "MnasNet: Platform-Aware Neural
Architecture Search for Mobile", CVPR 2019).

The same RNN policy as NASNet's controller, trained on a shaped reward

    ACC(m) x (LAT(m) / T) ** w,   w = alpha if LAT(m) <= T else beta

with two presets from the paper: a *soft* constraint (alpha = beta = -0.07: every doubling of
latency costs about 5% of reward, so the search trades accuracy for speed on a Pareto slope) and a
*hard* constraint (alpha = 0, beta = -1: no reward for being faster than the target, a steep penalty
for being slower). LAT is whichever metric the caller names from the ``Result`` metrics: a measured
latency (``latency_ms``) or analytic MACs (the EfficientNet-B0 search used MACs with T = 400M).
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from nas.strategies.base import Result
from nas.strategies.controller import RNNController
from search_spaces.base import SearchSpace

PRESETS: dict[str, tuple[float, float]] = {"soft": (-0.07, -0.07), "hard": (0.0, -1.0)}


def _real(name: str, value: numbers.Real) -> float:
    """Any real number type (int, float, Fraction, numpy integers and floats) as a finite float;
    bools and strings are refused."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"mnasnet_reward: {name} must be a finite number, got {value!r}")
    return float(value)


def mnasnet_reward(accuracy: numbers.Real, latency: numbers.Real, target: numbers.Real,
                   alpha: numbers.Real, beta: numbers.Real) -> float:
    """ACC x (LAT / T) ** w with w = alpha if LAT <= T else beta (MnasNet eq. 2)."""
    accuracy, latency, target, alpha, beta = (_real(n, v) for n, v in (
        ("accuracy", accuracy), ("latency", latency), ("target", target), ("alpha", alpha), ("beta", beta)))
    if latency <= 0 or target <= 0:
        raise ValueError(f"mnasnet_reward: latency and target must be > 0, got latency={latency!r}, "
                         f"target={target!r}")
    w = alpha if latency <= target else beta
    return accuracy * (latency / target) ** w


def resolve_constraint(constraint: str | tuple[float, float]) -> tuple[float, float]:
    """A preset name ('soft' / 'hard') or an explicit (alpha, beta) pair."""
    if isinstance(constraint, str):
        if constraint not in PRESETS:
            raise ValueError(f"constraint {constraint!r} unknown; accepted: {sorted(PRESETS)} "
                             f"or an (alpha, beta) pair")
        return PRESETS[constraint]
    if (isinstance(constraint, (tuple, list)) and len(constraint) == 2
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                    for v in constraint)):
        return float(constraint[0]), float(constraint[1])
    raise ValueError(f"constraint must be one of {sorted(PRESETS)} or an (alpha, beta) pair of "
                     f"finite numbers, got {constraint!r}")


class MnasNetController(RNNController):
    """``MnasNetController(space, seed, metric="macs", target=400e6, constraint="hard", ...)``.

    The reward told in each ``Result`` is taken as ACC; ``Result.metrics[metric]`` as LAT. Other
    keyword options are :class:`~nas.strategies.controller.ControllerConfig` fields; the algorithm
    defaults to PPO, as MnasNet trained its controller like NASNet's.
    """

    kind = "mnasnet_controller"

    def __init__(self, space: SearchSpace, seed: int | np.random.SeedSequence | np.random.Generator = 0,
                 *, metric: str, target: float, constraint: str | tuple[float, float] = "soft",
                 **options):
        if not isinstance(metric, str) or not metric:
            raise ValueError(f"metric must be a non-empty metric name, got {metric!r}")
        if (isinstance(target, bool) or not isinstance(target, (int, float))
                or not math.isfinite(target) or target <= 0):
            raise ValueError(f"target must be a finite number > 0, got {target!r}")
        self.metric = metric
        self.target = float(target)
        self.alpha, self.beta = resolve_constraint(constraint)
        options.setdefault("algorithm", "ppo")
        super().__init__(space, seed=seed, **options)

    def reward_of(self, result: Result) -> float:
        if self.metric not in result.metrics:
            raise ValueError(f"MnasNet reward needs metric {self.metric!r} in the result; "
                             f"it has {sorted(result.metrics)}")
        return mnasnet_reward(result.reward, result.metrics[self.metric], self.target,
                              self.alpha, self.beta)

    def _config(self) -> dict:
        # the objective joins the config a checkpoint is checked against
        return {**super()._config(), "metric": self.metric, "target": self.target,
                "alpha": self.alpha, "beta": self.beta}
