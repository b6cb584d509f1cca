"""The search loop: strategies behind a Ray Tune searcher, the trainable, the run store, the
driver's bookkeeping, progress, and a ``local`` in-process backend for debugging.

The package names resolve lazily, so reading a run (``nas.search.store``) never imports Ray."""
from __future__ import annotations

from typing import Any

__all__ = ["SearchSummary", "resume_config", "search"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from nas.search import runner
        return getattr(runner, name)
    raise AttributeError(f"module 'nas.search' has no attribute {name!r}")
