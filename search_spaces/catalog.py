"""The registry of space packages and the one resolver of what a user types (a named
architecture, a spec string, a JSON file) into a spec.

Every space package listed in ``SPACES`` exports the same names:
  ``NAME`` (its one name: YAML ``space.name``, JSON ``"space"``, this registry's key);
  ``Space`` (the ``SearchSpace`` class a YAML ``space.options`` configures);
  ``NAMED``: lower-case architecture names -> specs (the papers' architectures);
  ``parse(text) -> spec | None``: None when ``text`` is not in that space's string form, a
      ValueError naming the bad token when it is but is malformed;
  ``parse_dict(data) -> spec | None``: the same for the JSON form;
  ``space_for(spec) -> SearchSpace | None``: a space able to cost/build/draw ``spec``, or None
      when ``spec`` belongs to another space.
Nothing here imports torch: packages import it only in their ``build`` module.
"""
from __future__ import annotations

import importlib
import json
from pathlib import Path
from types import ModuleType
from typing import Any

from search_spaces.base import SearchSpace

SPACES = {
    "cell": "search_spaces.cell",
    "blocks": "search_spaces.blocks",
    "nasbench201": "search_spaces.nasbench201",
    "compound": "search_spaces.compound",
    "macro": "search_spaces.macro",
}


def _modules() -> list[ModuleType]:
    return [importlib.import_module(name) for name in SPACES.values()]


def package(name: str) -> ModuleType:
    """The space package registered as ``name``; ValueError listing the names otherwise."""
    if name not in SPACES:
        raise ValueError(f"unknown search space {name!r}; accepted: {', '.join(SPACES)}")
    return importlib.import_module(SPACES[name])


def make_space(name: str, **options: Any) -> SearchSpace:
    """``space.name`` / ``space.options`` of an experiment -> a configured space."""
    return package(name).Space(**options)


def named() -> dict[str, Any]:
    """All named architectures across spaces."""
    out: dict[str, Any] = {}
    for module in _modules():
        out.update(module.NAMED)
    return out


def from_dict(data: Any, where: str = "spec JSON") -> Any:
    """A spec from its JSON form (``{"spec": ...}`` wrappers accepted); ValueError otherwise."""
    data = data.get("spec", data) if isinstance(data, dict) else data
    for module in _modules():
        spec = module.parse_dict(data)
        if spec is not None:
            return spec
    raise ValueError(f"{where}: not a spec of any space (accepted 'space': {', '.join(SPACES)})")


def resolve(text: str) -> Any:
    """A spec from a name, a JSON file path, or a spec string; one clear ValueError otherwise."""
    if not isinstance(text, str):
        raise TypeError(f"expected a name, spec string or JSON file, got {type(text).__name__}")
    text = text.strip()
    archs = named()
    if text.lower() in archs:
        return archs[text.lower()]
    path = Path(text)
    if text.endswith(".json") or _is_file(path):
        if not path.is_file():
            raise ValueError(f"spec file {text!r} does not exist")
        try:
            data = json.loads(path.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            raise ValueError(f"spec file {text!r} is not readable JSON ({err})") from None
        return from_dict(data, f"spec file {text!r}")
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


def is_spec(obj: Any) -> bool:
    try:
        space_for(obj)
    except TypeError:
        return False
    return True


def space_name(spec: Any) -> str:
    """The registry name of the space ``spec`` belongs to."""
    for name, module in zip(SPACES, _modules()):
        if module.space_for(spec) is not None:
            return name
    raise TypeError(f"no search space handles specs of type {type(spec).__name__}")
