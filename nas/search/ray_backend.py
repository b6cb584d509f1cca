"""The Ray Tune backend: start (or join) Ray, run the trainable under our searcher.

With no address Ray starts on this machine (``ray_local``: loopback only, private files, nothing
left running), without a dashboard and without forwarding worker logs; with an address it joins
that cluster and leaves it running afterwards. The trial job (space, evaluator, dataset) goes into
the object store once through ``tune.with_parameters``.
"""
from __future__ import annotations

import contextlib
import json
import logging
import os
from pathlib import Path

from nas.config import ExperimentConfig
from nas.search.driver import Driver
from nas.search.plan import Plan
from nas.search.ray_local import local_cluster
from nas.search.searcher import METRIC, StrategySearcher, TrialWatcher
from nas.search.trainable import EPOCH_KEY, run_trial
from ray.tune import Callback


def connect(config: ExperimentConfig, stack: contextlib.ExitStack, notices: Path) -> None:
    """Start or join Ray unless this process already has; what we started or joined is left
    (``ray.shutdown``) when ``stack`` closes. A cluster at ``execution.address`` keeps running."""
    import ray
    if ray.is_initialized():
        return
    ex = config.execution
    if not ex.address:
        stack.enter_context(local_cluster(ex.num_cpus, ex.num_gpus, notices))
        return
    try:
        ray.init(address=ex.address, log_to_driver=False, logging_level=logging.WARNING)
    except ConnectionError as err:
        raise ValueError(
            f"config key 'execution.address': cannot join the Ray cluster at {ex.address!r} "
            f"({err}). Ray clusters use token authentication by default: set "
            "RAY_AUTH_MODE=token and make the cluster's token available (~/.ray/auth_token or "
            "RAY_AUTH_TOKEN)") from None
    stack.callback(ray.shutdown)


# Ray's start-up notices (e.g. the token-authentication warning) and ours about the local cluster
# (where its logs are, a token made private).
_NOTICES = ("ray._private.authentication", "nas.search.ray_local")


