"""Activation- and Jacobian-based zero-cost proxies on an untrained network:

- NASWOT (Mellor et al. 2021, "Neural Architecture Search without Training", ICML; reference code
  BayesWatch/nas-without-training): log-determinant of the kernel of binary activation codes.
- jacob_cov (Mellor et al., first version of the same paper, as evaluated by Abdelfattah et al.
  2021 "Zero-Cost Proxies for Lightweight NAS"): correlation of the input Jacobians of a batch.
- Zen-score (Lin et al. 2021, "Zen-NAS: A Zero-Shot NAS for High-Performance Image Recognition",
  ICCV; reference code idstcv/ZenNAS): log expected feature change under a small input
  perturbation, plus the log BN scaling factors.
- MeCo (Jiang et al. 2023, "MeCo: Zero-Shot NAS with One Data and Single Forward Pass via Minimum
  Eigenvalue of Correlation", NeurIPS): sum over conv layers of the minimum eigenvalue of the
  channel correlation matrix of one sample's feature map.

All run the network in train mode (BN normalizes with the batch statistics), as the references do.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
from torch import nn

from nas.proxies.common import ACTIVATIONS, Batch, hooks, logits


def naswot(model: nn.Module, batches: Sequence[Batch], *, seed: int) -> float:
    """NASWOT (Mellor et al. 2021): every unit before a ReLU-family activation gives each sample
    a binary code (pre-activation > 0); K[i, j] counts the units where samples i and j agree
    (c c^T + (1 - c)(1 - c)^T, summed over activation layers); the score is log|det K|, averaged
    over the batches. A network whose codes cannot tell samples apart has a singular K (NaN)."""
    acts = [m for m in model.modules() if isinstance(m, ACTIVATIONS)]
    scores = []
    for x, _ in batches:
        kernel = torch.zeros(x.shape[0], x.shape[0], dtype=torch.float64, device=x.device)
        with torch.no_grad(), hooks(acts, pre=_code_counter(kernel)):
            model(x)
        sign, logdet = torch.linalg.slogdet(kernel)
        scores.append(float(logdet) if float(sign) > 0 else math.nan)
    return sum(scores) / len(scores)


def _code_counter(kernel: torch.Tensor) -> Callable:
    """A pre-forward hook adding one activation layer's code agreements into ``kernel``."""

    def count(module: nn.Module, inputs: tuple) -> None:
        flat = inputs[0].detach().reshape(inputs[0].shape[0], -1)
        code = (flat > 0).to(torch.float32 if flat.shape[1] < 2 ** 24 else torch.float64)
        # c c^T + (1-c)(1-c)^T = n - r_i - r_j + 2 (c c^T)_ij with r the row sums: one matmul
        # instead of two. float32 sums of 0/1 products are exact below 2^24 units per layer.
        ones = code.sum(dim=1, dtype=torch.float64)
        agree = (code @ code.T).double()
        kernel.add_(2.0 * agree - ones[:, None] - ones[None, :] + code.shape[1])

    return count


def jacob_cov(model: nn.Module, batches: Sequence[Batch], *, seed: int) -> float:
    """jacob_cov (Mellor et al. 2020 v1; Abdelfattah et al. 2021): J = d(sum of logits)/d(input)
    per sample of the first batch; with eigenvalues v of corrcoef(J) and k = 1e-5, the score is
    -sum(log(v + k) + 1 / (v + k)): highest when the samples' Jacobians are uncorrelated."""
    x = batches[0][0].detach().clone().requires_grad_(True)
    out = logits(model(x))
    out.backward(torch.ones_like(out))
    jac = x.grad.reshape(x.shape[0], -1).double()
    eig = torch.linalg.eigvalsh(torch.corrcoef(jac))
    k = 1e-5
    return float(-(torch.log(eig + k) + 1.0 / (eig + k)).sum())


def _pre_gap_features(model: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """The feature map entering the network's last global pooling (Zen-NAS scores it before GAP)
    and, per BN layer, the batch variance of its input. SE blocks also pool globally, so the
    last pooling called during the forward pass is the head's."""
    pooled: list[torch.Tensor] = []
    variances: list[torch.Tensor] = []

    def pool_input(module: nn.Module, inputs: tuple) -> None:
        pooled.append(inputs[0])

    def bn_input(module: nn.Module, inputs: tuple) -> None:
        z = inputs[0].double()
        dims = [0] + list(range(2, z.dim()))
        variances.append(z.var(dim=dims, unbiased=False))

    pools = [m for m in model.modules() if isinstance(m, (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d))]
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    with hooks(pools, pre=pool_input), hooks(bns, pre=bn_input):
        out = logits(model(x))
    return (pooled[-1] if pooled else out), variances


def zen(model: nn.Module, batches: Sequence[Batch], *, seed: int) -> float:
    """Zen-score (Lin et al. 2021), data-free like the reference: weights re-drawn from N(0, 1)
    (BN at weight 1, bias 0), Gaussian inputs x of the batch's shape and x' = x + 0.01 * eps;
    score = log E|f(x) - f(x')| over the pre-GAP features + sum over BN layers of
    log sqrt(mean channel variance). The reference reads that variance from BN's running
    average after the forward passes; we take the batch variance BN actually divided by, which
    is the paper's definition."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                m.weight.copy_(torch.randn(m.weight.shape, generator=gen).to(m.weight.device))
                if m.bias is not None:
                    m.bias.zero_()
            elif isinstance(m, nn.modules.batchnorm._BatchNorm) and m.affine:
                m.weight.fill_(1.0)
                m.bias.zero_()
        shape, device = tuple(batches[0][0].shape), batches[0][0].device
        x = torch.randn(shape, generator=gen).to(device)  # drawn on the CPU: the same on every device
        mixed = x + 0.01 * torch.randn(shape, generator=gen).to(device)
        feat, variances = _pre_gap_features(model, x)
        feat_mixed, _ = _pre_gap_features(model, mixed)
        diff = (feat - feat_mixed).abs().double()
        expected = diff.reshape(diff.shape[0], -1).sum(dim=1).mean()
        log_bn = sum(0.5 * math.log(float(v.mean())) for v in variances if float(v.mean()) > 0)
    return math.log(float(expected)) + log_bn if float(expected) > 0 else math.nan


def meco(model: nn.Module, batches: Sequence[Batch], *, seed: int) -> float:
    """MeCo (Jiang et al. 2023): one forward pass of the first batch; for every conv layer, the
    channels x positions feature map of the batch's first sample gives a channel correlation
    matrix (NaN entries of constant channels set to 0, as in the reference) whose minimum
    eigenvalue is added to the score."""
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    total: list[float] = []

    def min_eig(module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
        fea = output[0].detach().reshape(output.shape[1], -1).double()
        if fea.shape[1] < 2:  # a 1x1 map has no correlation; the reference's NaN -> 0 gives 0 here too
            total.append(0.0)
            return
        corr = torch.nan_to_num(torch.corrcoef(fea), nan=0.0, posinf=0.0, neginf=0.0)
        total.append(float(torch.linalg.eigvalsh(corr.reshape(fea.shape[0], fea.shape[0]))[0]))

    with torch.no_grad(), hooks(convs, forward=min_eig):
        model(batches[0][0])
    return sum(total) if total else math.nan
