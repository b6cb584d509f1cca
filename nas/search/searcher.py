"""Our ask/tell strategies behind Ray Tune's ``Searcher`` interface.

Tune calls ``suggest(trial_id)`` whenever the concurrency limit leaves room and
``on_trial_complete`` when a trial ends (finished, stopped by ASHA, or errored after Ray's
retries). Both run in the driver process, so the driver's ``Driver`` records everything in the
run store there: workers never write it.
"""
from __future__ import annotations

from typing import Any

from ray.tune import Callback
from ray.tune.search import Searcher

from nas.search.driver import Driver, trial_seed
from nas.search.trainable import METRIC, decode_result
from nas.strategies.base import Failure



class TrialWatcher(Callback):
    """Keeps the Tune trial objects (for error text) and notes worker restarts in the store."""

    def __init__(self) -> None:
        self.trials: dict[str, Any] = {}
        self.searcher: "StrategySearcher | None" = None

    def __getstate__(self) -> dict:
        return {"trials": {}, "searcher": None}  # Tune pickles its config; live state stays here

    def on_trial_start(self, iteration, trials, trial, **info) -> None:
        self.trials[trial.trial_id] = trial

    def on_trial_recover(self, iteration, trials, trial, **info) -> None:
        if self.searcher is not None:
            self.searcher.retried(trial.trial_id, error_summary(trial))


def error_summary(trial: Any) -> str:
    """The last meaningful line of a trial's error (the exception type and message)."""
    text = ""
    try:
        text = trial.get_error() or ""
    except Exception:  # noqa: BLE001 -- error text is best effort, the failure is recorded anyway
        pass
    lines = [ln.strip() for ln in str(text).splitlines() if ln.strip()]
    for line in lines:
        if "Error" in line.split(":")[0]:
            return line[:300]
    return lines[-1][:300] if lines else "worker process died"


class StrategySearcher(Searcher):
    """suggest -> Driver.next_candidate (strategy.ask); on_trial_complete -> Driver.complete."""

    def __init__(self, driver: Driver, seed: int, metric_name: str, watcher: TrialWatcher) -> None:
        super().__init__(metric=METRIC, mode="max")
        self.driver = driver
        self.seed = seed
        self.metric_name = metric_name
        self.watcher = watcher
        watcher.searcher = self
        self.by_trial: dict[str, int] = {}

    def __getstate__(self) -> dict:
        # Tune pickles its config (tuner.pkl) for its own restore, which we do not use: our
        # resume reads the run store. Hand it a detached copy without the driver.
        return {k: v for k, v in self.__dict__.items() if k not in ("driver", "watcher")}

    def save_to_dir(self, checkpoint_dir: str, session_str: str = "default") -> None:
        pass  # the run store already holds the strategy's checkpoint after every ask and tell

    def suggest(self, trial_id: str) -> dict | str | None:
        cand = self.driver.next_candidate(ray_trial_id=trial_id)
        if cand is None:
            return Searcher.FINISHED
        self.by_trial[trial_id] = cand.id
        spec = self.driver.space.to_str(cand.spec)
        return {"candidate": cand.id, "spec": spec, "seed": trial_seed(self.seed, cand.id)}

    def on_trial_complete(self, trial_id: str, result: dict | None = None, error: bool = False) -> None:
        cand_id = self.by_trial.pop(trial_id, None)
        if cand_id is None:
            return
        if error:
            trial = self.watcher.trials.get(trial_id)
            reason = error_summary(trial) if trial is not None else "worker process died"
            self.driver.complete(cand_id, Failure(f"worker failed (retries exhausted): {reason}"))
            return
        outcome, stopped = decode_result(result, self.metric_name)
        self.driver.complete(cand_id, outcome, stopped=stopped)

    def retried(self, trial_id: str, reason: str) -> None:
        cand_id = self.by_trial.get(trial_id)
        if cand_id is not None:
            self.driver.note_retry(cand_id, reason)
