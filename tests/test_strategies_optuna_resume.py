"""The Optuna adapter resumes across its crash windows: a process killed after Optuna recorded an
ask or a tell but before the checkpoint (``state_dict``) was saved. Reproduced deterministically:
take the checkpoint, let Optuna record the next tell (or ask), drop the adapter, load the earlier
checkpoint into a new adapter on the same SQLite storage and carry on. The resumed search must
ask exactly what an uninterrupted one asks, under the same candidate ids, and the study must hold
the same trials, none lost, duplicated or left running; after a kill following an ask it also
holds the orphan, failed, one trial number ahead from there. The adapter reaches Optuna through
its public API only (checked on its syntax tree)."""
from __future__ import annotations

import ast
import json
from pathlib import Path
import warnings

import optuna
import pytest
from optuna.trial import TrialState

from nas.search.driver import Driver
from nas.search.store import RunStore
from nas.strategies import Failure, Result, make_strategy
from nas.strategies import optuna_adapter
from nas.strategies.common import flatten
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
    """Keyed on the architecture, not the id, as a real evaluation is."""
    if flatten(SPACE, cand.decisions) % 5 == 2:
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


def shifted(rows: list[tuple], orphan: int, params: tuple) -> list[tuple]:
    """The uninterrupted study's rows as a resume after a kill following ask ``orphan`` leaves them:
    the orphan FAIL with the parameters it had drawn, the later trials one number up."""
    return rows[:orphan] + [(orphan, "FAIL", None, params)] + [(n + 1, *rest) for n, *rest in rows[orphan:]]


def kill_after_ask(name, table, tmp_path, steps: int, log: list[str]):
    """Run ``steps`` asks and tells, checkpoint, ask once more and die; the checkpoint and the lost ask."""
    first = make(name, tmp_path, "run.db")
    for _ in range(steps):
        step(first, table, log)
    saved = json.loads(json.dumps(first.state_dict()))
    lost = first.ask(1)[0]                               # Optuna has the trial RUNNING; then SIGKILL
    return saved, lost


# NSGA-II with 4 per generation: the 4th ask opens generation 1 (three of the first four are
# COMPLETE), so its lost ask is the one that cached that generation's parents; the 6th is inside it.
@pytest.mark.parametrize("name,steps", [("tpe", 5), ("nsga2", 4), ("nsga2", 6)])
def test_killed_after_ask_replays_the_orphans_decisions(name, steps, table, tmp_path):
    expected_log, expected_rows = reference(name, table, tmp_path, 10)
    log: list[str] = []
    saved, lost = kill_after_ask(name, table, tmp_path, steps, log)
    resumed = make(name, tmp_path, "unused.db")
    resumed.load_state_dict(saved)
    for _ in range(10 - steps):
        step(resumed, table, log)
    assert log[steps] == f"{lost.id}:{lost.spec.to_str()}"  # the lost ask again, same id
    assert log == expected_log
    trials = resumed.trials()
    assert study_rows(resumed) == shifted(expected_rows, steps, expected_rows[steps][3])
    assert [t.user_attrs for t in trials] == (
        [{"candidate_id": i} for i in range(steps + 1)]  # the orphan was tagged before the kill
        + [{"candidate_id": steps, "replaces_trial": steps}]
        + [{"candidate_id": i} for i in range(steps + 1, 10)])
    study = optuna.load_study(study_name="s", storage=f"sqlite:///{tmp_path / 'run.db'}")
    assert study.user_attrs == {"orphaned_trials": [steps]}
    if name == "nsga2" and steps == 4:
        generation = [t.system_attrs["NSGAIISampler:generation"] for t in trials]
        assert generation[:6] == [0, 0, 0, 0, 1, 1]       # the orphan opened generation 1


def test_a_kill_during_the_reload_queues_the_orphan_once(table, tmp_path):
    """load_state_dict queues, then fails; loading the same checkpoint again changes nothing."""
    expected_log, _ = reference("tpe", table, tmp_path, 8)
    log: list[str] = []
    saved, _ = kill_after_ask("tpe", table, tmp_path, 5, log)
    make("tpe", tmp_path, "unused.db").load_state_dict(saved)  # then SIGKILL before any ask
    resumed = make("tpe", tmp_path, "unused.db")
    resumed.load_state_dict(saved)
    assert [t.state.name for t in resumed.trials()] == ["COMPLETE"] * 5 + ["FAIL", "WAITING"]
    for _ in range(3):
        step(resumed, table, log)
    assert log == expected_log
    assert [t.state.name for t in resumed.trials()].count("WAITING") == 0


