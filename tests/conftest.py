"""Shared fixtures: where the real data lives.

CI clones the repository with ``shared/`` beside it (``../shared/data``); developer worktrees may
sit deeper, so the data folder is searched for upwards from the repository root, and
``NAS_SHARED_DATA`` overrides the search.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def find_shared_data() -> Path | None:
    env = os.environ.get("NAS_SHARED_DATA")
    if env:
        return Path(env) if Path(env).is_dir() else None
    for parent in ROOT.parents:
        candidate = parent / "shared" / "data"
        if candidate.is_dir():
            return candidate
    return None


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real-data folder; tests needing it skip with the reason only where it is truly absent."""
    path = find_shared_data()
    if path is None:
        pytest.skip("shared/data not found beside the repository (set NAS_SHARED_DATA)")
    return path
