"""The MobileNetV3 block (Howard et al. 2019, "Searching for MobileNetV3"): an inverted residual
with a per-layer activation (ReLU or h-swish) and an optional squeeze-and-excitation gated by a
hard sigmoid: cost and entry (module in ``cells.modules.mobile_v3``).

Layout and widths are torchvision's ``mobilenetv3.InvertedResidual``: [1x1 expand -> BN -> act,
left out when the expanded width equals the input's] -> k x k depthwise (strides) -> BN -> act ->
[SE: squeeze ``make_divisible(mid / 4, 8)``, ReLU, hard sigmoid] -> 1x1 -> BN, plus the identity
when stride is 1 and in == out. Batch norms use eps 0.001, as torchvision's and the TF reference's.
The expanded width is ``mid`` when given (the paper's tables list it per layer: 16 -> 64 -> 24),
else ``make_divisible(in_chs * expand, 8)``.
"""
from __future__ import annotations

from cells import counting as C
from cells.checks import check_bool, check_int, check_kernel, check_ratio
from cells.registry import register
from cells.se import se_cost

HOWARD19 = "Howard et al. 2019 (MobileNetV3)"
ACTS = ("relu", "hswish")


def make_divisible(value: float, divisor: int = 8) -> int:
    """The TF reference's channel rounding: nearest multiple, never more than 10% below."""
    out = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return out + divisor if out < 0.9 * value else out


def v3_widths(in_chs: int, expand, mid, kernel, se, act) -> tuple[int, int]:
    """(expanded width, SE squeeze width or 0); checks every option."""
    check_kernel("mbconv_v3", kernel)
    check_bool("mbconv_v3", "se", se)
    if act not in ACTS:
        raise ValueError(f"mbconv_v3: act must be one of {', '.join(ACTS)}, got {act!r}")
    if mid is None:
        check_ratio("mbconv_v3", "expand", expand, upper=16.0)
        if expand < 1:
            raise ValueError(f"mbconv_v3: expand must be >= 1, got {expand!r}")
        mid = make_divisible(in_chs * expand) if expand != 1 else in_chs
    check_int("mbconv_v3", "mid", mid)
    return mid, (make_divisible(mid // 4) if se else 0)


def mbconv_v3_cost(in_chs, out_chs, stride, h, w, *, expand: float = 4.0, mid: int | None = None,
                   kernel: int = 3, se: bool = False, act: str = "relu") -> C.Cost:
    mid, squeeze = v3_widths(in_chs, expand, mid, kernel, se, act)
    total = C.conv_bn(in_chs, mid, 1, 1, h, w)[0] if mid != in_chs else C.ZERO
    dw, ho, wo = C.conv_bn(mid, mid, kernel, stride, h, w, groups=mid)
    total = total + dw + (se_cost(mid, squeeze) if squeeze else C.ZERO)
    return total + C.conv_bn(mid, out_chs, 1, 1, ho, wo)[0]


register("mbconv_v3", mbconv_v3_cost, HOWARD19, factory="cells.modules.mobile_v3:MBConvV3")
