"""Strategies compared on NAS-Bench-201 with the tabular evaluator (12-epoch table, reward =
cifar10_valid): a small, fast configuration of the issue's benchmark. Evolution and TPE must beat
random search's mean best-found accuracy, and NSGA-II's accuracy-vs-MACs front must beat random
search's hypervolume at equal queries. Seeds and sizes are fixed, so the figures are exact."""
from __future__ import annotations

import numpy as np
import pytest

from nas.strategies import Result, make_strategy
from nas.strategies.pareto import hypervolume_2d
from search_spaces.nasbench201.space import NB201Space
from search_spaces.nasbench201.table import NB201Table

SEEDS = range(5)
QUERIES = 100
SINGLE = {
    "random": {},
    "evolution": {"population_size": 20, "sample_size": 5},
    "tpe": {"sampler_options": {"n_startup_trials": 10}},
}
# Hypervolume reference: 60 % validation accuracy and 230 M MACs (the largest cell has 220.1 M).
REFERENCE = (60.0, 230.0)


@pytest.fixture(scope="module")
def table(shared_data):
    return NB201Table(shared_data / "nasbench201-12epoch.csv")


def search(name: str, seed: int, queries: int, table: NB201Table, **options) -> list[tuple[float, float]]:
    """(cifar10_valid, MMACs) of every candidate, in ask order, asking two at a time."""
    space = NB201Space()
    strategy = make_strategy(name, space, seed, **options)
    seen: list[tuple[float, float]] = []
    while len(seen) < queries:
        for candidate in strategy.ask(2):
            accuracy, macs = table.query(candidate.spec), space.cost(candidate.spec).macs / 1e6
            strategy.tell(candidate, Result(accuracy, {"macs": macs}))
            seen.append((accuracy, macs))
    return seen


def test_evolution_and_tpe_beat_random(table):
    best = {name: [max(a for a, _ in search(name, seed, QUERIES, table, **options)) for seed in SEEDS]
            for name, options in SINGLE.items()}
    for name, values in best.items():
        print(f"{name}: mean best cifar10_valid {np.mean(values):.3f} +- {np.std(values):.3f} "
              f"({QUERIES} queries, seeds {list(SEEDS)})")
    assert np.mean(best["evolution"]) > np.mean(best["random"])
    assert np.mean(best["tpe"]) > np.mean(best["random"])
    # Not just better than random: evolution's mean best is in the table's top 1%.
    accuracies = np.sort([table.query(arch) for arch in table.arch_strings()])
    top_percent = accuracies[int(0.99 * len(accuracies))]
    print(f"table: 99th percentile {top_percent:.3f}, optimum {accuracies[-1]:.3f}")
    assert np.mean(best["evolution"]) >= top_percent


def test_nsga2_front_beats_random_hypervolume(table):
    queries = 150
    volumes = {}
    for name, options in (("random", {}), ("nsga2", {"sampler_options": {"population_size": 10}})):
        volumes[name] = [hypervolume_2d(search(name, seed, queries, table, **options), REFERENCE, [True, False])
                         for seed in SEEDS]
        print(f"{name}: mean hypervolume {np.mean(volumes[name]):.1f} +- {np.std(volumes[name]):.1f} "
              f"({queries} queries, reference {REFERENCE})")
    assert np.mean(volumes["nsga2"]) > np.mean(volumes["random"])
