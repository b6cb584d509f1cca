"""Gradient-based zero-cost proxies on an untrained network, as compared by Abdelfattah et al. 2021
("Zero-Cost Proxies for Lightweight NAS", ICLR; reference code SamsungLabs/zero-cost-nas):
grad_norm, SNIP (Lee et al. 2019), GraSP (Wang et al. 2020), fisher (Turner et al. 2020) and
synflow (Tanaka et al. 2020). Each scores the conv and linear weights and sums over layers, as
the reference does; the loss is cross-entropy summed over the caller's batches (the reference's
``split_data``). Every function receives a private copy of the network and may change it freely.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
from torch import nn

from nas.proxies.common import Batch, accumulate_grads, batch_loss, hooks, logits, strip_batchnorm, weight_layers


def grad_norm(model: nn.Module, batches: Sequence[Batch], *, seed: int) -> float:
    """Abdelfattah et al. 2021: sum over conv/linear layers of the L2 norm of the loss gradient."""
    accumulate_grads(model, batches)
    return float(sum(m.weight.grad.norm() for m in weight_layers(model) if m.weight.grad is not None))


def snip(model: nn.Module, batches: Sequence[Batch], *, seed: int) -> float:
    """SNIP (Lee et al. 2019, "SNIP: Single-shot Network Pruning based on Connection Sensitivity"),
    as a network score in Abdelfattah et al. 2021: sum of |w * dL/dw| (the gradient of the loss
    with respect to a multiplicative weight mask at 1 is exactly w * dL/dw)."""
    accumulate_grads(model, batches)
    with torch.no_grad():
        return float(sum((m.weight * m.weight.grad).abs().sum() for m in weight_layers(model)
                         if m.weight.grad is not None))


def grasp(model: nn.Module, batches: Sequence[Batch], *, seed: int) -> float:
    """GraSP (Wang et al. 2020, "Picking Winning Tickets Before Training by Preserving Gradient
    Flow"), as a network score in Abdelfattah et al. 2021: sum of -w * (H g), with g the loss
    gradient and H g the Hessian-gradient product from a double backward pass."""
    layers = weight_layers(model)
    weights = [m.weight for m in layers]
    model.zero_grad(set_to_none=True)
    grad = [torch.zeros_like(w) for w in weights]
    for batch in batches:
        parts = torch.autograd.grad(batch_loss(model, batch), weights, allow_unused=True)
        grad = [g if p is None else g + p.detach() for g, p in zip(grad, parts)]
    for batch in batches:
        parts = torch.autograd.grad(batch_loss(model, batch), weights, create_graph=True, allow_unused=True)
        z = sum((g * p).sum() for g, p in zip(grad, parts) if p is not None)
        if torch.is_tensor(z) and z.requires_grad:  # no weight on the loss path: H g is zero
            z.backward()
    with torch.no_grad():
        return float(sum((-w * w.grad).sum() for w in weights if w.grad is not None))


def fisher(model: nn.Module, batches: Sequence[Batch], *, seed: int) -> float:
    """Fisher (Turner et al. 2020, "BlockSwap: Fisher-guided Block Substitution for Network
    Compression on a Budget"), as a network score in Abdelfattah et al. 2021: per output channel of
    every conv/linear layer, 0.5 * mean over samples of (sum over positions of activation *
    dL/dactivation)^2, summed over channels, layers and batches."""
    layers = weight_layers(model)
    total = torch.zeros((), dtype=torch.float64, device=batches[0][0].device)
    for batch in batches:
        captured: list[tuple[torch.Tensor, list[torch.Tensor]]] = []
        with hooks(layers, forward=_activation_keeper(captured)):
            model.zero_grad(set_to_none=True)
            batch_loss(model, batch).backward()
        for act, slot in captured:
            if not slot:
                continue  # unused layer (e.g. an auxiliary head in a network returning logits only)
            prod = (act * slot[0]).double()
            per_channel = prod.sum(dim=tuple(range(2, prod.dim()))) if prod.dim() > 2 else prod
            total += 0.5 * per_channel.pow(2).mean(dim=0).sum()
    return float(total)


def _activation_keeper(captured: list) -> Callable:
    """A forward hook storing each layer's output and, once backward runs, its gradient."""

    def keep(module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
        if not output.requires_grad:
            return
        slot: list[torch.Tensor] = []
        # clone: a following in-place ReLU would otherwise rewrite the stored activation; the
        # tensor hook still receives the gradient of the value before that in-place op.
        captured.append((output.detach().clone(), slot))
        output.register_hook(slot.append)

    return keep


def synflow(model: nn.Module, batches: Sequence[Batch], *, seed: int) -> float:
    """Synflow (Tanaka et al. 2020, "Pruning neural networks without any data by iteratively
    conserving synaptic flow"), as a network score in Abdelfattah et al. 2021: with BN removed and
    every parameter replaced by its absolute value, R = sum of the network's output on an all-ones
    input; the score is sum of |w * dR/dw| over conv/linear weights. Float64, as in the reference,
    because the BN-free product grows with depth. Returned as the natural log of that sum (same
    ranking; the raw value reaches 1e40 on NAS-Bench-201)."""
    model = strip_batchnorm(model).double().eval()  # eval: dropout / drop path would make it random
    with torch.no_grad():
        for p in model.parameters():
            p.abs_()
    shape = (1,) + tuple(batches[0][0].shape[1:])
    model.zero_grad(set_to_none=True)
    out = logits(model(torch.ones(shape, dtype=torch.float64, device=batches[0][0].device)))
    out.sum().backward()
    with torch.no_grad():
        value = sum(float((m.weight * m.weight.grad).abs().sum()) for m in weight_layers(model)
                    if m.weight.grad is not None)
    return math.log(value) if value > 0 else math.nan
