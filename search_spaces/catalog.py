"""Resolve what a user types (a named architecture, a spec string, a JSON file) into a spec, and
find the space that handles a spec.

Every space module listed in ``SPACE_MODULES`` exports:
  ``NAMED``: a mapping from lower-case architecture names to specs (the papers' architectures);
  ``parse(text) -> spec | None``: None when ``text`` is not in that space's string form, a
      ValueError naming the bad token when it is but is malformed;
  ``parse_dict(data) -> spec | None``: the same for the JSON form;
  ``space_for(spec) -> SearchSpace | None``: a space able to cost/build/draw ``spec``, or None
      when ``spec`` belongs to another space.
"""
from __future__ import annotations

import importlib
import json
from pathlib import Path
from types import ModuleType
from typing import Any

from search_spaces.base import SearchSpace

SPACE_MODULES = ("search_spaces.cell_space", "search_spaces.block_space", "search_spaces.nasbench201")


def _modules() -> list[ModuleType]:
    return [importlib.import_module(name) for name in SPACE_MODULES]


def named() -> dict[str, Any]:
    """All named architectures across spaces."""
    out: dict[str, Any] = {}
    for module in _modules():
        out.update(module.NAMED)
    return out


def resolve(text: str) -> Any:
    """A spec from a name, a JSON file path, or a spec string; one clear ValueError otherwise."""
    text = text.strip()
    archs = named()
    if text.lower() in archs:
        return archs[text.lower()]
    path = Path(text)
    if text.endswith(".json") or _is_file(path):
        if not path.is_file():
            raise ValueError(f"spec file {text!r} does not exist")
        data = json.loads(path.read_text())
        data = data.get("spec", data) if isinstance(data, dict) else data
        for module in _modules():
            spec = module.parse_dict(data)
            if spec is not None:
                return spec
        raise ValueError(f"{text}: JSON is not a spec of any space ({', '.join(SPACE_MODULES)})")
    for module in _modules():
        spec = module.parse(text)
        if spec is not None:
            return spec
    raise ValueError(f"{text!r} is neither a named architecture ({', '.join(sorted(archs))}), "
                     "a JSON file, nor a spec string of any space")


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:  # a long spec string is not a valid file name on most systems
        return False


def space_for(spec: Any) -> SearchSpace:
    for module in _modules():
        space = module.space_for(spec)
        if space is not None:
            return space
    raise TypeError(f"no search space handles specs of type {type(spec).__name__}")
