"""What each seam-level strategy does with its asks and tells: de-duplication, grid order and
limits, aging evolution's population rules, and the Optuna adapter's storage records."""
from __future__ import annotations

import json

import optuna
import pytest
from optuna.trial import TrialState

from nas.strategies import Failure, Result, make_strategy
from nas.strategies.evolution import RegularizedEvolution
from nas.strategies.grid import GridSearch
from nas.strategies.optuna_adapter import OptunaStrategy
from nas.strategies.random_search import RandomSearch
from search_spaces.nasbench201.space import OPS, NB201Space

SPACE = NB201Space()


def test_random_never_repeats_until_the_space_is_used_up():
    strategy = RandomSearch(SPACE, seed=0)
    asked = strategy.ask(15_625)
    assert len({c.spec for c in asked}) == 15_625 == len({c.id for c in asked})
    assert strategy.deck == []  # collisions switched it to dealing the unasked specs
    again = strategy.ask(2)  # exhausted: duplicates allowed, asks never stall
    assert len(again) == 2 and again[0].spec in {c.spec for c in asked}


def test_random_checkpoint_while_dealing_the_unasked():
    strategy = RandomSearch(SPACE, seed=1, max_retries=1)
    first = strategy.ask(400)
    assert strategy.deck is not None and len({c.spec for c in first}) == 400
    state = json.loads(json.dumps(strategy.state_dict()))
    resumed = RandomSearch(SPACE, seed=2, max_retries=1)
    resumed.load_state_dict(state)
    assert [c.spec for c in resumed.ask(50)] == [c.spec for c in strategy.ask(50)]


def test_grid_is_exhaustive_ordered_and_bounded(shared_data):
    with pytest.raises(ValueError, match="has 15625 points, above max_size=10000"):
        GridSearch(SPACE)
    grid = GridSearch(SPACE, max_size=20_000)
    first = grid.ask(2)
    assert first[0].spec.ops == ("none",) * 6
    assert first[1].spec.ops == ("none",) * 5 + ("skip_connect",)
    rest = grid.ask(20_000)
    assert len(rest) == 15_623 and grid.exhausted and grid.ask(5) == []
    assert rest[-1].spec.ops == ("avg_pool_3x3",) * 6
    assert len({c.spec for c in first + rest}) == 15_625
    shuffled = GridSearch(SPACE, seed=3, max_size=20_000, shuffle=True).ask(15_625)
    assert {c.spec for c in shuffled} == {c.spec for c in first + rest}
    assert [c.spec for c in shuffled[:5]] != [c.spec for c in (first + rest)[:5]]


def _origins(strategy: RegularizedEvolution) -> dict[int, str]:
    return {cid: record[1] for cid, record in strategy.ledger.pending.items()}


def test_evolution_warm_up_then_aging_tournaments():
    evo = RegularizedEvolution(SPACE, seed=0, population_size=4, sample_size=4)
    warm = evo.ask(5)  # asks ahead of tells: 4 warm-up samples, then random while nothing is told
    assert list(_origins(evo).values()) == ["warmup"] * 4 + ["random"]
    for reward, c in zip([9.0, 1.0, 2.0, 3.0, 4.0], warm):
        evo.tell(c, Result(reward))
    # The oldest member left although it was the best: population = the 4 most recent results.
    assert [r for _, r in evo.population] == [1.0, 2.0, 3.0, 4.0]
    child = evo.ask(1)[0]
    assert _origins(evo)[child.id] == "mutation"
    best = warm[4].spec  # sample_size == population_size: the tournament picks the best member
    assert sum(a != b for a, b in zip(child.spec.ops, best.ops)) == 1
    evo.tell(child, Result(0.5))
    assert [r for _, r in evo.population] == [2.0, 3.0, 4.0, 0.5]


def test_evolution_failures_are_not_members_and_warm_up_is_refilled():
    evo = RegularizedEvolution(SPACE, seed=0, population_size=3, sample_size=2)
    warm = evo.ask(3)
    evo.tell(warm[0], Failure("out of memory"))
    evo.tell(warm[1], Result(50.0))
    assert evo.population == [[list(warm[1].decisions), 50.0]]
    refill = evo.ask(1)[0]
    assert _origins(evo)[refill.id] == "warmup"  # the failed warm-up sample is replaced
    child = evo.ask(1)[0]
    assert _origins(evo)[child.id] == "mutation"
    evo.tell(child, Failure("NaN loss"))
    assert len(evo.population) == 1 and evo.best()[1] == 50.0


def test_optuna_records_trials_in_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path / 'nas.db'}"
    strategy = make_strategy("nsga2", SPACE, 0, storage=url, study_name="mo")
    a, b, c = strategy.ask(3)
    strategy.tell(a, Result(80.0, {"macs": 50.0}))
    strategy.tell(b, Failure("diverged"))
    with pytest.raises(ValueError, match="objective 'macs' is not in the result's metrics"):
        strategy.tell(c, Result(70.0))
    study = optuna.load_study(study_name="mo", storage=url)
    trials = study.get_trials()
    assert [t.state for t in trials] == [TrialState.COMPLETE, TrialState.FAIL, TrialState.RUNNING]
    assert trials[0].values == [80.0, 50.0]
    assert trials[0].params == {d.name: op for d, op in zip(SPACE.dimensions(), a.spec.ops)}
    assert set(trials[0].params.values()) <= set(OPS)
    assert strategy.state_dict()["body"]["pending"] == [c.id]
    with pytest.raises(ValueError, match="study 'mo' already exists"):
        OptunaStrategy(SPACE, 0, sampler="nsga2", objectives=(("reward", "maximize"), ("macs", "minimize")),
                       storage=url, study_name="mo").ask(1)


def test_optuna_configuration_errors(tmp_path):
    with pytest.raises(ValueError, match="use 'nsga2' for several"):
        OptunaStrategy(SPACE, sampler="tpe", objectives=(("reward", "maximize"), ("macs", "minimize")))
    with pytest.raises(ValueError, match="sampler must be one of tpe, nsga2, random"):
        OptunaStrategy(SPACE, sampler="cmaes")
    with pytest.raises(ValueError, match=r"\(metric name, 'maximize'\|'minimize'\)"):
        OptunaStrategy(SPACE, objectives=(("reward", "up"),))
    with pytest.raises(ValueError, match="needs an RDB storage"):
        OptunaStrategy(SPACE).state_dict()
    state = OptunaStrategy(SPACE, storage=f"sqlite:///{tmp_path / 'a.db'}", study_name="a").state_dict()
    state["body"]["study_name"] = "absent"
    with pytest.raises(ValueError, match="study 'absent' not found"):
        OptunaStrategy(SPACE).load_state_dict(state)
