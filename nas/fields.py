"""Building frozen config dataclasses from plain dicts with the project's error contract: an
unknown option is named together with the accepted ones, before anything runs."""
from __future__ import annotations

from dataclasses import fields
from typing import Any, TypeVar

T = TypeVar("T")


def from_known_fields(cls: type[T], data: dict[str, Any], what: str) -> T:
    """``cls(**data)``, refusing keys that are not fields of ``cls`` (``what`` names the section)."""
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"unknown {what} option(s) {unknown}; accepted: {sorted(known)}")
    return cls(**data)
