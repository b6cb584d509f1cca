"""The NASNet RNN controller (REINFORCE and PPO) against random search on NAS-Bench-201 with the
tabular evaluator (12-epoch table, reward = cifar10_valid): a small, fast configuration of
benchmarks/strategies_nb201.py (100 queries, 10 seeds, default controller hyperparameters).
Seeds are fixed, so the figures are exact; the test fails if the policy stops learning."""
from __future__ import annotations

import numpy as np
import pytest

from nas.strategies import Result, make_strategy
from search_spaces.nasbench201.space import NB201Space
from search_spaces.nasbench201.table import NB201Table

SEEDS = range(10)
QUERIES = 100
CONFIGS = {
    "random": ("random", {}),
    "rnn_reinforce": ("rnn", {"algorithm": "reinforce"}),
    "rnn_ppo": ("rnn", {"algorithm": "ppo"}),
}


@pytest.fixture(scope="module")
def table(shared_data):
    return NB201Table(shared_data / "nasbench201-12epoch.csv")


def best_found(name: str, seed: int, table: NB201Table) -> float:
    registered, options = CONFIGS[name]
    strategy = make_strategy(registered, NB201Space(), seed, **options)
    best = -np.inf
    for _ in range(QUERIES):
        [candidate] = strategy.ask(1)
        accuracy = table.query(candidate.spec, "cifar10_valid")
        strategy.tell(candidate, Result(accuracy))
        best = max(best, accuracy)
    return best


def test_rnn_controller_beats_random_search(table):
    best = {name: [best_found(name, seed, table) for seed in SEEDS] for name in CONFIGS}
    for name, values in best.items():
        print(f"{name}: mean best cifar10_valid {np.mean(values):.3f} +- {np.std(values):.3f}")
    assert np.mean(best["rnn_reinforce"]) > np.mean(best["random"])
    assert np.mean(best["rnn_ppo"]) > np.mean(best["random"])
