"""SqueezeNet's Fire module (Iandola et al. 2016, "SqueezeNet: AlexNet-level accuracy with 50x
fewer parameters"): cost and entry (module in ``cells.modules.squeeze``).

1x1 "squeeze" conv -> ReLU, then a 1x1 and a 3x3 "expand" conv side by side (ReLU each),
concatenated; every conv has a bias and no batch norm, as in the paper and torchvision. Widths
default to the paper's ratios: squeeze ``out_chs // 8`` (SR = 0.125) and half the output from each
expand conv (pct3x3 = 0.5). At stride 2 both expand convs stride (the 3x3 padded by 1), keeping
the registry's ceil(H / 2) shape rule.
"""
from __future__ import annotations

from cells import counting as C
from cells.checks import check_int
from cells.registry import register

IANDOLA = "Iandola et al. 2016 (SqueezeNet)"


def fire_widths(out_chs: int, squeeze: int | None, expand1x1: int | None) -> tuple[int, int, int]:
    """(squeeze, expand1x1, expand3x3) with the paper's defaults; the two expands sum to out_chs."""
    s = max(1, out_chs // 8) if squeeze is None else check_int("fire", "squeeze", squeeze)
    e1 = out_chs // 2 if expand1x1 is None else check_int("fire", "expand1x1", expand1x1)
    if not 0 < e1 < out_chs:
        raise ValueError(f"fire: expand1x1 must be in 1..{out_chs - 1} (out_chs={out_chs}), got {e1!r}")
    return s, e1, out_chs - e1


def fire_cost(in_chs, out_chs, stride, h, w, *, squeeze: int | None = None, expand1x1: int | None = None) -> C.Cost:
    s, e1, e3 = fire_widths(out_chs, squeeze, expand1x1)
    a, _, _ = C.conv(in_chs, s, 1, 1, h, w, bias=True)
    b, _, _ = C.conv(s, e1, 1, stride, h, w, bias=True, padding=0)
    c, _, _ = C.conv(s, e3, 3, stride, h, w, bias=True)
    return a + b + c


register("fire", fire_cost, IANDOLA, factory="cells.modules.squeeze:Fire")
