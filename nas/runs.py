"""The one reader of a run directory (shared/DESIGN.md, "The run directory").

A search run's truth is its store (``trials.sqlite``, ``nas.search.store.RunStore``): ``best.json``
is derived from it and may lag after a kill, so every verb (``inspect``, ``scale``, ``export``,
``report``) ranks through ``top`` here, which is the store's top-k by the search's own objective
(MnasNet's shaped reward, feasibility first under a latency target, the Pareto front; plain reward
when the search had only that), with repeats of one architecture folded into their best trial.
A ``nas train`` output directory (``config.json``) stands for the spec it trained.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

STORE = "trials.sqlite"


def is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:  # a long spec string is no path the OS accepts
        return False


def is_search_run(path: str | Path) -> bool:
    return is_dir(Path(path)) and (Path(path) / STORE).is_file()


def is_train_run(path: str | Path) -> bool:
    return is_dir(Path(path)) and (Path(path) / "config.json").is_file() and not is_search_run(path)


def objective(run_dir: str | Path) -> Any:
    """The run's own ranking objective (``nas.latency.Objective``: the MnasNet shaped reward,
    feasibility first under a latency target, the Pareto front, or the reward), from the config
    its store holds (``config.yaml`` for stores written before the config was kept there)."""
    import yaml

    from nas.latency.ranking import objective_from_config
    from nas.search.store import RunStore

    run_dir = Path(run_dir)
    with RunStore(run_dir / STORE) as store:
        config = store.meta("config")
    if config is None and (run_dir / "config.yaml").is_file():
        config = yaml.safe_load((run_dir / "config.yaml").read_text())
    return objective_from_config(config if isinstance(config, dict) else {})


def top(run_dir: str | Path, k: int = 10) -> list:
    """Up to ``k`` finished, scored trials (``TrialRecord``), best first by the search's own
    objective (``objective``), one per architecture."""
    from nas.search.store import RunStore

    run_dir = Path(run_dir)
    if not is_search_run(run_dir):
        raise ValueError(f"{str(run_dir)!r} is not a search run directory (no {STORE} in it)")
    rank = objective(run_dir)
    with RunStore(run_dir / STORE) as store:
        return store.top(k, distinct=True, objective=rank)


def top_specs(run_dir: str | Path, k: int = 1) -> list[tuple[str, Any]]:
    """Up to ``k`` (title, spec) pairs of a search run, best first; ValueError when none finished."""
    from search_spaces import catalog

    records = top(run_dir, k)
    if not records:
        raise ValueError(f"run directory {str(run_dir)!r}: no finished trial yet, so no best spec")
    name = Path(run_dir).resolve().name
    return [(f"{name} rank {rank}, reward {r.reward:.4g}" + _latency_note(r), catalog.resolve(r.spec))
            for rank, r in enumerate(records, start=1)]


def _latency_note(record: Any) -> str:
    ms = record.metrics.get("latency_ms")
    if not isinstance(ms, (int, float)):
        return ""
    return f", {ms:.3g} ms ({record.metrics.get('latency_tier', 'measured')})"


def trained_spec(run_dir: str | Path) -> tuple[Any, dict]:
    """(spec, saved config) of a ``nas train`` output directory."""
    from search_spaces import catalog

    path = Path(run_dir) / "config.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: expected a `nas train` output directory")
    try:
        saved = json.loads(path.read_text())
        spec = saved["spec"]
    except (json.JSONDecodeError, KeyError, TypeError) as err:
        raise ValueError(f"{path}: not a `nas train` config ({err})") from None
    return catalog.resolve(spec), saved


def trials_frame(run_dir: str | Path, *, distinct: bool = False):
    """A search run's trials as a pandas DataFrame (``nas.runs_export.trials_frame``)."""
    from nas.runs_export import trials_frame as frame
    return frame(run_dir, distinct=distinct)


def epochs_frame(run_dir: str | Path):
    """Every trial's per-epoch metrics as a pandas DataFrame (``nas.runs_export.epochs_frame``)."""
    from nas.runs_export import epochs_frame as frame
    return frame(run_dir)


def export_trials_csv(run_dir: str | Path, path: str | Path, *, distinct: bool = False) -> Path:
    """Write a search run's trials as CSV; returns the path."""
    from nas.runs_export import export_trials_csv as export
    return export(run_dir, path, distinct=distinct)