def test_a_checkpoint_from_before_the_candidate_count_resumes(table, tmp_path):
    """Checkpoints that kept only pending trial numbers (ids were trial numbers) still load."""
    expected_log, expected_rows = reference("tpe", table, tmp_path, 6)
    first, log = make("tpe", tmp_path, "run.db"), []
    for _ in range(3):
        step(first, table, log)
    cand = first.ask(1)[0]
    log.append(f"{cand.id}:{cand.spec.to_str()}")
    saved = json.loads(json.dumps(first.state_dict()))
    del saved["body"]["next_id"], saved["body"]["trial_numbers"]
    resumed = make("tpe", tmp_path, "unused.db")
    resumed.load_state_dict(saved)
    resumed.tell(cand, outcome(cand, table))
    for _ in range(2):
        step(resumed, table, log)
    assert log == expected_log
    assert study_rows(resumed) == expected_rows


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
    saved["body"]["pending"], saved["body"]["trial_numbers"] = [0, 1], [0, 7]
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


def driver_records(store: RunStore) -> list[tuple]:
    return [(r.candidate_id, r.spec, r.status, r.reward, r.attempts) for r in store.trials()]


def test_driver_resumes_after_a_kill_between_ask_and_commit(table, tmp_path):
    """Through the search driver: the window is Driver.next_candidate's ask, before the store's
    propose. The driver's store ends as an uninterrupted run's, none lost or repeated."""
    records = {}
    for run in ("reference", "killed"):
        run_dir = tmp_path / run
        run_dir.mkdir()
        store = RunStore(run_dir / "trials.sqlite")
        driver = Driver(SPACE, make("tpe", tmp_path, f"{run}.db"), store, run_dir, trials=8)
        if run == "killed":
            for _ in range(3):
                cand = driver.next_candidate()
                driver.complete(cand.id, outcome(cand, table))
            driver.strategy.ask(1)                        # Optuna has it, the run store never does
            store.close()
            store = RunStore(run_dir / "trials.sqlite")
            driver = Driver(SPACE, make("tpe", tmp_path, "unused.db"), store, run_dir, trials=8)
        while (cand := driver.next_candidate()) is not None:
            driver.complete(cand.id, outcome(cand, table))
        records[run] = driver_records(store)
        store.close()
    assert records["killed"] == records["reference"]
    assert [r[0] for r in records["killed"]] == list(range(8)) and {r[4] for r in records["killed"]} == {1}
    study = optuna.load_study(study_name="s", storage=f"sqlite:///{tmp_path / 'killed.db'}")
    trials = study.get_trials()
    assert study.user_attrs == {"orphaned_trials": [3]} and trials[3].state == TrialState.FAIL
    kept = trials[:3] + trials[4:]
    assert [t.user_attrs["candidate_id"] for t in kept] == list(range(8))
    assert [t.state.name for t in kept] == ["FAIL" if r[2] == "failed" else "COMPLETE" for r in records["killed"]]
    assert [t.values[0] if t.values else None for t in kept] == [r[3] for r in records["killed"]]


PRIVATE_CALLS = ("getattr", "setattr", "hasattr", "delattr")


def private_optuna_access(source: str) -> list[str]:
    """Uses in ``source`` of anything private to Optuna: an attribute starting with ``_`` on any
    object but ``self`` (the adapter's own state), such a name passed to getattr and friends, an
    import of a private Optuna module or name, or a Trial built by hand (``study.ask`` builds it)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.endswith("__"):
            if not (isinstance(node.value, ast.Name) and node.value.id == "self"):
                found.append(f"line {node.lineno}: .{node.attr}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in PRIVATE_CALLS:
            if any(isinstance(a, ast.Constant) and str(a.value).startswith("_") for a in node.args[1:2]):
                found.append(f"line {node.lineno}: {node.func.id}(..., {node.args[1].value!r})")
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            modules = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
            names = [a.name for a in node.names] if isinstance(node, ast.ImportFrom) else []
            if any(m.startswith("optuna") and ("._" in m or any(n.startswith("_") for n in names))
                   for m in modules):
                found.append(f"line {node.lineno}: import of {modules} {names}")
        if isinstance(node, ast.Call):
            func = node.func
            if (isinstance(func, ast.Attribute) and func.attr == "Trial") or \
                    (isinstance(func, ast.Name) and func.id == "Trial"):
                found.append(f"line {node.lineno}: Trial(...) built by hand")
    return found


def test_the_adapter_uses_only_optunas_public_api():
    assert private_optuna_access(Path(optuna_adapter.__file__).read_text()) == []


def test_the_private_access_check_finds_what_the_adapter_once_did():
    old = (
        "import optuna\n"
        "from optuna.trial._state import TrialState\n"
        "def adopt(study, running, n):\n"
        "    cache = getattr(study, '_thread_local', None)\n"
        "    study._thread_local.cached_all_trials = None\n"
        "    return optuna.Trial(study, running[n]._trial_id)\n"
        "class A:\n"
        "    def ask(self):\n"
        "        return self._study\n")
    assert sorted(private_optuna_access(old)) == [
        "line 2: import of ['optuna.trial._state'] ['TrialState']",
        "line 4: getattr(..., '_thread_local')",
        "line 5: ._thread_local",
        "line 6: ._trial_id",
        "line 6: Trial(...) built by hand",
    ]
