"""The driver's bookkeeping, shared by the Ray and local backends: ask the strategy within the
budget, record every proposal and outcome in the run store, tell the strategy, keep the best specs
and the progress line current.

Resume semantics (Zoph & Le's controller and Real et al.'s evolution both assume a strategy sees
every outcome exactly once): trials recorded as running when the previous driver died are handed
out again before the strategy is asked for anything new; their outcomes are told to the restored
strategy, whose checkpoint was taken right after it proposed them.

``best.json`` ranks by the search's own objective (``nas.latency.ranking``: MnasNet's shaped
reward, feasibility first under a latency target, the Pareto front), read from the config the
store holds, and says of each entry whether it meets the target. When the budget is spent and the
latency was predicted (a LUT or an imported table), the top ``evaluation.latency.finalists`` are
measured on the target where this machine reaches it (MnasNet, Tan et al. 2019: trust the device),
kept in the store (meta ``finalists``) and listed in ``best.json`` beside their prediction.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Mapping

from nas.io import write_json
from nas.search.trial_logs import TrialLogs
from nas.search.progress import Progress, Snapshot
from nas.search.store import RunStore, TrialRecord
from nas.strategies.base import Candidate, Failure, Outcome, Strategy, as_outcome

TOP_K = 10


def trial_seed(seed: int, candidate_id: int) -> int:
    """Per-candidate training seed: a re-run after a resume trains exactly like the lost run."""
    import numpy as np
    return int(np.random.SeedSequence([int(seed), int(candidate_id)]).generate_state(1)[0] >> 1)


class Driver:
    """Owns the strategy, the space and the store for one search session (of one ladder rung:
    ``rung`` tags its trials, ``cpu_s`` caps the CPU-seconds its finished trials may use)."""

    def __init__(self, space: Any, strategy: Strategy, store: RunStore, run_dir: Path,
                 trials: int, time_s: float | None = None, progress: Progress | None = None, *,
                 rung: int = 0, cpu_s: float | None = None) -> None:
        self.space, self.strategy, self.store, self.run_dir = space, strategy, store, Path(run_dir)
        self.trials, self.time_s, self.rung, self.cpu_s = trials, time_s, rung, cpu_s
        self.progress = progress or Progress(enabled=False)
        self._clock0 = time.monotonic()
        self._elapsed0 = store.elapsed()
        state = store.strategy_state(rung)
        if state is not None:
            strategy.load_state_dict(state)
        self.pending: list[Candidate] = [self._candidate(r) for r in store.trials(["running"], rung=rung)]
        self.running: dict[int, Candidate] = {}
        self.proposed: list[str] = []  # spec strings handed out this session, in order
        self.exhausted = False
        self._last: tuple | None = None
        self.epochs: dict[int, int] = {}  # running candidate -> last reported epoch
        self.logs = TrialLogs(self.run_dir)
        from nas.latency.ranking import objective_from_config
        self.objective = objective_from_config(store.meta("config"))
        self._write_best()  # derived from the store on every start: a kill may have left it stale
        self._event("resumed" if state is not None else "started")

    def _candidate(self, record: TrialRecord) -> Candidate:
        return Candidate(record.candidate_id, self.space.from_str(record.spec), record.decisions)

    # -- clock and budget --------------------------------------------------------------------

    def elapsed(self) -> float:
        return self._elapsed0 + time.monotonic() - self._clock0

    def out_of_time(self) -> bool:
        """The wall-clock budget, or this rung's compute budget, is spent."""
        if self.cpu_s is not None and self.store.cpu_spent(self.rung) >= self.cpu_s:
            return True
        return self.time_s is not None and self.elapsed() >= self.time_s

    def remaining(self) -> int:
        """Trials this session still has to start (re-runs of interrupted ones included)."""
        c = self.store.counts(self.rung)
        finished = c["done"] + c["stopped"] + c["failed"]
        return max(0, self.trials - finished - len(self.running))

    # -- the ask/tell cycle ------------------------------------------------------------------

    def next_candidate(self, ray_trial_id: str | None = None) -> Candidate | None:
        """The next trial to run, or None when the budget (trials or time) is spent."""
        if self.remaining() <= 0 or (self.out_of_time() and not self.pending):
            return None
        if self.pending:
            cand = self.pending.pop(0)
            self.store.restart(cand.id, ray_trial_id)
        else:
            asked = [] if self.exhausted else self.strategy.ask(1)
            if not asked:  # e.g. a grid with every point proposed: the search ends early
                self.exhausted = True
                return None
            cand = asked[0]
            self.store.propose(cand, self.space.to_str(cand.spec), self.strategy.state_dict(),
                               ray_trial_id, rung=self.rung)
        self.running[cand.id] = cand
        self.proposed.append(self.space.to_str(cand.spec))
        self.logs.start(cand.id, self.proposed[-1])
        self._event(f"trial {cand.id} started")
        return cand

    def complete(self, candidate_id: int, outcome: Any, stopped: bool = False) -> Outcome:
        cand = self.running.pop(candidate_id)
        self.epochs.pop(candidate_id, None)
        self.logs.close(candidate_id)
        outcome = as_outcome(outcome)  # the one conversion (nas.strategies.base)
        self.strategy.tell(cand, outcome)
        state = self.strategy.state_dict()
        self.store.finish(cand.id, outcome, state, self.elapsed(), stopped=stopped)
        write_json(self.run_dir / "strategy.json", state)
        if not self.running and not self.pending and self.remaining() == 0:
            self._measure_finalists()
        self._write_best()
        if isinstance(outcome, Failure):
            self._event(f"trial {cand.id} failed: {outcome.reason}")
        else:
            self._event(f"trial {cand.id} {'stopped' if stopped else 'done'}: {outcome.reward:.4f}")
        return outcome

    def record_epoch(self, candidate_id: int, epoch: int, metrics: Mapping[str, Any]) -> None:
        """A running trial's per-epoch report (late reports of a finished trial are dropped)."""
        if candidate_id not in self.running:
            return
        self.store.record_epoch(candidate_id, epoch, dict(metrics), self.elapsed())
        self.logs.epoch(candidate_id, int(epoch), metrics)
        self.epochs[candidate_id] = int(epoch)
        self._event(f"trial {candidate_id} epoch {epoch}", counts_changed=False)

    def note_retry(self, candidate_id: int, reason: str) -> None:
        self.store.note_retry(candidate_id)
        self._event(f"trial {candidate_id} retried: {reason}")

    # -- outputs -----------------------------------------------------------------------------

    def best(self, k: int = TOP_K) -> list[TrialRecord]:
        return self.store.top(k, objective=self.objective)

    def _write_best(self) -> None:
        finalists = {f["candidate_id"]: f for f in self.store.meta("finalists", []) or []}
        write_json(self.run_dir / "best.json", [
            {"rank": i + 1, "candidate_id": r.candidate_id, "spec": r.spec, "reward": r.reward,
             "objective": self.objective.score(r.reward, r.metrics),
             "meets_target": self.objective.feasible(r.metrics), "status": r.status, "metrics": r.metrics,
             **({"finalist": finalists[r.candidate_id]} if r.candidate_id in finalists else {})}
            for i, r in enumerate(self.best())])

    def finish(self) -> None:
        """The search loop has ended however its budget ran out (trials, time, CPU-seconds, or a
        strategy with nothing left to ask): measure the finalists once and write best.json."""
        if not self.running:
            self._measure_finalists()
        self._write_best()

    def _measure_finalists(self) -> None:
        """Measure the best predicted-latency architectures on the target (once per run)."""
        from nas.latency.finalists import measure_finalists
        if self.store.meta("finalists") is not None:
            return
        rows = measure_finalists(self.store.meta("config"), self.space,
                                 self.store.top(TOP_K, distinct=True, objective=self.objective))
        if rows is not None:
            self.store.set_meta("finalists", rows)
            self._event(f"measured {sum(r.get('measured_ms') is not None for r in rows)} finalist(s)")

    def _event(self, text: str, counts_changed: bool = True) -> None:
        if counts_changed or self._last is None:
            self.store.set_meta("elapsed_s", self.elapsed())
            self._last = (self.store.counts(), self.best(1))
        c, top = self._last
        self.progress.update(Snapshot(
            done=c["done"] + c["stopped"], running=len(self.running), failed=c["failed"],
            budget=self.trials, elapsed_s=self.elapsed(),
            best_reward=top[0].reward if top else None, best_spec=top[0].spec if top else None,
            event=text, epochs=tuple(sorted(self.epochs.items()))))
