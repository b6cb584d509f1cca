"""The search driver loop: plan, open the run directory, run trials on Ray Tune (or locally),
record everything, and leave a directory that ``nas report`` and ``--resume`` can read.

Layout of a run directory::

    config.yaml        the resolved experiment config (what ``--resume`` reloads)
    environment.json   package versions, git revision, host, command line
    trials.sqlite      the trials table + the strategy checkpoint (driver-written only)
    strategy.json      the strategy's state after the latest tell (human-readable mirror)
    best.json          the top specs so far with their metrics
    ray/               Ray Tune's own experiment folders (one per session)
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

import yaml

from nas.config import ExperimentConfig, build, dump_config, apply_overrides, to_dict
from nas.search.driver import Driver, write_json
from nas.search.plan import make_plan
from nas.search.progress import Progress
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


def choose_run_dir(config: ExperimentConfig, run_dir: str | Path | None) -> Path:
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
    return run_dir


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
    return build(ExperimentConfig, apply_overrides(yaml.safe_load(path.read_text()), overrides))


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
    """Run (or, with ``resume``, continue) a search; returns when the budget is spent.
    ``allow_code`` lets the config name custom code by import path (``--allow-code``)."""
    start = time.perf_counter()
    config = resolve_paths(config)
    run_dir = Path(run_dir).resolve() if resume else choose_run_dir(config, run_dir)
    plan = make_plan(config, run_dir, allow_code)  # every name and option checked before anything is written
    run_dir.mkdir(parents=True, exist_ok=True)
    if not resume:
        link_latest(run_dir)
    (run_dir / "config.yaml").write_text(dump_config(config))
    env = environment()
    sessions_file = run_dir / "environment.json"
    sessions = json.loads(sessions_file.read_text()) if resume and sessions_file.exists() else []
    write_json(sessions_file, sessions + [env])
    progress = progress or Progress()
    with RunStore(run_dir / "trials.sqlite") as store:
        store.set_meta("config", to_dict(config))
        driver = Driver(plan.space, plan.strategy, store, run_dir, config.budget.trials,
                        config.budget.time_s, progress)
        if config.execution.backend == "local":
            from nas.search.local import run_local
            run_local(driver, plan.job, plan.trial_seed)
        else:
            from nas.search.ray_backend import run_ray
            run_ray(driver, plan, config, run_dir, session=len(sessions) + 1)
        counts = store.counts()
        best = driver.best(1)
        progress.close(f"run directory: {run_dir}")
        return SearchSummary(run_dir, counts, best[0].spec if best else None,
                             best[0].reward if best else None, tuple(driver.proposed),
                             time.perf_counter() - start)
