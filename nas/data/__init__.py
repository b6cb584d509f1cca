"""Datasets for proxy and full training: CIFAR through torchvision, ImageNet-style folder sets
(directories or archives), decoded once into cached uint8 tensors and augmented in batches on
the device that trains. The configs (``DataConfig``, ``Augment``) import without torch; the
loaders and tensors resolve on first use."""
from __future__ import annotations

from typing import Any

from nas.data.augment import Augment
from nas.data.config import DataConfig

_LAZY = {"load_proxy_data": "nas.data.datasets", "load_split": "nas.data.datasets",
         "ImageTensors": "nas.data.tensors", "ProxyData": "nas.data.tensors",
         "channel_stats": "nas.data.tensors", "stratified_split": "nas.data.tensors"}

__all__ = ["Augment", "DataConfig", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'nas.data' has no attribute {name!r}")
