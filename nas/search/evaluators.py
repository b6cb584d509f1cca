"""The evaluators a search can use, as picklable callables ``(spec, *, report, seed) -> Outcome``.

``ProxyEvaluator`` trains each candidate briefly on images held in memory (Zoph et al. 2018's
proxy task: few epochs, a subset, a small N @ F), through ``nas.evaluate``. ``TabularEvaluator``
looks accuracies up in the NAS-Bench-201 table (Dong & Yang 2020), so strategies are compared
exactly and in milliseconds. Either records latency through a ``nas.latency`` model (measured,
LUT or imported table: ``latency_ms`` with its ``latency_tier``) when ``evaluation.latency`` is
set; an architecture the latency table lacks is a failed trial naming it. Both are built in the
driver, with their data or table inside, and reach the workers once through Ray's object store.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from nas.config import ExperimentConfig
from nas.strategies.base import Failure, Outcome, Result


@dataclass(frozen=True)
class ProxyEvaluator:
    train: Any            # nas.train.TrainConfig
    data: Any             # nas.data.ProxyData (uint8 tensors)
    latency: Any = None   # a nas.latency model (or nas.evaluate.LatencyTarget) or None
    threads: int = 1      # torch intra-op threads: the CPUs Ray gave the trial
    space: Any = None     # the search's own space (None: the catalog's space for each spec)
    width: float | None = None  # a reduced-width proxy: the candidate trained narrowed (nas.evaluate.narrow)
    reward: str = "val_acc"     # evaluation.reward: val_acc or val_loss (negated)

    def __call__(self, spec: Any, *, report: Callable, seed: int) -> Outcome:
        import torch
        from nas.evaluate import evaluate
        before = torch.get_num_threads()
        torch.set_num_threads(self.threads)
        try:
            config = dataclasses.replace(self.train, seed=int(seed))
            return evaluate(spec, config, self.data, lambda epoch, metrics: report(epoch, metrics),
                            latency=self.latency, space=self.space, width=self.width, reward=self.reward)
        finally:
            torch.set_num_threads(before)  # a library call leaves the process as it found it


@dataclass(frozen=True)
class TabularEvaluator:
    table: Any            # search_spaces.nasbench201.table.NB201Table
    metric: str = "cifar10_valid"
    latency: Any = None   # a nas.latency model or None

    def __call__(self, spec: Any, *, report: Callable, seed: int) -> Outcome:
        from search_spaces.catalog import space_for
        try:
            accuracy = self.table.query(spec, self.metric) / 100.0
        except (KeyError, ValueError) as err:
            return Failure(f"not in the table: {err}")
        test_metric = self.metric.replace("_valid", "_test")
        metrics = {"val_acc": accuracy}
        if test_metric != self.metric and test_metric in self.table.metrics:
            metrics["test_acc"] = self.table.query(spec, test_metric) / 100.0
        space = space_for(spec)
        cost = space.cost(spec)
        metrics.update(params=cost.params, macs=cost.macs)
        if self.latency is not None:
            try:
                metrics.update(self.latency.estimate(spec, space).metrics())
            except KeyError as err:
                return Failure(f"latency: {err.args[0] if err.args else err}")
        report(1, metrics)
        return Result(accuracy, metrics)


def _find(path_text: str, key: str) -> Path:
    """A data file path as given, else beside the repository in ``shared/data`` (CI layout)."""
    path = Path(path_text).expanduser()
    if path.is_file():
        return path
    root = Path(__file__).resolve().parents[2]
    for parent in root.parents:
        candidate = parent / "shared" / "data" / path_text
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"config key {key!r}: file {path_text!r} not found (as given, nor in "
                            "shared/data beside the repository)")


def tabular(config: ExperimentConfig, space: Any) -> TabularEvaluator:
    from search_spaces.nasbench201.table import METRICS, NB201Table
    tab = config.evaluation.tabular
    if tab.metric not in METRICS:
        raise ValueError(f"config key 'evaluation.tabular.metric': bad value {tab.metric!r}; "
                         f"accepted: {', '.join(METRICS)}")
    if getattr(space, "name", None) != "nasbench201":
        raise ValueError(f"config key 'evaluation.kind': 'tabular' needs space.name "
                         f"'nasbench201', got {config.space.name!r}")
    return TabularEvaluator(NB201Table(_find(tab.table, "evaluation.tabular.table")), tab.metric,
                            latency_model(config, space))


def latency_model(config: ExperimentConfig, space: Any) -> Any:
    """The ``evaluation.latency`` tier as a ``nas.latency`` model (files read and checked now), or None."""
    target = config.evaluation.latency
    if target is None:
        return None
    from nas.latency import make_model
    return make_model(target, space)


def trial_threads(config: ExperimentConfig) -> int:
    """torch intra-op threads of one trial: the CPUs Ray gives it, or this process's share."""
    cpus = config.execution.cpus_per_trial if config.execution.backend == "ray" else 0
    return max(1, int(cpus)) if cpus else max(1, (config.execution.num_cpus or 1))


def zero_cost(config: ExperimentConfig, space: Any, data: Any = None, width: float | None = None) -> Any:
    """Training-free scoring of each candidate (``nas.search.zero_cost``) on the search's images,
    of its network narrowed to ``width`` when one is given."""
    from nas.data import load_proxy_data
    from nas.search.zero_cost import make_zero_cost
    return make_zero_cost(config, space, data if data is not None else load_proxy_data(config.data),
                          trial_threads(config), width)


def proxy(config: ExperimentConfig, space: Any, data: Any = None, width: float | None = None) -> ProxyEvaluator:
    from nas.data import load_proxy_data
    threads = trial_threads(config)
    latency = latency_model(config, space)  # before the data: a bad table fails before any work
    data = data if data is not None else load_proxy_data(config.data)
    return ProxyEvaluator(config.evaluation.train, data, latency, threads, space, width, config.evaluation.reward)
