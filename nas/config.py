"""Experiment configuration: frozen dataclasses loaded from YAML with dotted command-line
overrides (pycls's lesson: one typed config, stored with the run; without its global mutable
state: the config is a value passed down, never a module attribute read inside helpers).

``load_config(path, overrides)`` reads the YAML, applies ``key.sub=value`` overrides (values parsed
as YAML scalars/lists), and converts the tree into ``ExperimentConfig``. Every unknown key, wrong
type or out-of-range value raises one ValueError/TypeError naming the dotted key, the value and
what is accepted, before anything runs. The free-form ``options`` mappings (space constructor,
strategy, evaluator) are checked by the objects they configure when the search is planned.
"""
from __future__ import annotations

import collections.abc
import re
import types
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal, Mapping, Optional, Sequence, Union

import yaml

from nas.config_build import build, to_dict  # noqa: F401  (part of this module's API)
from nas.data.config import DataConfig
from nas.evaluate import LatencyTarget
from nas.train.config import TrainConfig


def _check(predicate, accepted: str) -> dict:
    """Field metadata: a value check and the words that describe what is accepted."""
    return {"check": predicate, "accepted": accepted}


def _positive_int(default: Any) -> Any:
    return field(default=default, metadata=_check(lambda v: v is None or v >= 1, "an integer >= 1"))


def _non_negative(default: Any) -> Any:
    return field(default=default, metadata=_check(lambda v: v is None or v >= 0, "a number >= 0"))


def _options() -> Any:
    return field(default_factory=lambda: types.MappingProxyType({}))


@dataclass(frozen=True)
class SpaceConfig:
    """Which search space and its constructor keywords (ops, blocks, N, F, ...)."""

    name: str = "cell"
    options: Mapping[str, Any] = _options()


@dataclass(frozen=True)
class StrategyConfig:
    """Which strategy; ``seed`` None derives one from the experiment seed."""

    name: str = "random"
    seed: Optional[int] = None
    options: Mapping[str, Any] = _options()


@dataclass(frozen=True)
class TabularConfig:
    """A benchmark table (NAS-Bench-201 CSV) and the column that is the reward."""

    table: str = "nasbench201-12epoch.csv"
    metric: str = "cifar10_valid"


@dataclass(frozen=True)
class ZeroCostConfig:
    """Training-free scoring (``nas.proxies``): ``proxy`` names one proxy or several (then a rank
    combination against ``reference`` random specs of the space), computed on ``batches`` seeded
    batches of ``batch_size`` training images."""

    proxy: Union[str, tuple[str, ...]] = ("naswot",)
    batch_size: int = _positive_int(64)
    batches: int = _positive_int(1)
    reference: int = _positive_int(32)

    def __post_init__(self) -> None:
        if isinstance(self.proxy, str):  # ``proxy: naswot`` in YAML means the one proxy
            object.__setattr__(self, "proxy", (self.proxy,))


@dataclass(frozen=True)
class RungConfig:
    """One rung of an evaluation ladder, cheapest first. ``kind``: ``zero_cost`` (training-free,
    ``evaluation.zero_cost``), ``proxy`` (a short training: ``evaluation.train`` with ``train``'s
    keys overriding it) or ``tabular``. ``keep``: the fraction of this rung's candidates, best
    first, promoted to the next rung. A rung stops at ``trials`` candidates or at its ``share`` of
    ``budget.cpu_s`` (the last rung takes what remains), whichever comes first. ``width``: a
    reduced-width proxy (EcoNAS, Zhou et al. 2020): the rung scores each candidate narrowed by its
    space's scaling rule; the store keeps the candidate's own spec, the metrics the width.
    ``reward``: what this rung ranks trained candidates by (None: ``evaluation.reward``)."""

    kind: Literal["zero_cost", "proxy", "tabular"] = "zero_cost"
    keep: float = field(default=0.1, metadata=_check(lambda v: 0 < v <= 1, "a fraction in (0, 1]"))
    trials: Optional[int] = _positive_int(None)
    share: Optional[float] = field(default=None, metadata=_check(lambda v: v is None or 0 < v < 1,
                                                                 "a fraction of budget.cpu_s in (0, 1)"))
    train: Mapping[str, Any] = _options()
    width: Optional[float] = field(default=None, metadata=_check(lambda v: v is None or v > 0,
                                                                 "a width multiplier > 0"))
    reward: Optional[Literal["val_acc", "val_loss"]] = None


