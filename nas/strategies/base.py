"""The ask/tell seam all strategies share (Optuna's ask/tell lesson: let others drive the loop).

Strategies see specs and results only, never models; each owns a seeded
``numpy.random.Generator`` and can be checkpointed with ``state_dict`` / ``load_state_dict``.
"""
from __future__ import annotations

import abc
import math
import numbers
from dataclasses import dataclass, field
from typing import Any, Mapping, Union


@dataclass(frozen=True)
class Candidate:
    """One proposed architecture. ``id`` is unique within a strategy's life (resumes included)."""

    id: int
    spec: Any
    decisions: tuple[int, ...]


@dataclass(frozen=True)
class Result:
    """A finished evaluation. ``reward`` is what the strategy maximizes (validation accuracy unless
    the strategy says otherwise); ``metrics`` carries the rest (params, macs, latency_ms, ...)."""

    reward: float
    metrics: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Failure:
    """An evaluation that produced no usable reward (NaN loss, out of memory, build error)."""

    reason: str


Outcome = Union[Result, Failure]


def as_outcome(value: Any) -> "Outcome":
    """The one place an evaluator's return value becomes an outcome: a bare real number is a
    Result, a non-finite reward a Failure (a diverged candidate), anything else a Failure naming
    its type."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        value = Result(float(value))
    if isinstance(value, Failure):
        return value
    if not isinstance(value, Result):
        return Failure(f"evaluator returned {type(value).__name__}, not Result or Failure")
    if not math.isfinite(float(value.reward)):
        return Failure(f"diverged: reward is {value.reward}")
    return value


class Strategy(abc.ABC):
    """ask(n) -> candidates; tell(candidate, outcome); state_dict round trip resumes exactly."""

    @abc.abstractmethod
    def ask(self, n: int = 1) -> list[Candidate]:
        ...

    @abc.abstractmethod
    def tell(self, candidate: Candidate, outcome: Outcome) -> None:
        ...

    @abc.abstractmethod
    def state_dict(self) -> dict:
        """JSON-serializable state (generator state included)."""

    @abc.abstractmethod
    def load_state_dict(self, state: dict) -> None:
        ...
