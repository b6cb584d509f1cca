"""The search loop: strategies behind a Ray Tune searcher, the trainable, the run store, the
driver's bookkeeping, progress, and a ``local`` in-process backend for debugging."""
from nas.search.runner import SearchSummary, resume_config, search

__all__ = ["SearchSummary", "resume_config", "search"]
