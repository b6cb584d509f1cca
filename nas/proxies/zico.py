"""ZiCo (Li et al. 2023, "ZiCo: Zero-shot NAS via Inverse Coefficient of Variation on Gradients",
ICLR; reference code SLDGroup/ZiCo).

For every conv/linear layer, the loss gradients of each weight over S mini-batches give a mean
absolute value and a standard deviation across batches; the layer contributes
log(sum over weights with nonzero std of mean|g| / std(g)), and the score sums the layers. High
when gradients are large and consistent from batch to batch.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from nas.proxies.common import Batch, batch_loss, weight_layers


def _splits(batches: Sequence[Batch]) -> list[Batch]:
    """ZiCo needs gradients of at least two mini-batches; a single batch is halved (the
    reference splits its one input batch the same way)."""
    if len(batches) >= 2:
        return list(batches)
    x, y = batches[0]
    half = x.shape[0] // 2
    return [(x[:half], y[:half]), (x[half:], y[half:])]


def zico(model: nn.Module, batches: Sequence[Batch], *, seed: int) -> float:
    """ZiCo (Li et al. 2023): sum over layers of log(sum(mean|g| / std(g))) across mini-batches.
    NaN when no layer receives a gradient that varies (e.g. every cell op is zero)."""
    layers = weight_layers(model)
    grads: list[list[torch.Tensor]] = [[] for _ in layers]
    for batch in _splits(batches):
        model.zero_grad(set_to_none=True)
        batch_loss(model, batch).backward()
        for store, m in zip(grads, layers):
            if m.weight.grad is not None:
                store.append(m.weight.grad.detach().reshape(-1).double().clone())
    score, used = 0.0, 0
    for store in grads:
        if len(store) < 2:
            continue
        g = torch.stack(store)
        std = g.std(dim=0, unbiased=False)  # population std, as numpy's default in the reference
        keep = std > 0
        ratio = float((g.abs().mean(dim=0)[keep] / std[keep]).sum())
        if ratio > 0:
            score += math.log(ratio)
            used += 1
    return score if used else math.nan
