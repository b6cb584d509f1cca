"""Helpers shared by the zero-cost proxies: which layers they read, the logits of any network,
the loss over the caller's batches, BN removal, and hooks that always come off again."""
from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence

import torch
import torch.nn.functional as F
from torch import nn

Batch = tuple[torch.Tensor, torch.Tensor]
# Activations whose input sign defines a NASWOT "code": ReLU is the paper's choice; the others
# are how the block space's MBConv stages (SiLU, hard-swish) gate their units.
ACTIVATIONS = (nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.SiLU, nn.Hardswish, nn.GELU, nn.ELU)


def logits(output: torch.Tensor | Sequence[torch.Tensor]) -> torch.Tensor:
    """Cell networks built with an auxiliary head return ``(logits, aux)`` in train mode."""
    return output[0] if isinstance(output, (tuple, list)) else output


def weight_layers(model: nn.Module) -> list[nn.Module]:
    """Conv and linear layers: the layers whose weights the 2021 proxies score (Abdelfattah et al.)."""
    return [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear)) and m.weight.requires_grad]


def batch_loss(model: nn.Module, batch: Batch) -> torch.Tensor:
    x, y = batch
    return F.cross_entropy(logits(model(x)), y)


def accumulate_grads(model: nn.Module, batches: Sequence[Batch]) -> None:
    """Sum of per-batch mean-loss gradients into ``.grad`` (the reference code's ``split_data``)."""
    model.zero_grad(set_to_none=True)
    for batch in batches:
        batch_loss(model, batch).backward()


def strip_batchnorm(model: nn.Module) -> nn.Module:
    """Replace every BN layer by identity, in place (synflow is defined on the BN-free network)."""
    for name, child in list(model.named_children()):
        if isinstance(child, nn.modules.batchnorm._BatchNorm):
            setattr(model, name, nn.Identity())
        else:
            strip_batchnorm(child)
    return model


@contextlib.contextmanager
def hooks(modules: Sequence[nn.Module], forward: Callable | None = None,
          pre: Callable | None = None) -> Iterator[None]:
    """Register forward (and/or pre-forward) hooks on ``modules``; removed on exit, even on error."""
    handles = []
    try:
        for module in modules:
            if forward is not None:
                handles.append(module.register_forward_hook(forward))
            if pre is not None:
                handles.append(module.register_forward_pre_hook(pre))
        yield
    finally:
        for handle in handles:
            handle.remove()
