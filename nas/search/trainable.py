"""The Ray Tune trainable: one trial evaluates one candidate spec.

The ``TrialJob`` (space, evaluator, and for proxy training the in-memory dataset) reaches the
workers through ``tune.with_parameters``, i.e. Ray's object store, once per search; the per-trial
config is only the spec string, the candidate id and a seed. Per-epoch metrics go to Tune as they
come (ASHA's rungs compare ``score``); the final report carries the outcome as JSON so the driver
gets it back unflattened. An evaluator that raises or diverges yields a ``Failure`` here; only a
dying worker process reaches Ray's own failure handling (retries per ``FailureConfig``).
"""
from __future__ import annotations

import json
import math
import time
import traceback
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from nas.strategies.base import Failure, Outcome, Result, as_outcome

Report = Callable[[int, Mapping[str, float]], None]
METRIC = "score"  # the one name schedulers and the searcher compare (Ray Tune's metric)
OUTCOME_KEY = "nas_outcome"
EPOCH_KEY = "nas_epoch"


@dataclass(frozen=True)
class TrialJob:
    """Everything a worker needs besides the spec. ``evaluate(spec, report, seed)`` returns a
    Result, a Failure or a bare reward; ``metric`` names the per-epoch value schedulers compare."""

    space: Any
    evaluate: Callable[..., Any]
    metric: str = "val_acc"

    def run(self, spec_text: str, seed: int, report: Report) -> Outcome:
        """Evaluate one spec; any exception becomes a Failure naming it."""
        start, cpu0 = time.perf_counter(), time.process_time()
        try:
            spec = self.space.from_str(spec_text)
            outcome = self.evaluate(spec, report=report, seed=seed)
        except Exception as err:  # noqa: BLE001 -- a bad candidate must not end the search
            last = traceback.extract_tb(err.__traceback__)[-1:]
            where = f" (at {last[0].filename}:{last[0].lineno})" if last else ""
            return Failure(f"{type(err).__name__}: {err}{where}")
        outcome = as_outcome(outcome)
        if isinstance(outcome, Result):
            # Compute the budget counts (budget.cpu_s): this process's CPU time, torch's intra-op
            # threads included; an evaluator that knows better reports its own.
            spent = {"wall_s": time.perf_counter() - start, "cpu_s": time.process_time() - cpu0}
            outcome = Result(outcome.reward, {**spent, **outcome.metrics})
        return outcome


def _scalars(metrics: Mapping[str, Any]) -> dict:
    out = {}
    for key, value in metrics.items():
        if hasattr(value, "item") and callable(value.item):
            value = value.item()
        if isinstance(value, (int, float, str, bool)) or value is None:
            out[str(key)] = value
    return out


def _json_safe(value: Any) -> Any:
    return None if isinstance(value, float) and not math.isfinite(value) else value


def encode_outcome(outcome: Any) -> str:
    if isinstance(outcome, Failure):
        return json.dumps({"status": "failed", "reason": outcome.reason})
    if isinstance(outcome, Result):
        reward = float(outcome.reward)
        return json.dumps({"status": "done", "reward": reward if math.isfinite(reward) else
                           str(reward), "metrics": {k: _json_safe(v) for k, v in
                                                    _scalars(outcome.metrics).items()}})
    return json.dumps({"status": "failed", "reason": f"evaluator returned {outcome!r}"})


def decode_result(result: Mapping[str, Any] | None, metric: str) -> tuple[Outcome, bool]:
    """(outcome, stopped_early) from a trial's last Tune result."""
    if not result:
        return Failure("trial ended without reporting a result"), False
    if OUTCOME_KEY in result:
        data = json.loads(result[OUTCOME_KEY])
        if data["status"] == "failed":
            return Failure(data["reason"]), False
        return Result(float(data["reward"]), data.get("metrics", {})), False
    # No final report: a scheduler (ASHA) stopped the trial after an epoch.
    metrics = json.loads(result.get(EPOCH_KEY, "{}"))
    score = result.get(METRIC)
    if score is None or not isinstance(score, (int, float)):
        return Failure(f"stopped early without a {metric!r} value"), True
    return Result(float(score), {**metrics, "stopped_epoch": result.get("epoch")}), True


def run_trial(config: dict, job: TrialJob | None = None) -> None:
    """Function trainable: ``config`` = {"candidate": id, "spec": string, "seed": int}."""
    from ray import tune

    def report(epoch: int, metrics: Mapping[str, Any]) -> None:
        scalars = _scalars(metrics)
        score = scalars.get(job.metric)
        tune.report({METRIC: float(score) if isinstance(score, (int, float)) else float("nan"),
                     "epoch": int(epoch), EPOCH_KEY: json.dumps(
                         {k: _json_safe(v) for k, v in scalars.items()})})

    outcome = job.run(config["spec"], int(config["seed"]), report)
    score = outcome.reward if isinstance(outcome, Result) else float("nan")
    tune.report({METRIC: float(score), OUTCOME_KEY: encode_outcome(outcome)})
