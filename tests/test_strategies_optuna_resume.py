"""The Optuna adapter resumes across its crash windows: a process killed after Optuna recorded an
ask or a tell but before the checkpoint (``state_dict``) was saved. Reproduced deterministically:
take the checkpoint, let Optuna record the next tell (or ask), drop the adapter, load the earlier
checkpoint into a new adapter on the same SQLite storage and carry on. The resumed search must
ask exactly what an uninterrupted one asks, and the study must hold the same trials, none lost,
duplicated or left running."""
from __future__ import annotations

import json
import warnings

import optuna
import pytest
from optuna.trial import TrialState

from nas.search.driver import Driver
from nas.search.store import RunStore
from nas.strategies import Failure, Result, make_strategy
from search_spaces.nasbench201.space import NB201Space
from search_spaces.nasbench201.table import NB201Table

SPACE = NB201Space()
OPTIONS = {"tpe": {"sampler_options": {"n_startup_trials": 4}},
           "nsga2": {"sampler_options": {"population_size": 4}}}


@pytest.fixture(scope="module")
def table(shared_data):
    return NB201Table(shared_data / "nasbench201-12epoch.csv")


def make(name: str, tmp_path, db: str):
    return make_strategy(name, SPACE, 5, storage=f"sqlite:///{tmp_path / db}", study_name="s",
                         **OPTIONS[name])


def outcome(cand, table):
    if cand.id % 5 == 2:
        return Failure("diverged")
    return Result(table.query(cand.spec), {"macs": SPACE.cost(cand.spec).macs / 1e6})


def step(strategy, table, log: list[str]) -> None:
    """One sequential ask/tell, as the local backend does."""
    cand = strategy.ask(1)[0]
    log.append(f"{cand.id}:{cand.spec.to_str()}")
    strategy.tell(cand, outcome(cand, table))


def study_rows(strategy) -> list[tuple]:
    return [(t.number, t.state.name, t.values, tuple(sorted(t.params.items())))
            for t in strategy.trials()]


def reference(name, table, tmp_path, steps: int) -> tuple[list[str], list[tuple]]:
    strategy, log = make(name, tmp_path, "reference.db"), []
    for _ in range(steps):
        step(strategy, table, log)
    return log, study_rows(strategy)


@pytest.mark.parametrize("name", ["tpe", "nsga2"])
def test_killed_after_tell_resumes_exactly(name, table, tmp_path):
    expected_log, expected_rows = reference(name, table, tmp_path, 12)
    first, log = make(name, tmp_path, "run.db"), []
    for _ in range(6):
        step(first, table, log)
    cand = first.ask(1)[0]
    log.append(f"{cand.id}:{cand.spec.to_str()}")
    saved = json.loads(json.dumps(first.state_dict()))  # what the driver committed with the ask
    first.tell(cand, outcome(cand, table))              # Optuna records it; then SIGKILL
    del first
    resumed = make(name, tmp_path, "unused.db")
    resumed.load_state_dict(saved)
    assert resumed.state_dict()["body"]["pending"] == [cand.id]
    with warnings.catch_warnings():
        warnings.simplefilter("error")                   # same outcome again: silent
        resumed.tell(cand, outcome(cand, table))         # the driver's re-run of "was running"
    assert resumed.state_dict()["body"]["pending"] == []
    for _ in range(5):
        step(resumed, table, log)
    assert log == expected_log
    assert study_rows(resumed) == expected_rows
    with pytest.raises(ValueError, match="not pending"):
        resumed.tell(cand, outcome(cand, table))


@pytest.mark.parametrize("name", ["tpe", "nsga2"])
def test_killed_after_ask_adopts_the_orphan_trial(name, table, tmp_path):
    expected_log, expected_rows = reference(name, table, tmp_path, 10)
    first, log = make(name, tmp_path, "run.db"), []
    for _ in range(5):
        step(first, table, log)
    saved = json.loads(json.dumps(first.state_dict()))
    lost = first.ask(1)[0]                               # Optuna has the trial RUNNING; then SIGKILL
    del first
    resumed = make(name, tmp_path, "unused.db")
    resumed.load_state_dict(saved)
    for _ in range(5):
        step(resumed, table, log)
    assert log[5] == f"{lost.id}:{lost.spec.to_str()}"  # the same trial, not a new one
    assert log == expected_log
    assert study_rows(resumed) == expected_rows
    assert not [t for t in resumed.trials() if t.state == TrialState.RUNNING]


def test_a_different_retold_outcome_warns_and_the_study_keeps_the_first(table, tmp_path):
    first = make("tpe", tmp_path, "run.db")
    cand = first.ask(1)[0]
    saved = first.state_dict()
    first.tell(cand, Result(0.5))
    resumed = make("tpe", tmp_path, "unused.db")
    resumed.load_state_dict(saved)
    rerun = r"trial 0 was finished .* COMPLETE \[0\.5\]; the re-run's values \[0\.25\]"
    with pytest.warns(RuntimeWarning, match=rerun):
        resumed.tell(cand, Result(0.25))
    assert [(t.state, t.values) for t in resumed.trials()] == [(TrialState.COMPLETE, [0.5])]


def test_a_pending_trial_missing_from_the_study_is_refused(tmp_path):
    first = make("tpe", tmp_path, "run.db")
    first.ask(1)
    saved = first.state_dict()
    saved["body"]["pending"] = [0, 7]
    with pytest.raises(ValueError, match=r"pending trials \[7\] are neither running nor finished"):
        make("tpe", tmp_path, "unused.db").load_state_dict(saved)


def test_driver_resumes_after_a_kill_between_tell_and_commit(table, tmp_path):
    """Through the search driver and its run store: the window is Driver.complete's tell."""
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    store = RunStore(run_dir / "trials.sqlite")
    driver = Driver(SPACE, make("tpe", tmp_path, "run.db"), store, run_dir, trials=8)
    for _ in range(3):
        cand = driver.next_candidate()
        driver.complete(cand.id, outcome(cand, table))
    cand = driver.next_candidate()
    driver.strategy.tell(cand, outcome(cand, table))    # Optuna commits, the run store never does
    store.close()

    store = RunStore(run_dir / "trials.sqlite")
    driver = Driver(SPACE, make("tpe", tmp_path, "unused.db"), store, run_dir, trials=8)
    while (again := driver.next_candidate()) is not None:
        driver.complete(again.id, outcome(again, table))
    records = store.trials()
    store.close()
    assert [r.candidate_id for r in records] == list(range(8))
    assert records[3].attempts == 2 and all(r.finished for r in records)
    study = optuna.load_study(study_name="s", storage=f"sqlite:///{tmp_path / 'run.db'}")
    trials = study.get_trials()
    assert [t.number for t in trials] == list(range(8))
    assert [t.state.name for t in trials] == ["FAIL" if r.status == "failed" else "COMPLETE" for r in records]
    assert [t.values[0] for t in trials if t.values] == [r.reward for r in records if r.reward is not None]