@contextlib.contextmanager
def _notices_to(log: Path):
    """Start-up notices go to ``log``, not into the middle of the progress line."""
    log.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(log)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    loggers = [logging.getLogger(name) for name in _NOTICES]
    saved = [(lg.propagate, lg.level) for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.propagate = False
        lg.setLevel(min(lg.getEffectiveLevel(), logging.INFO))
    try:
        yield
    finally:
        for lg, (propagate, level) in zip(loggers, saved):
            lg.removeHandler(handler)
            lg.propagate, lg.level = propagate, level
        handler.close()


def check_resources(config: ExperimentConfig) -> ExperimentConfig:
    """A trial asking for more than the cluster has would wait forever: refuse it up front. With
    ``execution.device: auto`` a cluster without GPUs runs the trials on CPUs (with a note)."""
    import dataclasses
    import sys
    import ray
    have = ray.cluster_resources()
    ex = config.execution
    if ex.device == "auto" and ex.gpus_per_trial > 0 and not have.get("GPU"):
        print(f"note: the Ray cluster has no GPU: execution.gpus_per_trial={ex.gpus_per_trial:g} "
              "ignored, trials run on CPUs (execution.device=auto)", file=sys.stderr)
        ex = dataclasses.replace(ex, gpus_per_trial=0.0)
        config = dataclasses.replace(config, execution=ex)
    for key, want, field in (("CPU", ex.cpus_per_trial, "cpus_per_trial"),
                             ("GPU", ex.gpus_per_trial, "gpus_per_trial")):
        if want > have.get(key, 0):
            raise ValueError(f"config key 'execution.{field}': bad value {want!r}; the Ray cluster "
                             f"has {have.get(key, 0):g} {key}(s)")
    return config


def scheduler(config: ExperimentConfig):
    if config.execution.scheduler != "asha":
        return None
    from ray.tune.schedulers import ASHAScheduler
    a = config.execution.asha
    # A trial reports once per epoch and once more with its outcome; max_t must leave room for
    # that last report, or finished trials would be cut at their final epoch.
    max_t = a.max_t or ((config.evaluation.train.epochs if config.evaluation.kind == "proxy"
                         else 99) + 1)
    return ASHAScheduler(metric=METRIC, mode="max", time_attr="training_iteration",
                         grace_period=a.grace_period, reduction_factor=a.reduction_factor,
                         max_t=max_t)


# Tune's own reporting duplicates ours: per-result CSV/JSON/TensorBoard loggers (the driver writes
# those files itself, for both backends, under RUN/trials/: ``Driver.record_epoch``), its progress
# tables and per-trial tracebacks (failures are recorded with their reason; the full text stays
# in Tune's error.txt under ray/).
# Tune's SIGINT handler is off: it turned Ctrl-C into a normal return (exit 0, "finished 2 trials");
# the KeyboardInterrupt now reaches the runner, which reports the run as interrupted.
_TUNE_ENV = {"TUNE_DISABLE_AUTO_CALLBACK_LOGGERS": "1", "RAY_AIR_NEW_OUTPUT": "0",
             "TUNE_PRINT_ALL_TRIAL_ERRORS": "0", "TUNE_DISABLE_SIGINT_HANDLER": "1"}


@contextlib.contextmanager
def _quiet_tune():
    saved = {k: os.environ.get(k) for k in _TUNE_ENV}
    levels = {name: logging.getLogger(name).level for name in ("ray.tune", "ray.train")}
    os.environ.update({k: os.environ.get(k, v) for k, v in _TUNE_ENV.items()})
    for name in levels:
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


def run_ray(driver: Driver, plan: Plan, config: ExperimentConfig, run_dir: Path, session: int) -> None:
    if driver.remaining() == 0:
        return
    notices = run_dir / "ray" / "notices.log"
    with contextlib.ExitStack() as stack:
        with _notices_to(notices):
            connect(config, stack, notices)
        config = check_resources(config)
        with _quiet_tune():
            _fit(driver, plan, config, run_dir, session)


def _trial_name(trial) -> str:
    """Tune's default names embed the config (a whole spec string); the candidate id is enough."""
    return f"candidate-{trial.config.get('candidate', 'x')}-{trial.trial_id}"


class EpochRecorder(Callback):
    """Hands each per-epoch Tune result to ``Driver.record_epoch`` (callbacks run in the driver)."""

    def __init__(self, driver: Driver) -> None:
        self.driver = driver

    def __getstate__(self) -> dict:
        return {"driver": None}  # Tune pickles its config; the driver stays here

    def on_trial_result(self, iteration, trials, trial, result, **info) -> None:
        if self.driver is not None and EPOCH_KEY in result and "candidate" in trial.config:
            self.driver.record_epoch(int(trial.config["candidate"]), int(result.get("epoch", 0)),
                                     json.loads(result[EPOCH_KEY]))


def _fit(driver: Driver, plan: Plan, config: ExperimentConfig, run_dir: Path, session: int) -> None:
    from ray import tune
    ex = config.execution
    watcher = TrialWatcher()
    searcher = StrategySearcher(driver, plan.trial_seed, config.evaluation.metric, watcher)
    resources = {"cpu": ex.cpus_per_trial, "gpu": ex.gpus_per_trial}
    trainable = tune.with_resources(tune.with_parameters(run_trial, job=plan.job), resources)
    tuner = tune.Tuner(
        trainable,
        tune_config=tune.TuneConfig(search_alg=searcher, scheduler=scheduler(config),
                                    num_samples=driver.remaining(),
                                    max_concurrent_trials=ex.max_concurrent,
                                    reuse_actors=ex.reuse_actors,
                                    trial_name_creator=_trial_name,
                                    trial_dirname_creator=_trial_name),
        run_config=tune.RunConfig(name=f"session-{session}", storage_path=str(run_dir / "ray"),
                                  failure_config=tune.FailureConfig(max_failures=ex.max_failures),
                                  verbose=0, callbacks=[watcher, EpochRecorder(driver)]))
    tuner.fit()
