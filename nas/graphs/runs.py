"""The best specs of a search run directory, for ``nas inspect RUN_DIR [--top K]``.

A run directory (``nas.search.runner``) holds ``trials.sqlite`` (the run store, read through
``nas.search.store.RunStore``) and ``best.json`` (the top specs with their rewards, best first).
The store is preferred since it ranks every finished trial; ``best.json`` alone is enough too
(e.g. a directory copied without its database).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def _from_store(db: Path) -> list[dict]:
    from nas.search.store import RunStore

    with RunStore(db) as store:
        scored = [r for r in store.trials(["done", "stopped"]) if r.reward is not None]
    scored.sort(key=lambda r: (-r.reward, r.seq))  # the driver's own ranking
    return [{"spec": r.spec, "reward": r.reward, "candidate_id": r.candidate_id} for r in scored]


def _from_best_json(path: Path) -> list[dict]:
    data = json.loads(path.read_text())
    if isinstance(data, dict):
        data = data.get("specs", [data])
    records = [r if isinstance(r, dict) else {"spec": r} for r in data]
    return [r for r in records if r.get("spec")]


def records(run_dir: Path) -> list[dict]:
    """Finished, scored trials of the run, best first."""
    db, best = run_dir / "trials.sqlite", run_dir / "best.json"
    if db.is_file():
        try:
            return _from_store(db)
        except ImportError:  # the engine without its search extra: fall back to best.json
            pass
    if best.is_file():
        return _from_best_json(best)
    raise ValueError(f"{run_dir} is not a run directory (no trials.sqlite or best.json in it)")


def top_specs(run_dir: Path, k: int) -> list[tuple[str, Any]]:
    """Up to ``k`` (title, spec) pairs, best first; ValueError when no trial has finished."""
    from search_spaces import catalog

    recs = records(run_dir)
    if not recs:
        raise ValueError(f"run directory {run_dir}: no finished trial yet, so no best spec to inspect")
    out = []
    for rank, rec in enumerate(recs[:k], start=1):
        spec = rec["spec"]
        spec = catalog.resolve(spec) if isinstance(spec, str) else _from_dict(spec, run_dir)
        reward = f", reward {rec['reward']:.4g}" if isinstance(rec.get("reward"), (int, float)) else ""
        out.append((f"{run_dir.resolve().name} rank {rank}{reward}", spec))
    return out


def _from_dict(data: dict, run_dir: Path) -> Any:
    from search_spaces import catalog

    for module in catalog._modules():
        spec = module.parse_dict(data)
        if spec is not None:
            return spec
    raise ValueError(f"run directory {run_dir}: best.json holds a spec of no known space")