@dataclass(frozen=True)
class EvaluationConfig:
    """How a candidate is scored. ``proxy``: short training on ``data`` with the ``train``
    recipe (and latency measured when ``latency`` is set); ``tabular``: a benchmark table lookup;
    ``zero_cost``: a training-free proxy (``zero_cost``); ``ladder``: the ``ladder`` rungs in turn;
    ``function``: ``module:callable`` taking ``(spec, *, report, seed, **options)`` (custom or
    test evaluators). ``metric`` is the per-epoch value an early-stopping scheduler compares.
    ``reward``: what a trained candidate is ranked by: ``val_acc``, its last epoch's validation
    accuracy, or ``val_loss``, that epoch's validation loss negated (higher is better). On the few
    hundred validation images a CPU search affords, accuracy moves in steps of 1/n and the loss,
    averaged over the same images, ranks short trainings more faithfully (benchmarks/README.md)."""

    kind: Literal["proxy", "tabular", "function", "zero_cost", "ladder"] = "proxy"
    metric: str = "val_acc"
    reward: Literal["val_acc", "val_loss"] = "val_acc"
    train: TrainConfig = field(default_factory=TrainConfig)
    zero_cost: ZeroCostConfig = field(default_factory=ZeroCostConfig)
    ladder: tuple[RungConfig, ...] = ()
    latency: Optional[LatencyTarget] = None
    tabular: TabularConfig = field(default_factory=TabularConfig)
    function: Optional[str] = None
    options: Mapping[str, Any] = _options()


@dataclass(frozen=True)
class AshaConfig:
    """Asynchronous successive halving (Li et al. 2020) over reported epochs."""

    grace_period: int = _positive_int(1)
    reduction_factor: float = field(default=3.0, metadata=_check(lambda v: v > 1, "a number > 1"))
    max_t: Optional[int] = _positive_int(None)  # reports per trial; None: proxy epochs + 1, else 100


@dataclass(frozen=True)
class ExecutionConfig:
    """Where and how trials run. ``ray`` starts Ray on this machine (``num_cpus``/``num_gpus``
    None: all) unless ``address`` names a cluster; ``local`` runs trials in-process one at a time.
    ``max_failures``: how often Ray retries a trial whose worker process died. ``device``: ``auto``
    uses ``gpus_per_trial`` where this machine (or the named cluster) has a GPU and ignores it, with
    a note, where it has none, so one experiment file runs on CPU and GPU machines alike; ``gpu``
    refuses to start without one; ``cpu`` never asks for a GPU."""

    backend: Literal["ray", "local"] = "ray"
    device: Literal["auto", "cpu", "gpu"] = "auto"
    address: Optional[str] = None
    num_cpus: Optional[int] = _positive_int(None)
    num_gpus: Optional[int] = _non_negative(None)
    cpus_per_trial: float = field(default=1.0, metadata=_check(lambda v: v > 0, "a number > 0"))
    gpus_per_trial: float = _non_negative(0.0)
    max_concurrent: int = _positive_int(2)
    max_failures: int = _non_negative(1)
    scheduler: Literal["none", "asha"] = "none"
    asha: AshaConfig = field(default_factory=AshaConfig)
    reuse_actors: bool = True


@dataclass(frozen=True)
class BudgetConfig:
    """When the search stops: after ``trials`` finished trials (done or failed), once ``time_s``
    seconds of search have passed, or once the trials' compute (``cpu_s``: CPU-seconds of the
    processes that evaluated them, summed) is spent; running trials then finish."""

    trials: int = _positive_int(16)
    time_s: Optional[float] = field(default=None, metadata=_check(lambda v: v is None or v > 0,
                                                                  "a number of seconds > 0"))
    cpu_s: Optional[float] = field(default=None, metadata=_check(lambda v: v is None or v > 0,
                                                                 "a number of CPU-seconds > 0"))


