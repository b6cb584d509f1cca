"""Modules of NFNet's normaliser-free blocks (Brock et al. 2021): the scaled weight-standardised
conv, gamma-scaled activations and the NF bottleneck; costs, checks and entries in ``cells.nfnet``."""
from __future__ import annotations

import torch
from torch import nn

from cells.modules.se import SqueezeExcite
from cells.nfnet import GAMMA, check_eps, check_nf_act, check_nf_block, nf_widths, ws_conv_cost

ATTENTION_GAIN = 2.0  # the sigmoid gate halves the variance on average; NFNet doubles it back
# Not in place: the block's first activation reads the input that the identity shortcut adds back.
_ACTS = {"gelu": nn.GELU, "relu": nn.ReLU, "silu": nn.SiLU, "swish": nn.SiLU, "tanh": nn.Tanh, "none": nn.Identity}
assert set(_ACTS) == set(GAMMA)  # the pure checks and the modules name the same set


class GammaAct(nn.Module):
    """``gamma * act(x)``, gamma chosen so a unit Gaussian keeps unit variance (no parameters)."""

    def __init__(self, act: str):
        super().__init__()
        self.act, self.gamma = _ACTS[check_nf_act("activation", act)](), GAMMA[act]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(x) * self.gamma


class WSConv2d(nn.Conv2d):
    """Conv2d (bias) whose weight is standardised over its fan-in, scaled by 1/sqrt(fan-in) and a
    learnable per-channel ``gain``: signal variance is preserved without batch statistics."""

    def __init__(self, in_chs: int, out_chs: int, kernel: int = 3, stride: int = 1, *, groups: int = 1,
                 eps: float = 1e-5):
        super().__init__(in_chs, out_chs, kernel, stride, kernel // 2, groups=groups, bias=True)
        self.gain = nn.Parameter(torch.ones(out_chs, 1, 1, 1))
        self.eps = check_eps("ws_conv", eps)

    def standardized_weight(self) -> torch.Tensor:
        var, mean = torch.var_mean(self.weight, dim=(1, 2, 3), keepdim=True, unbiased=False)
        fan_in = self.weight[0].numel()
        return (self.weight - mean) * torch.rsqrt(var * fan_in + self.eps * fan_in) * self.gain

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._conv_forward(x, self.standardized_weight(), self.bias)


def ws_conv(in_chs: int, out_chs: int, stride: int, *, kernel: int = 3, groups: int = 1, act: str = "gelu",
            eps: float = 1e-5) -> nn.Module:
    ws_conv_cost(in_chs, out_chs, stride, 8, 8, kernel=kernel, groups=groups, act=act, eps=eps)
    return nn.Sequential(WSConv2d(in_chs, out_chs, kernel, stride, groups=groups, eps=eps), GammaAct(act))


class NFBlock(nn.Module):
    """``shortcut + alpha * skip_gain * branch(act(x) / beta)``; the projection shortcut reads the
    scaled pre-activation, the identity one the raw input."""

    def __init__(self, in_chs: int, out_chs: int, stride: int, *, expected_var: float, alpha: float,
                 bottle_ratio: float, group_width: int, se_ratio: float, act: str, extra_conv: bool,
                 skipinit: bool, eps: float):
        super().__init__()
        mid, groups, squeeze = nf_widths(out_chs, bottle_ratio, group_width, se_ratio)
        self.alpha, self.beta = alpha, expected_var ** 0.5
        self.act1 = GammaAct(act)
        self.conv1 = WSConv2d(in_chs, mid, 1, eps=eps)
        self.act2 = GammaAct(act)
        self.conv2 = WSConv2d(mid, mid, 3, stride, groups=groups, eps=eps)
        self.act2b = GammaAct(act) if extra_conv else None
        self.conv2b = WSConv2d(mid, mid, 3, groups=groups, eps=eps) if extra_conv else None
        self.act3 = GammaAct(act)
        self.conv3 = WSConv2d(mid, out_chs, 1, eps=eps)
        self.se = SqueezeExcite(out_chs, squeeze) if se_ratio > 0 else None
        self.skip_gain = nn.Parameter(torch.zeros(())) if skipinit else None
        self.shortcut = None
        if stride != 1 or in_chs != out_chs:
            pool = nn.AvgPool2d(2, stride, ceil_mode=True, count_include_pad=False) if stride != 1 else nn.Identity()
            self.shortcut = nn.Sequential(pool, WSConv2d(in_chs, out_chs, 1, eps=eps))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.act1(x) / self.beta
        shortcut = x if self.shortcut is None else self.shortcut(out)
        out = self.conv2(self.act2(self.conv1(out)))
        if self.conv2b is not None:
            out = self.conv2b(self.act2b(out))
        out = self.conv3(self.act3(out))
        if self.se is not None:
            out = ATTENTION_GAIN * self.se(out)
        if self.skip_gain is not None:
            out = out * self.skip_gain
        return shortcut + self.alpha * out


def nf_block(in_chs: int, out_chs: int, stride: int, *, expected_var: float = 1.0, alpha: float = 0.2,
             bottle_ratio: float = 0.5, group_width: int = 128, se_ratio: float = 0.5, act: str = "gelu",
             extra_conv: bool = True, skipinit: bool = True, eps: float = 1e-5) -> nn.Module:
    check_nf_block(expected_var, alpha, bottle_ratio, group_width, se_ratio, act, extra_conv, skipinit, eps)
    return NFBlock(in_chs, out_chs, stride, expected_var=expected_var, alpha=alpha, bottle_ratio=bottle_ratio,
                   group_width=group_width, se_ratio=se_ratio, act=act, extra_conv=extra_conv, skipinit=skipinit,
                   eps=eps)
