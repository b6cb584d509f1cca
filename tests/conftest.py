"""Shared fixtures: where the real data lives.

CI clones the repository with ``shared/`` beside it (``../shared/data``); developer worktrees may
sit deeper, so the data folder is searched for upwards from the repository root, and
``NAS_SHARED_DATA`` overrides the search.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

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


@pytest.fixture(autouse=True)
def _restore_torch_threads():
    """Tests may pin torch's intra-op threads (see ``one_thread``); never let that leak."""
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


@pytest.fixture
def one_thread():
    """One intra-op thread: tiny tensors gain nothing from more on a shared 2-core machine (they
    lose ~4x to synchronisation), and CPU training results are then bitwise reproducible."""
    torch.set_num_threads(1)
    yield


@pytest.fixture(scope="session")
def tiny_imagenet(shared_data, tmp_path_factory):
    """200 real Tiny-ImageNet images (10 classes) at 16x16: 160 train, 40 validation, decoded once
    per session for the trainer and evaluation tests."""
    from nas.data import DataConfig, load_proxy_data

    cfg = DataConfig(dataset=str(shared_data / "tiny-imagenet-10cls.tar.gz"), per_class=20, resolution=16,
                     val_fraction=0.2, cache_dir=str(tmp_path_factory.mktemp("cache")))
    return load_proxy_data(cfg)