@dataclass(frozen=True)
class ExperimentConfig:
    name: str = "search"
    seed: int = _non_negative(0)
    output: str = "runs"
    space: SpaceConfig = field(default_factory=SpaceConfig)
    strategy: StrategyConfig = field(default_factory=StrategyConfig)
    evaluation: EvaluationConfig = field(default_factory=EvaluationConfig)
    data: DataConfig = field(default_factory=DataConfig)  # nas.data's: the proxy's images
    execution: ExecutionConfig = field(default_factory=ExecutionConfig)
    budget: BudgetConfig = field(default_factory=BudgetConfig)


# ---------------------------------------------------------------- cross-field checks

# Per-epoch values each evaluation kind reports, higher is better (what ASHA and the searcher
# compare); a 'function' evaluator reports its own, so any name is taken there.
EPOCH_METRICS = {"proxy": ("val_acc", "train_acc"), "tabular": ("val_acc",), "zero_cost": ("val_acc",),
                 "ladder": ("val_acc",)}


def check_experiment(config: ExperimentConfig) -> ExperimentConfig:
    """Checks spanning sections, raised at load time like the per-key ones."""
    ev = config.evaluation
    accepted = EPOCH_METRICS.get(ev.kind)
    if accepted is not None and ev.metric not in accepted:
        raise ValueError(f"config key 'evaluation.metric': bad value {ev.metric!r}; accepted for "
                         f"evaluation.kind {ev.kind!r}: {', '.join(accepted)}")
    if ev.kind == "ladder":
        check_ladder(config)
    check_reward(config)
    if ev.kind in ("proxy", "ladder") and config.data.val_fraction == 0:
        # val_fraction=0 validates on the test split: the search would select on it.
        raise ValueError("config key 'data.val_fraction': bad value 0 (it validates on the test split, "
                         "so the search would select on it); accepted for a search: 0 < val_fraction < 1")
    return config


def check_reward(config: ExperimentConfig) -> None:
    """MnasNet's ACC x (LAT / T) ** w rewards a faster network only for a positive accuracy, so a
    negated loss cannot feed it."""
    ev = config.evaluation
    keys = [("evaluation.reward", ev.reward)] + [(f"evaluation.ladder[{i}].reward", r.reward)
                                                  for i, r in enumerate(ev.ladder)]
    for key, value in keys:
        if value == "val_loss" and config.strategy.name == "mnasnet":
            raise ValueError(f"config key '{key}': bad value 'val_loss' with strategy 'mnasnet', whose reward "
                             "ACC x (LAT / T) ** w needs a positive accuracy; accepted: val_acc")


def check_ladder(config: ExperimentConfig) -> None:
    """A ladder that cannot run fails at load time, naming the key, the value and what fits."""
    rungs, budget = config.evaluation.ladder, config.budget
    if not rungs:
        raise ValueError("config key 'evaluation.ladder': bad value []; accepted: one or more rungs "
                         "(e.g. [{kind: zero_cost, keep: 0.1}, {kind: proxy}])")
    for i, rung in enumerate(rungs):
        key = f"evaluation.ladder[{i}]"
        # An upper rung ends with its promoted list; the strategy's rung needs a bound of its own.
        if rung.trials is None and rung.share is None and i == 0 and len(rungs) > 1 and budget.cpu_s is None:
            raise ValueError(f"config key '{key}': the first rung needs 'trials' or a 'share' of "
                             "budget.cpu_s, else it would run to budget.trials before promoting any")
        if rung.share is not None and budget.cpu_s is None:
            raise ValueError(f"config key '{key}.share': bad value {rung.share!r}; a share needs budget.cpu_s")
        if rung.width is not None:
            check_rung_width(config, key, rung)
        unknown = sorted(set(rung.train) - {f.name for f in fields(TrainConfig)})
        if unknown:
            raise ValueError(f"unknown config key '{key}.train.{unknown[0]}'; accepted: "
                             f"{', '.join(f.name for f in fields(TrainConfig))}")
    shares = sum(r.share or 0 for r in rungs)
    if shares >= 1:
        raise ValueError(f"config key 'evaluation.ladder': the rungs' shares add up to {shares:g}; accepted: "
                         "less than 1 (the last rung takes what remains of budget.cpu_s)")
    n = None
    for i, rung in enumerate(rungs[:-1]):
        n = rung.trials if n is None else min(n, rung.trials or n)
        if n is not None and int(n * rung.keep) < 1:
            raise ValueError(f"config key 'evaluation.ladder[{i}].keep': bad value {rung.keep!r}; keeping "
                             f"{rung.keep:g} of {n} candidates promotes none to rung {i + 1}; accepted: "
                             f"keep >= {1 / n:.3g} or more trials")
        if n is not None:
            n = int(n * rung.keep)


