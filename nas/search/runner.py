"""The search driver loop: plan, open the run directory, run trials on Ray Tune (or locally),
record everything, and leave a directory that ``nas report`` and ``--resume`` can read.

Layout of a run directory::

    config.yaml        the resolved experiment config (what ``--resume`` reloads)
    environment.json   package versions, git revision, host, command line
    trials.sqlite      the trials table + the strategy checkpoint (driver-written only)
    strategy.json      the strategy's state after the latest tell (human-readable mirror)
    best.json          the top specs so far with their metrics
    ray/               Ray Tune's own experiment folders (one per session)
    driver.lock        held (flock) by the one driver running the search; names its pid and host
"""
from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass, replace
from importlib import metadata
from pathlib import Path
from typing import Sequence

from nas.config import ExperimentConfig, apply_overrides, dump_config, from_dict, read_yaml, to_dict
from nas.io import write_json
from nas.search.driver import Driver
from nas.search.plan import Plan, make_plan
from nas.search.progress import Progress
from nas.search.run_guard import LOCK_NAME, RunLock, check_records
from nas.search.store import RunStore

PACKAGES = ("cellnas", "torch", "torchvision", "ray", "optuna", "numpy", "networkx", "pyyaml",
            "matplotlib")


@dataclass(frozen=True)
class SearchSummary:
    run_dir: Path
    counts: dict
    best_spec: str | None
    best_reward: float | None
    proposed: tuple[str, ...]  # spec strings handed out in this session, in order
    wall_s: float


def environment() -> dict:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    root = Path(__file__).resolve().parents[2]
    git = {}
    try:
        run = lambda *a: subprocess.run(["git", "-C", str(root), *a], capture_output=True,  # noqa: E731
                                        text=True, timeout=10).stdout.strip()
        git = {"revision": run("rev-parse", "HEAD") or None,
               "dirty": bool(run("status", "--porcelain", "--untracked-files=no"))}
    except (OSError, subprocess.SubprocessError):
        pass
    return {"python": sys.version.split()[0], "platform": platform.platform(),
            "host": platform.node(), "packages": versions, "git": git, "argv": sys.argv,
            "started": time.strftime("%Y-%m-%dT%H:%M:%S")}


class Interrupted(KeyboardInterrupt):
    """Ctrl-C (SIGINT) during a search: the run is consistent and ``--resume`` continues it."""

    def __init__(self, run_dir: Path, counts: dict, budget: int) -> None:
        super().__init__(str(run_dir))
        self.run_dir, self.counts, self.budget = run_dir, counts, budget


