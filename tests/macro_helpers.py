"""Test helpers for the macro-space networks: parameter counts, the FLOP counter's MACs of a built
network on the meta device (no memory, no init cost), and BN statistics made non-trivial so an
eval-mode comparison of logits includes them."""
from __future__ import annotations

import torch
from torch.utils.flop_counter import FlopCounterMode

from search_spaces.macro.build import build


def n_params(m: torch.nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


def meta_counts(spec, resolution: int | None = None) -> tuple[int, int, tuple]:
    """(parameters, MACs = FlopCounterMode / 2, output shape) of ``build(spec)`` on one image."""
    side = resolution or spec.resolution
    with torch.device("meta"):
        model = build(spec).eval()
        with FlopCounterMode(display=False) as counter:
            out = model(torch.empty(1, 3, side, side))
    return n_params(model), counter.get_total_flops() // 2, tuple(out.shape)


def randomise_bn(model: torch.nn.Module) -> None:
    """Non-trivial running statistics, so eval-mode BN is part of the comparison."""
    g = torch.Generator().manual_seed(1)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.1)
            m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
