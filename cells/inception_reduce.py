"""The grid reductions of Inception-v3 (Szegedy et al. 2016, "Rethinking the Inception
Architecture", Figure 10: torchvision's InceptionB = Mixed_6a and InceptionD = Mixed_7a), of
Inception-v4 and Inception-ResNet-v2 (Szegedy et al. 2017, "Inception-v4, Inception-ResNet and
the Impact of Residual Connections", Figures 7, 8 and 18), and the branch-and-concat parts of the
Inception-v4 stem (Figure 3; timm's Mixed_3a, 4a, 5a).

Every block here concatenates a 3x3 max pool of its input (no conv: the input's channels pass
through) with conv branches, so ``out_chs - in_chs`` is what the convs add; their widths default
to the paper's scaled to that number. The papers pad nothing in these blocks (35 -> 17 -> 8 at
299): ``valid=true`` does the same; by default pools and convs pad, keeping ceil(H / stride).
Widths follow the reference implementations' names and branch order (torchvision's, timm's).
"""
from __future__ import annotations

from cells.inception import Branch, register_plan, scaled_widths

V3 = "Szegedy et al. 2016 (Inception-v3)"
V4 = "Szegedy et al. 2017 (Inception-v4)"
IRV2 = "Szegedy et al. 2017 (Inception-ResNet-v2)"
POOL = Branch((), pool="max")


def new_channels(op: str, in_chs: int, out_chs: int) -> int:
    """Channels the conv branches add to the pooled input."""
    if out_chs <= in_chs:
        raise ValueError(f"{op}: out_chs={out_chs} must exceed in_chs={in_chs}: the max-pool branch passes "
                         f"the input's {in_chs} channels through")
    return out_chs - in_chs


def _reduce_a(op: str, in_chs: int, out_chs: int, given: dict, paper: dict) -> tuple[Branch, ...]:
    """3x3 s2 (n) | 1x1 (k) -> 3x3 (l) -> 3x3 s2 (m) | 3x3 max pool s2."""
    w = scaled_widths(op, given, paper, new_channels(op, in_chs, out_chs), paper["n"] + paper["m"],
                      {"n": 1, "m": 1}, "n")
    return (Branch(((w["n"], (3, 3)),)),
            Branch(((w["k"], (1, 1)), (w["l"], (3, 3)), (w["m"], (3, 3)))),
            POOL)


@register_plan("inception_v3_reduce_a", V3, valid=True)
def inception_v3_reduce_a(in_chs: int, out_chs: int, *, k=None, l=None, m=None, n=None):  # noqa: E741
    """Figure 10's 35 -> 17 reduction as torchvision's InceptionB (Mixed_6a): defaults n 384, k 64,
    l 96, m 96 (out_chs - in_chs = 480). The widths take Inception-v4's names (Table 1)."""
    return _reduce_a("inception_v3_reduce_a", in_chs, out_chs, dict(k=k, l=l, m=m, n=n),
                     dict(k=64, l=96, m=96, n=384))


@register_plan("inception_v4_reduce_a", V4, valid=True)
def inception_v4_reduce_a(in_chs: int, out_chs: int, *, k=None, l=None, m=None, n=None):  # noqa: E741
    """Figure 7, the 35 -> 17 reduction of Inception-v4 and both Inception-ResNets; Table 1 gives
    k, l, m, n: Inception-v4 192, 224, 256, 384 (the defaults, at out_chs - in_chs = 640),
    Inception-ResNet-v2 256, 256, 384, 384."""
    return _reduce_a("inception_v4_reduce_a", in_chs, out_chs, dict(k=k, l=l, m=m, n=n),
                     dict(k=192, l=224, m=256, n=384))


def _reduce_b(op: str, in_chs: int, out_chs: int, given: dict, paper: dict) -> tuple[Branch, ...]:
    """1x1 -> 3x3 s2 (ch3x3) | 1x1 -> 1x7 -> 7x1 -> 3x3 s2 (ch7x7x3) | 3x3 max pool s2."""
    w = scaled_widths(op, given, paper, new_channels(op, in_chs, out_chs), paper["ch3x3"] + paper["ch7x7x3"],
                      {"ch3x3": 1, "ch7x7x3": 1}, "ch3x3")
    return (Branch(((w["ch3x3red"], (1, 1)), (w["ch3x3"], (3, 3)))),
            Branch(((w["ch7x7red"], (1, 1)), (w["ch1x7"], (1, 7)), (w["ch7x1"], (7, 1)), (w["ch7x7x3"], (3, 3)))),
            POOL)