def _note(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def choose_run_dir(config: ExperimentConfig, run_dir: str | Path | None) -> Path:
    """A new run's directory: the given one only when it is absent or empty (a user's folder is
    never written into), else ``<output>/<name>-<time>``."""
    if run_dir is None:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        run_dir = Path(config.output) / f"{config.name}-{stamp}"
        n = 1
        while run_dir.exists():
            n += 1
            run_dir = Path(config.output) / f"{config.name}-{stamp}-{n}"
    run_dir = Path(run_dir).resolve()
    if (run_dir / "trials.sqlite").exists():
        raise ValueError(f"run directory {str(run_dir)!r} already holds a search; continue it with "
                         "--resume or choose another directory")
    if run_dir.exists() and not run_dir.is_dir():
        raise ValueError(f"--run-dir {str(run_dir)!r} is a file; name a new or empty folder")
    if run_dir.is_dir() and any(p.name != LOCK_NAME for p in run_dir.iterdir()):
        raise ValueError(f"--run-dir {str(run_dir)!r} is a folder that is neither empty nor a search "
                         "run; name a new or empty folder (nothing was written)")
    return run_dir


def resolve_device(config: ExperimentConfig) -> ExperimentConfig:
    """The execution settings this machine can honour, checked before anything is created.

    ``execution.device: auto`` drops ``gpus_per_trial`` on a machine without a GPU (with a note), so
    the GPU-sized experiment files run on a CPU too; a joined cluster (``address``) is checked once
    connected (``ray_backend.check_resources``)."""
    ex = config.execution
    if ex.address:
        return config
    cpus = ex.num_cpus or os.cpu_count() or 1
    if ex.backend == "ray" and ex.cpus_per_trial > cpus:
        raise ValueError(f"config key 'execution.cpus_per_trial': bad value {ex.cpus_per_trial!r}; "
                         f"this machine has {cpus} CPU(s) (execution.num_cpus: {ex.num_cpus})")
    if ex.device == "cpu" or (ex.gpus_per_trial == 0 and ex.device != "gpu"):
        return replace(config, execution=replace(ex, gpus_per_trial=0.0))
    gpus = ex.num_gpus if ex.num_gpus is not None else _local_gpus()
    if gpus == 0 and ex.device == "auto":
        _note(f"note: no GPU on this machine: execution.gpus_per_trial={ex.gpus_per_trial:g} ignored, "
              "trials run on the CPU (execution.device=auto)")
        return replace(config, execution=replace(ex, gpus_per_trial=0.0))
    if ex.device == "gpu" and gpus == 0:
        raise ValueError("config key 'execution.device': bad value 'gpu'; this machine has no GPU; "
                         "accepted here: auto, cpu")
    want = ex.gpus_per_trial if ex.backend == "ray" else 0.0
    if want > gpus:
        raise ValueError(f"config key 'execution.gpus_per_trial': bad value {ex.gpus_per_trial!r}; "
                         f"this machine has {gpus:g} GPU(s)")
    return config


def _local_gpus() -> int:
    try:
        import torch
        return torch.cuda.device_count() if torch.cuda.is_available() else 0
    except ImportError:
        return 0


def link_latest(run_dir: Path) -> None:
    """Point ``<parent>/latest`` at the newest run so ``nas report runs/latest`` needs no name.
    A real file or folder called ``latest`` is left alone."""
    link = run_dir.parent / "latest"
    if link.exists() and not link.is_symlink():
        return
    tmp = run_dir.parent / f".latest-{os.getpid()}"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(run_dir.name, target_is_directory=True)
    os.replace(tmp, link)  # atomic: a concurrent reader sees the old or the new run, never none


def resume_config(run_dir: str | Path, overrides: Sequence[str] = ()) -> ExperimentConfig:
    """The saved config of a run, with optional overrides (e.g. a larger ``budget.trials``)."""
    path = Path(run_dir) / "config.yaml"
    if not path.is_file() or not (Path(run_dir) / "trials.sqlite").is_file():
        raise FileNotFoundError(f"{str(run_dir)!r} is not a search run directory (no config.yaml "
                                "and trials.sqlite)")
    return from_dict(apply_overrides(read_yaml(path), overrides))


def resolve_paths(config: ExperimentConfig) -> ExperimentConfig:
    """Relative data and table paths made absolute, so ``--resume`` works from any directory."""
    from nas.data.cifar import CIFAR
    data, tab = config.data, config.evaluation.tabular
    if data.dataset in CIFAR:  # a torchvision dataset name; its files live under root
        data = replace(data, root=str(Path(data.root).expanduser().resolve()))
    elif Path(data.dataset).expanduser().exists():
        data = replace(data, dataset=str(Path(data.dataset).expanduser().resolve()))
    if Path(tab.table).expanduser().is_file():
        tab = replace(tab, table=str(Path(tab.table).expanduser().resolve()))
    return replace(config, data=data, evaluation=replace(config.evaluation, tabular=tab))


def search(config: ExperimentConfig, run_dir: str | Path | None = None, resume: bool = False,
           progress: Progress | None = None, allow_code: bool = False) -> SearchSummary:
    """Run (or, with ``resume``, continue) a search; returns when the budget is spent. Ctrl-C
    raises ``Interrupted`` (a KeyboardInterrupt) once the run is left consistent. ``allow_code``
    lets the config name custom code by import path (``--allow-code``)."""
    start = time.perf_counter()
    config = resolve_paths(config)
    execution = resolve_device(config)  # before anything exists: a GPU-sized file on a CPU machine
    named = run_dir is not None
    run_dir = Path(run_dir).resolve() if resume else choose_run_dir(config, run_dir)
    plan = make_plan(config, run_dir, allow_code)  # every name and option checked before anything is written
    run_dir.mkdir(parents=True, exist_ok=True)
    with RunLock(run_dir) as lock:
        if lock.note:
            _note(lock.note)
        if resume:
            check_records(run_dir)  # before config.yaml or anything else is rewritten
        elif (run_dir / "trials.sqlite").exists():  # a driver that held the lock just before us
            raise ValueError(f"run directory {str(run_dir)!r} already holds a search; continue it "
                             "with --resume or choose another directory")
        elif not named:
            link_latest(run_dir)  # only for runs under <output>/: never beside a user's folder
        return _run(config, execution, plan, run_dir, resume, progress or Progress(), start)


def _run(config: ExperimentConfig, execution: ExperimentConfig, plan: Plan, run_dir: Path,
         resume: bool, progress: Progress, start: float) -> SearchSummary:
    (run_dir / "config.yaml").write_text(dump_config(config))
    env = environment()
    sessions_file = run_dir / "environment.json"
    sessions = json.loads(sessions_file.read_text()) if resume and sessions_file.exists() else []
    write_json(sessions_file, sessions + [env])
    with RunStore(run_dir / "trials.sqlite") as store:
        store.set_meta("config", to_dict(config))
        def backend(driver: Driver, plan: Plan) -> None:
            if config.execution.backend == "local":
                from nas.search.local import run_local
                run_local(driver, plan.job, plan.trial_seed)
            else:
                from nas.search.ray_backend import run_ray
                run_ray(driver, plan, execution, run_dir, session=len(sessions) + 1)

        try:
            if config.evaluation.kind == "ladder":
                from nas.search.ladder import run_ladder
                driver = run_ladder(config, plan, store, run_dir, progress, backend)
            else:
                driver = Driver(plan.space, plan.strategy, store, run_dir, config.budget.trials,
                                config.budget.time_s, progress, cpu_s=config.budget.cpu_s)
                backend(driver, plan)
        except KeyboardInterrupt:
            progress.close()
            raise Interrupted(run_dir, store.counts(), config.budget.trials) from None
        driver.finish()
        counts = store.counts()
        best = driver.best(1)
        progress.close(f"run directory: {run_dir}")
        return SearchSummary(run_dir, counts, best[0].spec if best else None,
                             best[0].reward if best else None, tuple(driver.proposed),
                             time.perf_counter() - start)
