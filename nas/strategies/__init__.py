"""Search strategies behind one ask/tell seam.

``STRATEGIES`` maps a strategy name to ``"module:callable"`` where the callable takes
``(space, seed, **options)``; modules are imported only when ``make_strategy`` needs them, so
importing this package pulls in neither Optuna nor torch. Add an entry to register a strategy.
"""
from __future__ import annotations

import importlib
from typing import Any, Callable

from nas.strategies.base import Candidate, Failure, Outcome, Result, Strategy

STRATEGIES: dict[str, str] = {
    "random": "nas.strategies.random_search:RandomSearch",
    "grid": "nas.strategies.grid:GridSearch",
    "evolution": "nas.strategies.evolution:RegularizedEvolution",
    "optuna": "nas.strategies.optuna_adapter:OptunaStrategy",
    "tpe": "nas.strategies.optuna_adapter:tpe",
    "nsga2": "nas.strategies.optuna_adapter:nsga2",
    "rnn": "nas.strategies.controller:RNNController",
    "mnasnet": "nas.strategies.mnasnet:MnasNetController",
}


def strategy_factory(name: str) -> Callable[..., Strategy]:
    """The factory registered as ``name``; ValueError listing the names otherwise."""
    if name not in STRATEGIES:
        raise ValueError(f"unknown strategy {name!r}; accepted: {', '.join(sorted(STRATEGIES))}")
    module, _, attr = STRATEGIES[name].partition(":")
    return getattr(importlib.import_module(module), attr)


def make_strategy(name: str, space: Any, seed: int = 0, **options: Any) -> Strategy:
    """The strategy registered as ``name`` on ``space`` (the one factory every caller uses)."""
    return strategy_factory(name)(space, seed, **options)


__all__ = ["Candidate", "Failure", "Outcome", "Result", "Strategy", "STRATEGIES", "make_strategy", "strategy_factory"]
