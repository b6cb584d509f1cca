"""Proxy and full training of built specs: the recipe (``TrainConfig``), the loop (``train``),
per-epoch checkpoints that resume exactly. The recipe imports without torch; the loop and the
checkpoints resolve on first use."""
from __future__ import annotations

from typing import Any

from nas.train.config import TrainConfig, lr_at

_LAZY = {"Checkpointer": "nas.train.checkpoint", "TrainResult": "nas.train.trainer",
         "evaluate_model": "nas.train.trainer", "resolve_device": "nas.train.trainer", "train": "nas.train.trainer"}

__all__ = ["TrainConfig", "lr_at", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'nas.train' has no attribute {name!r}")
