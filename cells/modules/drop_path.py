"""Drop path / stochastic depth (Huang et al. 2016; NASNet's ScheduledDropPath, Zoph et al. 2018).

Each sample's whole branch is zeroed with probability ``rate * scale`` during training and the
survivors rescaled. ``rate`` is the architecture's setting (EfficientNet's per-block rate, a
cell's drop_path_prob); ``scale`` in [0, 1] is the trainer's schedule (NASNet ramps it linearly
over training), set through ``set_drop_path_scale`` so the trainer need not know the model.
"""
from __future__ import annotations

import torch
from torch import nn


class DropPath(nn.Module):
    def __init__(self, rate: float = 0.0):
        super().__init__()
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"drop path rate must be in [0, 1), got {rate!r}")
        self.rate = rate
        self.scale = 1.0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        p = self.rate * self.scale
        if not self.training or p == 0.0:
            return x
        keep = 1.0 - p
        mask = x.new_empty((x.shape[0],) + (1,) * (x.dim() - 1)).bernoulli_(keep)
        return x * mask / keep

    def extra_repr(self) -> str:
        return f"rate={self.rate}"


def set_drop_path_scale(model: nn.Module, scale: float) -> int:
    """Set the schedule factor of every DropPath in ``model``; returns how many were found."""
    found = 0
    for m in model.modules():
        if isinstance(m, DropPath):
            m.scale = float(scale)
            found += 1
    return found
