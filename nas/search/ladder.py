"""The evaluation ladder: rungs of increasing cost, cheapest first (successive halving across
fidelities, Jamieson & Talwalkar 2016; zero-cost screening before training, Abdelfattah et al.
2021): e.g. a zero-cost proxy over many candidates, a short training of the best fraction, a
longer training of the best of those.

The strategy proposes at rung 0 and learns from rung 0's scores; each upper rung trains the
previous rung's best ``keep`` fraction (``nas.strategies.promotion``). Every rung is an ordinary
driver session on the one run store, its rows tagged with the rung, so a kill anywhere resumes
exactly: mid-rung through the driver's own resume, at a boundary because a rung is marked done
in the store only once its driver has finished, and the promoted list is re-read from the store.
A rung stops at its ``trials``, at its share of ``budget.cpu_s`` (the last rung takes what is
left) or at ``budget.time_s``.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Callable

from nas.config import ExperimentConfig, RungConfig
from nas.search.driver import Driver
from nas.search.store import RunStore

ID_STRIDE = 1_000_000  # candidate ids of rung r start at r * ID_STRIDE: no collision with rung r - 1


@dataclass(frozen=True)
class RungBudget:
    trials: int
    cpu_s: float | None


def rung_budget(config: ExperimentConfig, r: int, spent_cpu_s: float, promoted: int | None) -> RungBudget:
    """Trials and CPU-seconds rung ``r`` may use, given what the rungs below spent."""
    rungs, budget = config.evaluation.ladder, config.budget
    rung = rungs[r]
    trials = rung.trials or (promoted if promoted is not None else budget.trials)
    if promoted is not None:
        trials = min(trials, promoted)
    if budget.cpu_s is None:
        return RungBudget(trials, None)
    if rung.share is not None:
        return RungBudget(trials, rung.share * budget.cpu_s)
    if r == len(rungs) - 1:
        return RungBudget(trials, max(0.0, budget.cpu_s - spent_cpu_s))
    return RungBudget(trials, None)


def promoted_count(rung: RungConfig, finished: int) -> int:
    """How many of a rung's ``finished`` candidates go up: ``keep`` of them, at least one."""
    return max(1, math.floor(finished * rung.keep + 1e-9)) if finished else 0


def rung_config(config: ExperimentConfig, r: int) -> ExperimentConfig:
    """The experiment as rung ``r`` evaluates it: its kind, its training recipe, its reward."""
    rung = config.evaluation.ladder[r]
    train = dataclasses.replace(config.evaluation.train, **dict(rung.train))
    evaluation = dataclasses.replace(config.evaluation, kind=rung.kind, train=train,
                                     reward=rung.reward or config.evaluation.reward)
    return dataclasses.replace(config, evaluation=evaluation)


def rung_strategy(config: ExperimentConfig, plan: Any, store: RunStore, r: int) -> tuple[Any, int | None]:
    """The strategy of rung ``r`` and how many candidates it may see (None: the rung's own
    budget): the search's strategy at rung 0, above it the best ``keep`` of rung ``r - 1``."""
    from nas.strategies.promotion import Promotion

    if r == 0:
        return plan.strategy, None
    below = config.evaluation.ladder[r - 1]
    finished = store.counts(rung=r - 1)
    n = promoted_count(below, finished["done"] + finished["stopped"])
    specs = [plan.space.from_str(t.spec) for t in store.top(n, rung=r - 1, distinct=True)]
    return Promotion(plan.space, specs=specs, id_base=r * ID_STRIDE), len(specs)


def run_ladder(config: ExperimentConfig, plan: Any, store: RunStore, run_dir: Any, progress: Any,
               run_backend: Callable[[Driver, Any], None]) -> Driver:
    """Run (or resume) every rung in turn; returns the driver of the last rung that ran."""
    rungs = config.evaluation.ladder
    driver = None
    for r in range(len(rungs)):
        if store.meta(f"rung{r}_done") and r < len(rungs) - 1:
            continue
        strategy, promoted = rung_strategy(config, plan, store, r)
        budget = rung_budget(config, r, store.cpu_spent(), promoted)
        done = bool(store.meta(f"rung{r}_done"))  # a finished ladder, resumed: nothing left to run
        driver = Driver(plan.space, strategy, store, run_dir, 0 if done else budget.trials, config.budget.time_s,
                        progress, rung=r, cpu_s=budget.cpu_s)
        run_backend(driver, dataclasses.replace(plan, strategy=strategy, job=plan.rung_jobs[r]))
        if config.budget.time_s is not None and driver.elapsed() >= config.budget.time_s:
            break  # the search's wall-clock budget ends the ladder where it stands
        store.set_meta(f"rung{r}_done", True)
    return driver


def check_first_rung_fits(config: ExperimentConfig, space: Any, job: Any, seed: int) -> None:
    """A compute budget too small for the first rung to evaluate two candidates fails before any
    work, with the one candidate it took to find out priced in the message."""
    import numpy as np

    first = config.evaluation.ladder[0]
    if config.budget.cpu_s is None or first.share is None:
        return
    allowed = first.share * config.budget.cpu_s
    spec = space.sample(np.random.default_rng(seed))
    outcome = job.run(space.to_str(spec), seed, lambda *_: None)
    cost = float(getattr(outcome, "metrics", {}).get("cpu_s", 0.0))
    if cost * 2 > allowed:
        raise ValueError(f"config key 'evaluation.ladder[0].share': bad value {first.share!r}; its "
                         f"{allowed:.3g} CPU-s of budget.cpu_s={config.budget.cpu_s:g} fit fewer than 2 "
                         f"candidates at {cost:.3g} CPU-s each; accepted: a share x budget.cpu_s of at least "
                         f"{2 * cost:.3g} CPU-s")
