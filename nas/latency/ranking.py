"""Ranking a search's trials by the search's own objective, never by raw accuracy alone.

* MnasNet (Tan et al. 2019): the shaped reward ACC x (LAT/T)^w the controller was trained on;
  under a hard constraint (alpha = 0) feasibility comes first: every architecture meeting the
  target ranks above every one that misses it, each group by its shaped reward.
* A latency target on any other strategy (``evaluation.latency.target``): feasible first, then
  the reward.
* A multi-objective (NSGA-II, Deb et al. 2002) search: feasible first when there is a target,
  then the non-dominated front index over its objectives, then the reward.
* Otherwise: the reward.

``objective_from_config`` reads the plain config a run directory stores; ``Objective.rank``
orders any records with ``reward``, ``metrics`` and ``seq`` (the run store's ``TrialRecord``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

LATENCY_METRIC = "latency_ms"


@dataclass(frozen=True)
class Objective:
    kind: str = "reward"            # reward | mnasnet | constrained | pareto
    metric: str | None = None       # the metric the target bounds
    target: float | None = None
    alpha: float = 0.0
    beta: float = 0.0
    hard: bool = False              # feasibility first
    objectives: tuple[tuple[str, str], ...] = ()

    def describe(self) -> str:
        bound = f"{self.metric} <= {self.target:g}" if self.target is not None else ""
        if self.kind == "mnasnet":
            return (f"MnasNet reward ACC x ({self.metric}/{self.target:g})^w, alpha={self.alpha:g}, "
                    f"beta={self.beta:g}" + (", feasible first" if self.hard else ""))
        if self.kind == "pareto":
            names = ", ".join(f"{n} ({d})" for n, d in self.objectives)
            return f"Pareto front over {names}" + (f", feasible first ({bound})" if bound else "")
        if self.kind == "constrained":
            return f"reward, feasible first ({bound})"
        return "reward"

    def feasible(self, metrics: Mapping[str, Any]) -> bool | None:
        """Whether a trial meets the target; None without a target or without the metric."""
        if self.target is None or self.metric is None:
            return None
        value = metrics.get(self.metric)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            return None
        return float(value) <= self.target

    def score(self, reward: float, metrics: Mapping[str, Any]) -> float:
        """The scalar the search maximised: the shaped reward for MnasNet, the reward otherwise."""
        if self.kind != "mnasnet":
            return float(reward)
        from nas.strategies.mnasnet import mnasnet_reward
        value = metrics.get(self.metric)
        try:
            return mnasnet_reward(reward, value, self.target, self.alpha, self.beta)
        except ValueError:
            return -math.inf   # no latency recorded: nothing to rank it by

    def rank(self, records: Sequence[Any]) -> list[Any]:
        """``records`` best first (stable: earlier ``seq`` first among ties)."""
        records = [r for r in records if r.reward is not None]
        fronts = self._fronts(records) if self.kind == "pareto" else {}

        def key(i_rec):
            i, r = i_rec
            ok = self.feasible(r.metrics)
            first = (0 if ok else 1) if (self.hard and self.target is not None) else 0
            return (first, fronts.get(i, 0), -self.score(r.reward, r.metrics), r.seq)

        return [r for _, r in sorted(enumerate(records), key=key)]

    def _fronts(self, records: Sequence[Any]) -> dict[int, int]:
        from nas.strategies.pareto import non_dominated_sort
        rows, index = [], []
        for i, r in enumerate(records):
            values = [r.reward if name == "reward" else r.metrics.get(name) for name, _ in self.objectives]
            if all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in values):
                rows.append(values)
                index.append(i)
        out = {i: len(records) for i in range(len(records))}  # incomplete records: after every front
        if rows:
            maximize = [d == "maximize" for _, d in self.objectives]
            for f, members in enumerate(non_dominated_sort(rows, maximize)):
                for m in members:
                    out[index[int(m)]] = f
        return out


def objective_from_config(config: Mapping[str, Any] | None) -> Objective:
    """The ranking objective of a run, from its plain (YAML/JSON) config."""
    config = config or {}
    strategy = config.get("strategy") or {}
    name, options = strategy.get("name"), strategy.get("options") or {}
    latency = (config.get("evaluation") or {}).get("latency") or {}
    lat_target = latency.get("target")
    numeric = isinstance(lat_target, (int, float)) and not isinstance(lat_target, bool)
    lat_target = float(lat_target) if numeric else None
    if name == "mnasnet" and "metric" in options and "target" in options:
        from nas.strategies.mnasnet import resolve_constraint
        alpha, beta = resolve_constraint(_plain(options.get("constraint", "soft")))
        return Objective("mnasnet", str(options["metric"]), float(options["target"]), alpha, beta,
                         hard=alpha == 0.0)
    objectives = _objectives(name, options)
    if len(objectives) > 1:
        return Objective("pareto", LATENCY_METRIC if lat_target is not None else None, lat_target,
                         hard=lat_target is not None, objectives=objectives)
    if lat_target is not None:
        return Objective("constrained", LATENCY_METRIC, lat_target, hard=True)
    return Objective()


def _plain(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _objectives(name: Any, options: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    if name not in ("nsga2", "optuna", "tpe"):
        return ()
    default = (("reward", "maximize"), ("macs", "minimize")) if name == "nsga2" else (("reward", "maximize"),)
    items = options.get("objectives", default)
    try:
        return tuple((str(a), str(b)) for a, b in items)
    except (TypeError, ValueError):
        return ()
