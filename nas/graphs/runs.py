"""Read the best specs of a search run directory for ``nas inspect RUN_DIR [--top K]``.

Provisional reader until the run store (``nas.search.store``) lands: a run directory holding
``best.json`` -- either ``{"spec": "..."}``, ``{"specs": [...]}`` or a list of
``{"spec": ..., "reward": ...}`` records, best first.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def top_specs(run_dir: Path, k: int) -> list[tuple[str, Any]]:
    """Up to ``k`` (title, spec) pairs, best first; ValueError when no trial has finished."""
    from search_spaces import catalog

    best = run_dir / "best.json"
    if not best.is_file():
        raise ValueError(f"run directory {run_dir}: no finished trial yet (no best.json)")
    data = json.loads(best.read_text())
    if isinstance(data, dict):
        data = data.get("specs", [data])
    records = [r if isinstance(r, dict) else {"spec": r} for r in data]
    records = [r for r in records if r.get("spec")]
    if not records:
        raise ValueError(f"run directory {run_dir}: no finished trial yet (best.json is empty)")
    out = []
    for rank, rec in enumerate(records[:k], start=1):
        spec = rec["spec"]
        spec = catalog.resolve(spec) if isinstance(spec, str) else _from_dict(spec, run_dir)
        reward = f", reward {rec['reward']:.4g}" if isinstance(rec.get("reward"), (int, float)) else ""
        out.append((f"{run_dir.name} rank {rank}{reward}", spec))
    return out


def _from_dict(data: dict, run_dir: Path) -> Any:
    from search_spaces import catalog

    for module in catalog._modules():
        spec = module.parse_dict(data)
        if spec is not None:
            return spec
    raise ValueError(f"run directory {run_dir}: best.json holds a spec of no known space")
