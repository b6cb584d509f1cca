"""What ``nas scale`` / ``nas export`` / ``nas eval`` accept as an architecture: a named
architecture, a spec string (``cell:``, ``blocks:``, ``compound:`` ...), a JSON spec file, or a
run directory meaning its best spec (a search run's ``best.json``, or its trials table when the
file is missing) or its trained spec (a ``nas train`` directory's ``config.json``)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def best_of_run(run_dir: Path) -> str:
    """The spec string of a search run's best trial."""
    best = run_dir / "best.json"
    if best.is_file():
        rows = json.loads(best.read_text())
        if rows:
            return rows[0]["spec"]
    elif (run_dir / "trials.sqlite").is_file():
        from nas.search.store import RunStore
        with RunStore(run_dir / "trials.sqlite") as store:
            scored = [r for r in store.trials(["done", "stopped"]) if r.reward is not None]
        if scored:
            return max(scored, key=lambda r: (r.reward, -r.seq)).spec
    raise ValueError(f"run directory {str(run_dir)!r} has no finished trial to take a best spec from")


def spec_text(text: str) -> str:
    """A run directory replaced by the spec string it stands for; anything else unchanged."""
    path = Path(text).expanduser()
    try:
        is_dir = path.is_dir()
    except OSError:  # a long spec string is no path
        is_dir = False
    if not is_dir:
        return text
    if (path / "best.json").is_file() or (path / "trials.sqlite").is_file():
        return best_of_run(path)
    if (path / "config.json").is_file():
        return json.loads((path / "config.json").read_text())["spec"]
    raise ValueError(f"{text!r} is a directory but neither a search run (best.json, trials.sqlite) nor a "
                     "`nas train` output (config.json)")


def resolve_any(text: str) -> Any:
    """A spec (``ScaledSpec`` for a ``compound:`` string or a compound run's best)."""
    from search_spaces.compound.space import PREFIX, ScaledSpec
    from search_spaces.catalog import resolve

    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"expected a named architecture, spec string, JSON file or run directory, got {text!r}")
    text = spec_text(text.strip())
    if text.startswith(PREFIX):
        return ScaledSpec.from_str(text)
    if text.endswith(".json") and Path(text).is_file():
        data = json.loads(Path(text).read_text())
        data = data.get("spec", data) if isinstance(data, dict) else data
        if isinstance(data, dict) and data.get("space") == "compound":
            return ScaledSpec.from_dict(data)
    return resolve(text)


def network_of(spec: Any) -> Any:
    """The concrete network spec (a ``ScaledSpec``'s scaled network)."""
    from search_spaces.compound.space import ScaledSpec
    return spec.network if isinstance(spec, ScaledSpec) else spec
