"""From a config to live objects: the search space, the strategy and the trial job.

Everything the config names is built here, before Ray starts or a run directory is written, so a
misspelt option fails at once with the key, the value and what is accepted. Spaces, strategies
and evaluators are resolved through their registries (``search_spaces.catalog``,
``nas.strategies.STRATEGIES``). A ``module:attribute`` import path (custom code) is honoured only
when the caller opts in (``nas search --allow-code``): a config file alone, e.g. the one a run
directory holds for ``--resume``, never makes the driver import and run code.
"""
from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from nas.config import ExperimentConfig
from nas.search.trainable import TrialJob
from nas.strategies.base import Strategy

# Strategies keeping their history in an Optuna storage: by default a SQLite file in the run dir.
OPTUNA = ("optuna", "tpe", "nsga2")



@dataclass(frozen=True)
class Plan:
    space: Any
    strategy: Strategy
    job: TrialJob
    strategy_seed: int
    trial_seed: int
    rung_jobs: tuple = ()  # an evaluation ladder's job per rung (job is rung 0's)


def import_path(text: str, key: str) -> Any:
    """``package.module:attribute`` -> the attribute, or a ValueError naming the config key."""
    module_name, sep, attr = text.partition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"config key {key!r}: bad value {text!r}; accepted: a known name or "
                         "'package.module:attribute'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise ValueError(f"config key {key!r}: cannot import {module_name!r} ({err})") from None
    try:
        return getattr(module, attr)
    except AttributeError:
        raise ValueError(f"config key {key!r}: module {module_name!r} has no {attr!r}") from None


def call_with_options(factory: Callable, options: Mapping[str, Any], key: str, *args, **fixed) -> Any:
    """``factory(*args, **fixed, **options)`` with unknown option names reported against ``key``."""
    try:
        params = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        params = {}
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    accepted = [n for n, p in params.items() if n not in fixed and p.kind in
                (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)][len(args):]
    if params and not takes_any:
        for name in options:
            if name not in accepted:
                raise ValueError(f"unknown config key {key + '.' + name!r}; accepted keys under "
                                 f"{key!r}: {', '.join(accepted) or '(none)'}")
    try:
        return factory(*args, **fixed, **{k: _plain(v) for k, v in options.items()})
    except (TypeError, ValueError) as err:
        raise type(err)(f"config key {key!r}: {err}") from None


def custom_code(text: str, key: str, accepted: Any, allow_code: bool) -> Any:
    """A registry miss: the import path ``text`` when the user opted in, else one clear error."""
    if ":" not in text:
        raise ValueError(f"config key {key!r}: bad value {text!r}; accepted: {', '.join(sorted(accepted))}"
                         " (or 'package.module:attribute' with --allow-code)")
    if not allow_code:
        raise ValueError(f"config key {key!r}: {text!r} names code to import; custom code runs only with "
                         "--allow-code on the command line (never from a config file alone)")
    return import_path(text, key)


def make_space(config: ExperimentConfig, allow_code: bool = False) -> Any:
    from search_spaces import catalog
    name = config.space.name
    if name in catalog.SPACES:
        factory = catalog.package(name).Space
    else:
        factory = custom_code(name, "space.name", catalog.SPACES, allow_code)
    return call_with_options(factory, config.space.options, "space.options")


def make_strategy(config: ExperimentConfig, space: Any, seed: int, run_dir: Path | None = None,
                  allow_code: bool = False) -> Strategy:
    """Strategy factories, registered or custom, take ``(space, seed, **options)``."""
    from nas.strategies import STRATEGIES, strategy_factory
    name, options = config.strategy.name, dict(config.strategy.options)
    if name in OPTUNA and "storage" not in options and run_dir is not None:
        options["storage"] = f"sqlite:///{Path(run_dir).resolve() / 'optuna.sqlite'}"
    if name in STRATEGIES:
        factory = strategy_factory(name)
    else:
        factory = custom_code(name, "strategy.name", STRATEGIES, allow_code)
    strategy = call_with_options(factory, options, "strategy.options", space, seed)
    if not isinstance(strategy, Strategy):
        raise TypeError(f"config key 'strategy.name': {name!r} built a {type(strategy).__name__}, "
                        "not a nas.strategies.Strategy")
    return strategy


def make_job(config: ExperimentConfig, space: Any, allow_code: bool = False, data: Any = None,
             width: float | None = None) -> TrialJob:
    """The trial job of ``evaluation.kind`` (``data``: images already loaded, else loaded here;
    ``width``: a ladder rung's reduced-width proxy)."""
    ev = config.evaluation
    if ev.kind == "function":
        if not ev.function:
            raise ValueError("config key 'evaluation.function': required when evaluation.kind is "
                             "'function'; accepted: 'package.module:callable'")
        fn = custom_code(ev.function, "evaluation.function", (), allow_code)
        if ev.options:
            import functools
            fn = functools.partial(fn, **{k: _plain(v) for k, v in ev.options.items()})
        return TrialJob(space, fn, ev.metric)
    from nas.search import evaluators
    if ev.kind == "tabular":
        return TrialJob(space, evaluators.tabular(config, space), ev.metric)
    if ev.kind == "zero_cost":
        return TrialJob(space, evaluators.zero_cost(config, space, data, width), ev.metric)
    return TrialJob(space, evaluators.proxy(config, space, data, width), ev.metric)


def make_rung_jobs(config: ExperimentConfig, space: Any) -> tuple[TrialJob, ...]:
    """One job per ladder rung, every one built (and so checked) before anything runs; the
    images are loaded once and shared."""
    from nas.evaluate import check_width
    from nas.search.ladder import rung_config
    rungs = config.evaluation.ladder
    for r, rung in enumerate(rungs):
        if rung.width is not None:  # a custom space's scaling rule, before the images are read
            check_width(f"config key 'evaluation.ladder[{r}].width'", rung.width, space)
    data = None
    if any(r.kind != "tabular" for r in rungs):
        from nas.data import load_proxy_data
        data = load_proxy_data(config.data)
    return tuple(make_job(rung_config(config, r), space, data=data, width=rungs[r].width) for r in range(len(rungs)))


def _plain(value: Any) -> Any:
    """Config values are read-only mappings/tuples; evaluators and pickling want plain data."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    return value


def make_plan(config: ExperimentConfig, run_dir: Path | None = None, allow_code: bool = False) -> Plan:
    """Seeds flow from ``config.seed`` (SeedSequence.spawn), unless ``strategy.seed`` is given."""
    strategy_ss, trial_ss = np.random.SeedSequence(config.seed).spawn(2)
    strategy_seed = (config.strategy.seed if config.strategy.seed is not None
                     else int(strategy_ss.generate_state(1)[0] >> 1))
    trial_seed = int(trial_ss.generate_state(1)[0] >> 1)
    space = make_space(config, allow_code)
    strategy = make_strategy(config, space, strategy_seed, run_dir, allow_code)
    if config.evaluation.kind == "ladder":
        from nas.search.ladder import check_first_rung_fits
        rung_jobs = make_rung_jobs(config, space)
        check_first_rung_fits(config, space, rung_jobs[0], trial_seed)
        return Plan(space, strategy, rung_jobs[0], strategy_seed, trial_seed, rung_jobs)
    job = make_job(config, space, allow_code)
    return Plan(space, strategy, job, strategy_seed, trial_seed)