@register_plan("inception_v3_reduce_b", V3, valid=True)
def inception_v3_reduce_b(in_chs: int, out_chs: int, *, ch3x3red=None, ch3x3=None, ch7x7red=None, ch1x7=None,
                          ch7x1=None, ch7x7x3=None):
    """The 17 -> 8 reduction as torchvision's InceptionD (Mixed_7a): 1x1 192 -> 3x3 320 |
    1x1 192 -> 1x7 192 -> 7x1 192 -> 3x3 192 | max pool (defaults at out_chs - in_chs = 512)."""
    return _reduce_b("inception_v3_reduce_b", in_chs, out_chs,
                     dict(ch3x3red=ch3x3red, ch3x3=ch3x3, ch7x7red=ch7x7red, ch1x7=ch1x7, ch7x1=ch7x1, ch7x7x3=ch7x7x3),
                     dict(ch3x3red=192, ch3x3=320, ch7x7red=192, ch1x7=192, ch7x1=192, ch7x7x3=192))


@register_plan("inception_v4_reduce_b", V4, valid=True)
def inception_v4_reduce_b(in_chs: int, out_chs: int, *, ch3x3red=None, ch3x3=None, ch7x7red=None, ch1x7=None,
                          ch7x1=None, ch7x7x3=None):
    """Figure 8, Inception-v4's 17 -> 8 reduction: 1x1 192 -> 3x3 192 | 1x1 256 -> 1x7 256 ->
    7x1 320 -> 3x3 320 | max pool (defaults at out_chs - in_chs = 512)."""
    return _reduce_b("inception_v4_reduce_b", in_chs, out_chs,
                     dict(ch3x3red=ch3x3red, ch3x3=ch3x3, ch7x7red=ch7x7red, ch1x7=ch1x7, ch7x1=ch7x1, ch7x7x3=ch7x7x3),
                     dict(ch3x3red=192, ch3x3=192, ch7x7red=256, ch1x7=256, ch7x1=320, ch7x7x3=320))


@register_plan("inception_resnet_v2_reduce_b", IRV2, valid=True)
def inception_resnet_v2_reduce_b(in_chs: int, out_chs: int, *, red=None, ch3x3=None, ch3x3b=None, dblmid=None,
                                 dbl=None):
    """Figure 18, Inception-ResNet-v2's 17 -> 8 reduction (timm's Mixed_7a): 1x1 -> 3x3 384 |
    1x1 -> 3x3 288 | 1x1 -> 3x3 288 -> 3x3 320 | max pool, every 1x1 ``red`` = 256 (defaults at
    out_chs - in_chs = 992)."""
    op = "inception_resnet_v2_reduce_b"
    w = scaled_widths(op, dict(red=red, ch3x3=ch3x3, ch3x3b=ch3x3b, dblmid=dblmid, dbl=dbl),
                      dict(red=256, ch3x3=384, ch3x3b=288, dblmid=288, dbl=320),
                      new_channels(op, in_chs, out_chs), 992, {"ch3x3": 1, "ch3x3b": 1, "dbl": 1}, "ch3x3")
    r = w["red"]
    return (Branch(((r, (1, 1)), (w["ch3x3"], (3, 3)))),
            Branch(((r, (1, 1)), (w["ch3x3b"], (3, 3)))),
            Branch(((r, (1, 1)), (w["dblmid"], (3, 3)), (w["dbl"], (3, 3)))),
            POOL)


@register_plan("inception_v4_stem_a", V4, valid=True)
def inception_v4_stem_a(in_chs: int, out_chs: int):
    """Figure 3's first concat (timm's Mixed_3a): 3x3 max pool s2 | 3x3 conv s2 (96 at 64 -> 160)."""
    return (POOL, Branch(((new_channels("inception_v4_stem_a", in_chs, out_chs), (3, 3)),)))


@register_plan("inception_v4_stem_b", V4, valid=True)
def inception_v4_stem_b(in_chs: int, out_chs: int, *, red=None, mid=None, ch3x3=None, ch7x7x3=None):
    """Figure 3's second concat (timm's Mixed_4a, 73 -> 71 at stride 1): 1x1 64 -> 3x3 96 |
    1x1 64 -> 1x7 64 -> 7x1 64 -> 3x3 96 (defaults at out_chs = 192); ``red`` is both 1x1s,
    ``mid`` the 1x7 and 7x1."""
    w = scaled_widths("inception_v4_stem_b", dict(red=red, mid=mid, ch3x3=ch3x3, ch7x7x3=ch7x7x3),
                      dict(red=64, mid=64, ch3x3=96, ch7x7x3=96), out_chs, 192, {"ch3x3": 1, "ch7x7x3": 1}, "ch3x3")
    r, m = w["red"], w["mid"]
    return (Branch(((r, (1, 1)), (w["ch3x3"], (3, 3)))),
            Branch(((r, (1, 1)), (m, (1, 7)), (m, (7, 1)), (w["ch7x7x3"], (3, 3)))))


@register_plan("inception_v4_stem_c", V4, valid=True)
def inception_v4_stem_c(in_chs: int, out_chs: int):
    """Figure 3's last concat (timm's Mixed_5a): 3x3 conv s2 (192 at 192 -> 384) | 3x3 max pool s2."""
    return (Branch(((new_channels("inception_v4_stem_c", in_chs, out_chs), (3, 3)),)), POOL)
