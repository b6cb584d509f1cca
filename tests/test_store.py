"""The run store: one transaction per proposal/outcome holding the strategy state, so a killed
driver leaves a consistent trials table + checkpoint pair."""
from __future__ import annotations

import json
import math

import pytest

from nas.search.driver import Driver
from nas.search.store import RunStore
from nas.strategies.base import Failure, Result
from search_toys import ToyHillClimb, ToySpace, toy_score


def test_propose_finish_round_trip(tmp_path):
    space = ToySpace()
    strategy = ToyHillClimb(space, seed=1)
    with RunStore(tmp_path / "trials.sqlite") as store:
        a, b = strategy.ask(2)
        store.propose(a, space.to_str(a.spec), strategy.state_dict(), "ray-a")
        store.propose(b, space.to_str(b.spec), strategy.state_dict(), "ray-b")
        assert store.counts() == {"running": 2, "done": 0, "stopped": 0, "failed": 0}
        store.finish(a.id, Result(0.5, {"params": 12, "loss": float("nan")}), {"told": 1}, 3.0)
        store.finish(b.id, Failure("RuntimeError: boom"), {"told": 2}, 4.0)
        with pytest.raises(ValueError, match="not a running trial"):
            store.finish(a.id, Result(0.9), {"told": 3}, 5.0)  # never recorded twice
        rows = store.trials()
        assert [r.candidate_id for r in rows] == [a.id, b.id]
        assert rows[0].status == "done" and rows[0].reward == 0.5
        assert rows[0].metrics == {"params": 12, "loss": None}  # NaN stored as null
        assert rows[0].decisions == a.decisions and rows[0].ray_trial_id == "ray-a"
        assert rows[1].status == "failed" and rows[1].reason == "RuntimeError: boom"
        assert store.strategy_state() == {"told": 2}
        assert store.elapsed() == 4.0
    with RunStore(tmp_path / "trials.sqlite") as again:  # durable across connections
        assert [r.spec for r in again.trials(["done"])] == [space.to_str(a.spec)]


def test_top_ranks_finished_rewards_with_ties_to_the_earliest(tmp_path):
    space = ToySpace()
    strategy = ToyHillClimb(space, seed=2)
    rewards = [0.3, 0.7, None, 0.7, 0.1, 0.9]  # None: a failure, never ranked
    with RunStore(tmp_path / "trials.sqlite") as store:
        cands = strategy.ask(len(rewards) + 1)  # the last stays running: never ranked
        for cand in cands:
            store.propose(cand, space.to_str(cand.spec), {}, None)
        for cand, reward in zip(cands, rewards):
            store.finish(cand.id, Failure("x") if reward is None else Result(reward), {}, 1.0)
        top = store.top(3)
        assert [(r.candidate_id, r.reward) for r in top] == [
            (cands[5].id, 0.9), (cands[1].id, 0.7), (cands[3].id, 0.7)]
        assert len(store.top(10)) == 5


def test_as_outcome_turns_numbers_into_results_and_divergence_into_failure():
    import numpy as np
    from nas.strategies.base import as_outcome
    assert as_outcome(0.7) == Result(0.7) and as_outcome(np.float32(0.5)) == Result(0.5)
    assert as_outcome(np.int64(1)) == Result(1.0)
    assert isinstance(as_outcome(Result(float("nan"))), Failure)
    assert "inf" in as_outcome(Result(math.inf)).reason
    assert as_outcome(Failure("x")) == Failure("x")
    assert "str" in as_outcome("oops").reason and "bool" in as_outcome(True).reason


def test_driver_reruns_interrupted_trials_then_asks(tmp_path):
    """A driver opened on a store with running rows hands those out first, with the strategy
    restored to its state right after proposing them."""
    space = ToySpace()
    with RunStore(tmp_path / "trials.sqlite") as store:
        first = Driver(space, ToyHillClimb(space, seed=5), store, tmp_path, trials=5)
        c0, c1 = first.next_candidate(), first.next_candidate()
        first.complete(c0.id, Result(toy_score(c0.spec)))
        # the driver dies here with c1 running
        second_strategy = ToyHillClimb(space, seed=99)  # seed is irrelevant: state is restored
        second = Driver(space, second_strategy, store, tmp_path, trials=5)
        assert second_strategy.state_dict()["next_id"] == 2 and second_strategy.told == 1
        again = second.next_candidate()
        assert again == c1
        assert store.trials(["running"])[0].attempts == 2
        second.complete(again.id, Result(toy_score(again.spec)))
        c2 = second.next_candidate()
        assert c2.id == 2
        second.complete(c2.id, Result(toy_score(c2.spec)))
        assert second.remaining() == 2
        best = json.loads((tmp_path / "best.json").read_text())
        assert best[0]["reward"] == max(toy_score(c.spec) for c in (c0, c1, c2))
        assert json.loads((tmp_path / "strategy.json").read_text())["told"] == 3


def test_time_budget_stops_asking(tmp_path):
    space = ToySpace()
    with RunStore(tmp_path / "trials.sqlite") as store:
        driver = Driver(space, ToyHillClimb(space), store, tmp_path, trials=100, time_s=1e-9)
        assert driver.next_candidate() is None


def test_an_exhausted_strategy_ends_the_search(tmp_path):
    from nas.strategies.grid import GridSearch
    space = ToySpace(widths=(8, 16), depths=(1,))
    with RunStore(tmp_path / "trials.sqlite") as store:
        driver = Driver(space, GridSearch(space, 0), store, tmp_path, trials=10)
        seen = []
        while (cand := driver.next_candidate()) is not None:
            seen.append(space.to_str(cand.spec))
            driver.complete(cand.id, Result(toy_score(cand.spec)))
        assert len(seen) == 4 == len(set(seen)) and store.counts()["done"] == 4
