"""Reproducibility and resumption of every seam-level strategy, driven on NAS-Bench-201 with the
tabular evaluator: same seed -> same asks (also in a fresh process), different seed -> different
asks, and a mid-search checkpoint loaded into a new instance continues with exactly the asks the
original would have made."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from nas.strategies import STRATEGIES, Candidate, Failure, Result, make_strategy
from search_spaces.nasbench201.space import NB201Space
from search_spaces.nasbench201.table import NB201Table

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = {
    "random": ("random", {}),
    "grid": ("grid", {"max_size": 20_000, "shuffle": True}),
    "evolution": ("evolution", {"population_size": 8, "sample_size": 3}),
    "tpe": ("tpe", {"sampler_options": {"n_startup_trials": 6}}),
    "nsga2": ("nsga2", {"sampler_options": {"population_size": 6}}),
}


def drive(strategy, table, steps: int, *, start: int = 0, carry=()) -> tuple[list[str], list[Candidate]]:
    """Ask in batches of 3, tell each batch (every 7th candidate fails) but keep the last candidate
    of every other batch pending for one round, as parallel workers would. Returns the asked spec
    strings and the candidates still pending."""
    asked, pending = [], list(carry)
    for step in range(start, start + steps):
        batch = strategy.ask(3)
        asked += [c.spec.to_str() for c in batch]
        to_tell = pending + batch[:-1] if step % 2 else pending + batch
        pending = [batch[-1]] if step % 2 else []
        for c in to_tell:
            if c.id % 7 == 3:
                strategy.tell(c, Failure("diverged"))
            else:
                reward = table.query(c.spec)
                strategy.tell(c, Result(reward, {"macs": NB201Space().cost(c.spec).macs / 1e6}))
    return asked, pending


def make(name: str, seed: int, tmp: Path | None = None, study: str = "study"):
    registered, options = CONFIGS[name]
    options = dict(options)
    if registered in ("tpe", "nsga2") and tmp is not None:
        options.update(storage=f"sqlite:///{tmp / 'optuna.db'}", study_name=study)
    return make_strategy(registered, NB201Space(), seed, **options)


@pytest.fixture(scope="module")
def table(shared_data):
    return NB201Table(shared_data / "nasbench201-12epoch.csv")


@pytest.mark.parametrize("name", list(CONFIGS))
def test_same_seed_same_asks_different_seed_different(name, table):
    first = drive(make(name, 3), table, 8)[0]
    assert len(first) == 24
    assert drive(make(name, 3), table, 8)[0] == first
    assert drive(make(name, 4), table, 8)[0] != first


def test_same_asks_in_a_fresh_process(shared_data, table):
    script = (
        "import json, sys; sys.path[:0] = [sys.argv[1], sys.argv[1] + '/tests']\n"
        "from test_strategies_seam import CONFIGS, drive, make\n"
        "from search_spaces.nasbench201.table import NB201Table\n"
        "table = NB201Table(sys.argv[2])\n"
        "print(json.dumps({n: drive(make(n, 11), table, 6)[0] for n in CONFIGS}))\n")
    out = subprocess.run([sys.executable, "-c", script, str(ROOT), str(shared_data / "nasbench201-12epoch.csv")],
                         capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    fresh = json.loads(out.stdout.strip().splitlines()[-1])
    assert fresh == {n: drive(make(n, 11), table, 6)[0] for n in CONFIGS}


@pytest.mark.parametrize("name", list(CONFIGS))
def test_checkpoint_resumes_exactly(name, table, tmp_path):
    # The uninterrupted reference keeps Optuna in memory; the interrupted run uses a real SQLite file
    # (so the storage kind must not change the asks either).
    whole = drive(make(name, 5), table, 10)[0]
    original = make(name, 5, tmp_path)
    head, pending = drive(original, table, 6)
    assert pending, "the checkpoint must be taken with a candidate in flight"
    state = json.loads(json.dumps(original.state_dict()))
    del original
    resumed = make(name, 999, tmp_path)  # another seed: everything must come from the state
    resumed.load_state_dict(state)
    tail, _ = drive(resumed, table, 4, start=6, carry=pending)
    assert head + tail == whole


def test_checkpoint_refuses_another_strategy_or_config(table):
    state = make("evolution", 0).state_dict()
    with pytest.raises(ValueError, match="strategy 'evolution', not 'random'"):
        make("random", 0).load_state_dict(state)
    other = make_strategy("evolution", NB201Space(), 0, population_size=9, sample_size=3)
    with pytest.raises(ValueError, match="population_size=8 differs from this strategy's population_size=9"):
        other.load_state_dict(state)


def test_registry_and_boundary_errors(table):
    assert {"random", "grid", "evolution", "tpe", "nsga2", "optuna"} <= set(STRATEGIES)
    with pytest.raises(ValueError, match="unknown strategy 'annealing'; accepted: .*evolution"):
        make_strategy("annealing", NB201Space(), 0)
    strategy = make("random", 0)
    candidate = strategy.ask(1)[0]
    with pytest.raises(ValueError, match="reward must be a finite number, got nan"):
        strategy.tell(candidate, Result(float("nan")))
    with pytest.raises(TypeError, match="outcome must be a Result or a Failure"):
        strategy.tell(candidate, 0.5)
    strategy.tell(candidate, Result(1.0))
    with pytest.raises(ValueError, match=f"candidate {candidate.id} is not pending"):
        strategy.tell(candidate, Result(1.0))
    with pytest.raises(ValueError, match="n must be an int >= 0"):
        strategy.ask(-1)
    with pytest.raises(TypeError, match="seed must be an int"):
        make_strategy("random", NB201Space(), "zero")


def test_strategies_import_no_torch():
    code = ("import sys\n"
            "import nas.strategies, nas.strategies.random_search, nas.strategies.grid\n"
            "import nas.strategies.evolution, nas.strategies.optuna_adapter, nas.strategies.pareto\n"
            "print(sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.')))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[]"
