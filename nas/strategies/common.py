"""Bookkeeping every strategy shares: the seeded generator's JSON state, candidate ids, pending
candidates, outcome checks and the space fingerprint a checkpoint is checked against.

Kept apart from ``base.py`` (the seam) so strategies stay small; imports numpy only.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from nas.strategies.base import Candidate, Failure, Outcome, Result


def new_rng(seed: Any) -> np.random.Generator:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer, np.random.SeedSequence)):
        raise TypeError(f"seed must be an int or numpy SeedSequence, got {seed!r}")
    return np.random.default_rng(seed)


def rng_state(rng: np.random.Generator) -> dict:
    """The generator's exact state; JSON-serializable (Python ints have no size limit)."""
    return rng.bit_generator.state


def restore_rng(state: dict) -> np.random.Generator:
    name = state.get("bit_generator") if isinstance(state, dict) else None
    if not hasattr(np.random, str(name)):
        raise ValueError(f"rng state names unknown bit generator {name!r}")
    bit_generator = getattr(np.random, name)()
    bit_generator.state = state
    return np.random.Generator(bit_generator)


def check_n(n: Any) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"ask(n): n must be an int >= 0, got {n!r}")
    return int(n)


def check_outcome(outcome: Any) -> Outcome:
    if isinstance(outcome, Failure):
        return outcome
    if not isinstance(outcome, Result):
        raise TypeError(f"tell: outcome must be a Result or a Failure, got {type(outcome).__name__}")
    if not isinstance(outcome.reward, (int, float, np.floating, np.integer)) or not math.isfinite(outcome.reward):
        raise ValueError(f"tell: reward must be a finite number, got {outcome.reward!r} "
                         "(report a failed evaluation as Failure(reason))")
    return outcome


def space_size(space) -> int:
    return math.prod(len(d.choices) for d in space.dimensions())


def unflatten(space, flat: int) -> tuple[int, ...]:
    """Decision indices of grid point ``flat`` (lexicographic order, last dimension fastest)."""
    digits = []
    for dim in reversed(space.dimensions()):
        flat, digit = divmod(flat, len(dim.choices))
        digits.append(digit)
    return tuple(digits[::-1])


def flatten(space, decisions: Sequence[int]) -> int:
    flat = 0
    for dim, digit in zip(space.dimensions(), decisions):
        flat = flat * len(dim.choices) + int(digit)
    return flat


def fingerprint(space) -> list:
    """What a checkpoint must agree on: the decision names and their number of options."""
    return [[d.name, len(d.choices)] for d in space.dimensions()]


class Ledger:
    """Issues candidate ids and remembers what is pending (asked, not yet told)."""

    def __init__(self) -> None:
        self.next_id = 0
        self.pending: dict[int, list] = {}

    def issue(self, space, decisions: Sequence[int], *extra) -> Candidate:
        decisions = tuple(int(d) for d in decisions)
        candidate = Candidate(self.next_id, space.freeze(decisions), decisions)
        self.pending[candidate.id] = [list(decisions), *extra]
        self.next_id += 1
        return candidate

    def take(self, candidate: Candidate) -> list:
        """The pending record of ``candidate``; each candidate is told exactly once."""
        if not isinstance(candidate, Candidate):
            raise TypeError(f"tell: expected a Candidate, got {type(candidate).__name__}")
        record = self.pending.pop(candidate.id, None)
        if record is None:
            raise ValueError(f"tell: candidate {candidate.id} is not pending (never asked here, or already told)")
        if tuple(record[0]) != tuple(candidate.decisions):
            self.pending[candidate.id] = record
            raise ValueError(f"tell: candidate {candidate.id} has decisions {candidate.decisions}, "
                             f"but {tuple(record[0])} were asked")
        return record

    def state(self) -> dict:
        return {"next_id": self.next_id, "pending": [[k, *v] for k, v in self.pending.items()]}

    def load(self, state: dict) -> None:
        self.next_id = int(state["next_id"])
        self.pending = {int(row[0]): list(row[1:]) for row in state["pending"]}


def check_state(state: Any, kind: str, config: dict, space) -> None:
    """Refuse a checkpoint of another strategy, configuration or space, naming the difference."""
    if not isinstance(state, dict) or state.get("strategy") != kind:
        found = state.get("strategy") if isinstance(state, dict) else type(state).__name__
        raise ValueError(f"state_dict is for strategy {found!r}, not {kind!r}")
    for key, value in config.items():
        if state["config"].get(key) != value:
            raise ValueError(f"state_dict config {key}={state['config'].get(key)!r} differs from this "
                             f"strategy's {key}={value!r}")
    if state.get("space") != fingerprint(space):
        raise ValueError(f"state_dict was taken on a space with decisions {state.get('space')}, "
                         f"not {fingerprint(space)}")


def seal(strategy, **body: Any) -> dict:
    """The one checkpoint envelope of every strategy: its kind, configuration, the space's
    fingerprint and its generator, then what the strategy itself keeps (``body``)."""
    return {"strategy": strategy.kind, "config": strategy._config(), "space": fingerprint(strategy.space),
            "rng": rng_state(strategy.rng), "body": body}


def unseal(strategy, state: Any) -> dict:
    """Check ``state`` belongs to ``strategy`` (kind, configuration, space), restore its generator
    and return the body. Envelopes written before the body was nested are read as they stand."""
    check_state(state, strategy.kind, strategy._config(), strategy.space)
    strategy.rng = restore_rng(state["rng"])
    return state.get("body", state)
