"""The Inception-A, -B and -C modules of Inception-v4 (Szegedy et al. 2017, "Inception-v4,
Inception-ResNet and the Impact of Residual Connections", Figures 4, 5 and 6) as branch plans of
``cells.inception`` (modules in ``cells.modules.inception``).

Widths default to the paper's (at 384, 1024 and 1536 output channels) scaled to ``out_chs``, with
``ch1x1`` taking the remainder. Branch and kernel order follow timm's ``inception_v4`` (the
released TensorFlow model's), which puts a 7x1 before a 1x7 where the figures draw them the other
way round; the average pools divide by the valid pixels only, as TensorFlow's do
(``count_pad=true`` counts the padding instead, as torchvision's Inception-v3).
"""
from __future__ import annotations

from cells.checks import check_bool, check_kernel
from cells.inception import Branch, register_plan, scaled_widths

V4 = "Szegedy et al. 2017 (Inception-v4)"


def _widths(op: str, out_chs: int, given: dict, paper: dict, paper_out: int, outputs: dict) -> dict[str, int]:
    return scaled_widths(op, given, paper, out_chs, paper_out, outputs, "ch1x1")


def _bank(width: int) -> tuple[tuple[int, tuple[int, int]], ...]:
    """The expanded filter bank of the 8x8 grid: a 1x3 and a 3x1 side by side."""
    return ((width, (1, 3)), (width, (3, 1)))


@register_plan("inception_v4_a", V4)
def inception_v4_a(in_chs: int, out_chs: int, *, ch1x1=None, ch3x3red=None, ch3x3=None, dblred=None, dbl=None,
                   pool_proj=None, count_pad: bool = False) -> tuple[Branch, ...]:
    """Figure 4 (35x35): 1x1 96 | 1x1 64 -> 3x3 96 | 1x1 64 -> 3x3 96 -> 3x3 96 | avg -> 1x1 96."""
    check_bool("inception_v4_a", "count_pad", count_pad)
    w = _widths("inception_v4_a", out_chs, dict(ch1x1=ch1x1, ch3x3red=ch3x3red, ch3x3=ch3x3, dblred=dblred, dbl=dbl,
                                                pool_proj=pool_proj),
                dict(ch3x3red=64, ch3x3=96, dblred=64, dbl=96, pool_proj=96), 384,
                {"ch1x1": 1, "ch3x3": 1, "dbl": 1, "pool_proj": 1})
    return (Branch(((w["ch1x1"], (1, 1)),)),
            Branch(((w["ch3x3red"], (1, 1)), (w["ch3x3"], (3, 3)))),
            Branch(((w["dblred"], (1, 1)), (w["dbl"], (3, 3)), (w["dbl"], (3, 3)))),
            Branch(((w["pool_proj"], (1, 1)),), pool="avg", count_pad=count_pad))


@register_plan("inception_v4_b", V4)
def inception_v4_b(in_chs: int, out_chs: int, *, ch1x1=None, ch7x7red=None, ch1x7=None, ch7x7=None, dblred=None,
                   dbl1=None, dbl2=None, dbl=None, pool_proj=None, n: int = 7,
                   count_pad: bool = False) -> tuple[Branch, ...]:
    """Figure 5 (17x17): 1x1 384 | 1x1 192 -> 1x7 224 -> 7x1 256 | 1x1 192 -> 7x1 192 (dbl1) ->
    1x7 224 -> 7x1 224 (dbl2) -> 1x7 256 | avg -> 1x1 128."""
    n = check_kernel("inception_v4_b", n, "n")
    check_bool("inception_v4_b", "count_pad", count_pad)
    w = _widths("inception_v4_b", out_chs, dict(ch1x1=ch1x1, ch7x7red=ch7x7red, ch1x7=ch1x7, ch7x7=ch7x7,
                                                dblred=dblred, dbl1=dbl1, dbl2=dbl2, dbl=dbl, pool_proj=pool_proj),
                dict(ch7x7red=192, ch1x7=224, ch7x7=256, dblred=192, dbl1=192, dbl2=224, dbl=256, pool_proj=128),
                1024, {"ch1x1": 1, "ch7x7": 1, "dbl": 1, "pool_proj": 1})
    d2 = w["dbl2"]
    return (Branch(((w["ch1x1"], (1, 1)),)),
            Branch(((w["ch7x7red"], (1, 1)), (w["ch1x7"], (1, n)), (w["ch7x7"], (n, 1)))),
            Branch(((w["dblred"], (1, 1)), (w["dbl1"], (n, 1)), (d2, (1, n)), (d2, (n, 1)), (w["dbl"], (1, n)))),
            Branch(((w["pool_proj"], (1, 1)),), pool="avg", count_pad=count_pad))


@register_plan("inception_v4_c", V4)
def inception_v4_c(in_chs: int, out_chs: int, *, ch1x1=None, ch3x3red=None, ch3x3=None, dblred=None, dbl1=None,
                   dbl2=None, dbl=None, pool_proj=None, count_pad: bool = False) -> tuple[Branch, ...]:
    """Figure 6 (8x8): 1x1 256 | 1x1 384 -> [1x3 256, 3x1 256] | 1x1 384 -> 3x1 448 (dbl1) ->
    1x3 512 (dbl2) -> [1x3 256, 3x1 256] | avg -> 1x1 256; ``ch3x3`` and ``dbl`` are each head's width."""
    check_bool("inception_v4_c", "count_pad", count_pad)
    w = _widths("inception_v4_c", out_chs, dict(ch1x1=ch1x1, ch3x3red=ch3x3red, ch3x3=ch3x3, dblred=dblred,
                                                dbl1=dbl1, dbl2=dbl2, dbl=dbl, pool_proj=pool_proj),
                dict(ch3x3red=384, ch3x3=256, dblred=384, dbl1=448, dbl2=512, dbl=256, pool_proj=256), 1536,
                {"ch1x1": 1, "ch3x3": 2, "dbl": 2, "pool_proj": 1})
    return (Branch(((w["ch1x1"], (1, 1)),)),
            Branch(((w["ch3x3red"], (1, 1)),), heads=_bank(w["ch3x3"])),
            Branch(((w["dblred"], (1, 1)), (w["dbl1"], (3, 1)), (w["dbl2"], (1, 3))), heads=_bank(w["dbl"])),
            Branch(((w["pool_proj"], (1, 1)),), pool="avg", count_pad=count_pad))
