"""Normaliser-free blocks of NFNet (Brock et al. 2021, "High-Performance Large-Scale Image
Recognition Without Normalization", section 4 and Fig. 5/Table 1), built on the scaled weight
standardisation of NF-ResNets (Brock et al. 2021a, "Characterizing signal propagation to close the
performance gap in unnormalized ResNets"). Costs, checks and entries; modules in ``cells.modules.nfnet``.

``ws_conv``: a convolution whose weight is standardised per output channel, divided by
sqrt(fan-in) and multiplied by a learnable ``gain`` (one per output channel, a parameter, as in the
DeepMind code and timm's ``ScaledStdConv2d``), with a bias; then an activation scaled by the
constant gamma that restores unit variance for a unit-Gaussian input (parameter-free).

``nf_block``: the NFNet bottleneck, pre-activation style: ``h + alpha * f(h / beta)`` with
``beta = sqrt(expected_var)`` the analytically tracked input standard deviation. The branch is
act -> 1x1 -> act -> grouped 3x3 (strides) -> act -> grouped 3x3 (NFNet's extra conv) -> act -> 1x1,
then Squeeze-and-Excitation (ratio 0.5, doubled: NF "attention gain" 2) and a scalar "skipinit" gain
initialised at zero (a parameter). The 3x3s use groups of ``group_width`` channels (128 in NFNet);
the inner width is ``out_chs * bottle_ratio`` rounded to 8 (timm's rule, a whole number of groups).
The shortcut is the raw input when the shape is kept; otherwise, from the scaled pre-activation,
a 2x2 average pool (stride 2, ceil mode, padding not counted) at stride 2 and a 1x1 ``ws_conv``.
Convs use symmetric 'same' padding k // 2 (timm's ``nfnet_f0``); the DeepMind weights expect
TensorFlow's SAME padding, which places the stride-2 windows one pixel later but gives the same
sizes, parameters and MACs.
"""
from __future__ import annotations

from cells import counting as C
from cells.checks import check_bool, check_int, check_kernel, check_ratio
from cells.registry import register
from cells.se import se_cost

BROCK = "Brock et al. 2021 (NFNet)"
MODULES = "cells.modules.nfnet"

# Gamma = 1 / std(act(z)) for z ~ N(0, 1): the DeepMind NFNet code's constants.
GAMMA = {"gelu": 1.7015043497085571, "relu": 1.7139588594436646, "silu": 1.7881293296813965,
         "swish": 1.7881293296813965, "tanh": 1.5939117670059204, "none": 1.0}


def check_nf_act(op: str, act: str) -> str:
    if act not in GAMMA:
        raise ValueError(f"{op}: act must be one of {', '.join(GAMMA)} (activations with a known gamma), "
                         f"got {act!r}")
    return act


def check_eps(op: str, eps: float) -> float:
    if isinstance(eps, bool) or not isinstance(eps, (int, float)) or not 0 < eps < 1:
        raise ValueError(f"{op}: eps must be a number in (0, 1), got {eps!r}")
    return float(eps)


def round8(value: float, round_limit: float = 0.9) -> int:
    """timm's ``make_divisible(value, 8)``: nearest multiple of 8, never below ``round_limit * value``."""
    out = max(8, int(value + 4) // 8 * 8)
    return out + 8 if out < round_limit * value else out


def ws_conv_params(in_chs: int, out_chs: int, kernel: int, groups: int = 1) -> int:
    """Weights, bias and the per-channel gain."""
    return out_chs * (in_chs // groups) * kernel * kernel + 2 * out_chs


def ws_conv_cost(in_chs: int, out_chs: int, stride: int, h: int, w: int, *, kernel: int = 3, groups: int = 1,
                 act: str = "gelu", eps: float = 1e-5) -> C.Cost:
    check_kernel("ws_conv", kernel)
    check_int("ws_conv", "groups", groups)
    check_nf_act("ws_conv", act)
    check_eps("ws_conv", eps)
    if in_chs % groups or out_chs % groups:
        raise ValueError(f"ws_conv: groups={groups} must divide in_chs {in_chs} and out_chs {out_chs}")
    c, _, _ = C.conv(in_chs, out_chs, kernel, stride, h, w, groups=groups, bias=True)
    return C.Cost(c.params + out_chs, c.macs)


def nf_widths(out_chs: int, bottle_ratio: float, group_width: int, se_ratio: float) -> tuple[int, int, int]:
    """(inner width, groups of the 3x3s, SE squeeze width). A whole number of ``group_width`` groups,
    as timm corrects it; an inner width below one group is a single group (small test widths)."""
    mid = round8(out_chs * bottle_ratio)
    groups = max(1, mid // group_width)
    if mid >= group_width:
        mid = groups * group_width
    return mid, groups, round8(out_chs * se_ratio, round_limit=0.0)


def check_nf_block(expected_var, alpha, bottle_ratio, group_width, se_ratio, act, extra_conv, skipinit, eps) -> None:
    op = "nf_block"
    for name, value in (("expected_var", expected_var), ("alpha", alpha), ("bottle_ratio", bottle_ratio)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise ValueError(f"{op}: {name} must be a positive number, got {value!r}")
    check_int(op, "group_width", group_width)
    check_ratio(op, "se_ratio", se_ratio)
    check_nf_act(op, act)
    check_bool(op, "extra_conv", extra_conv)
    check_bool(op, "skipinit", skipinit)
    check_eps(op, eps)


def nf_block_cost(in_chs: int, out_chs: int, stride: int, h: int, w: int, *, expected_var: float = 1.0,
                  alpha: float = 0.2, bottle_ratio: float = 0.5, group_width: int = 128, se_ratio: float = 0.5,
                  act: str = "gelu", extra_conv: bool = True, skipinit: bool = True, eps: float = 1e-5) -> C.Cost:
    check_nf_block(expected_var, alpha, bottle_ratio, group_width, se_ratio, act, extra_conv, skipinit, eps)
    mid, groups, squeeze = nf_widths(out_chs, bottle_ratio, group_width, se_ratio)
    ho, wo = -(-h // stride), -(-w // stride)
    grouped = mid * (mid // groups) * 9
    n_3x3 = 2 if extra_conv else 1
    params = (ws_conv_params(in_chs, mid, 1) + n_3x3 * ws_conv_params(mid, mid, 3, groups)
              + ws_conv_params(mid, out_chs, 1) + int(skipinit))
    macs = in_chs * mid * h * w + n_3x3 * grouped * ho * wo + mid * out_chs * ho * wo
    total = C.Cost(params, macs)
    if se_ratio > 0:
        total = total + se_cost(out_chs, squeeze)
    if stride != 1 or in_chs != out_chs:
        total = total + C.Cost(ws_conv_params(in_chs, out_chs, 1), in_chs * out_chs * ho * wo)
    return total


register("ws_conv", ws_conv_cost, BROCK, factory=f"{MODULES}:ws_conv")
register("nf_block", nf_block_cost, BROCK, factory=f"{MODULES}:nf_block")