def check_rung_width(config: ExperimentConfig, key: str, rung: RungConfig) -> None:
    """A rung's width needs a rung that builds networks and a space with a scaling rule (a custom
    space is checked when the search is planned)."""
    from nas.evaluate import check_width
    if rung.kind == "tabular":
        raise ValueError(f"config key '{key}.width': bad value {rung.width!r}; a tabular rung looks "
                         "accuracies up and trains nothing; accepted: width on zero_cost and proxy rungs")
    check_width(f"config key '{key}.width'", rung.width, config.space.name)


def from_dict(data: Any) -> ExperimentConfig:
    """An ``ExperimentConfig`` from plain data, with every per-key and cross-field check."""
    return check_experiment(build(ExperimentConfig, data))


# ---------------------------------------------------------------- YAML


class StrictLoader(yaml.SafeLoader):
    """``safe_load`` semantics, plus: a duplicate key raises (PyYAML keeps the last silently), and
    floats in any form Python accepts ('5e-2', '1e12'; YAML 1.1 demands a dot and a signed exponent)."""

    def construct_mapping(self, node, deep=False):
        seen: dict = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, collections.abc.Hashable) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r} (first on line {seen[key] + 1}); keep one",
                    key_node.start_mark)
            if isinstance(key, collections.abc.Hashable):
                seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep)


StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9][0-9_]*)[eE][-+]?[0-9]+$"),
    list("-+0123456789."))


def yaml_error(where: str, err: yaml.YAMLError) -> ValueError:
    """One line naming the file (or override) and line, without PyYAML's multi-line context."""
    mark = getattr(err, "problem_mark", None)
    problem = getattr(err, "problem", None) or str(err).splitlines()[0]
    line = f" line {mark.line + 1}:" if mark is not None else ""
    return ValueError(f"{where}:{line} not valid YAML: {problem}")


def parse_yaml(text: str, where: str) -> Any:
    """``text`` parsed with ``StrictLoader``; errors name ``where`` and the line."""
    try:
        return yaml.load(text, Loader=StrictLoader)  # noqa: S506 -- a SafeLoader subclass
    except yaml.YAMLError as err:
        raise yaml_error(where, err) from None


# ---------------------------------------------------------------- loading


def apply_overrides(data: dict, overrides: Sequence[str]) -> dict:
    """``["budget.trials=64", "strategy.seed=3"]`` applied to a nested dict (a new one)."""
    import copy
    data = copy.deepcopy(data)
    for item in overrides:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key or any(not part for part in key.split(".")):
            raise ValueError(f"override {item!r}: expected KEY.SUB=VALUE, e.g. budget.trials=64")
        value = parse_yaml(text, f"override {item!r}") if text.strip() else None
        node = data
        parts = key.split(".")
        for depth, part in enumerate(parts[:-1]):
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            if not isinstance(child, dict):
                raise ValueError(f"override {item!r}: {'.'.join(parts[:depth + 1])!r} is "
                                 f"{child!r}, not a mapping")
            node = child
        node[parts[-1]] = value
    return data


def load_config(path: str | Path | None, overrides: Sequence[str] = ()) -> ExperimentConfig:
    """Read an experiment YAML (or the defaults when ``path`` is None) and apply overrides."""
    data: Any = {}
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"experiment file {str(path)!r} does not exist")
        data = read_yaml(path)
    return from_dict(apply_overrides(data, overrides))


def read_yaml(path: Path) -> dict:
    """A config file's top-level mapping; unreadable, undecodable or malformed files name the file."""
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as err:
        raise ValueError(f"{path}: cannot read the config file ({err})") from None
    data = parse_yaml(text, str(path)) or {}
    if not isinstance(data, dict):
        raise TypeError(f"{path}: the top level must be a mapping, got {data!r}")
    return data


def dump_config(config: ExperimentConfig) -> str:
    return yaml.safe_dump(to_dict(config), sort_keys=False)
