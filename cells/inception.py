"""Inception modules: GoogLeNet's four-branch concat (Szegedy et al. 2015, "Going Deeper with
Convolutions") and the factorized modules of Inception-v3 (Szegedy et al. 2016, "Rethinking the
Inception Architecture"), Figures 5, 6 and 7: plans, costs and entries (modules in
``cells.modules.inception``).

Each entry is a *plan*, a tuple of branches computed from the options, and one builder and one
cost function read the plan, so module and cost cannot drift apart. Every conv is torchvision's
``BasicConv2d``: conv (no bias) -> BN (eps 0.001) -> ReLU.

Widths are options named after torchvision's; unset ones default to fixed fractions of
``out_chs`` (those of GoogLeNet's inception3a and torchvision's InceptionA/C/E) with ``ch1x1``
taking the remainder, and the branch outputs must add up to ``out_chs``.

At stride 2 every branch strides, where it loses least: a pool branch in its pool, a branch with a
parallel head bank in its heads, any other in its last conv (the 1x1 branch then is a strided 1x1
projection, as ResNet's shortcut). The 1x1 reductions before a wide conv never stride.

The reductions and stem blocks of Inception-v3/v4 (``cells.inception_reduce``) add two things: a
pool branch with no conv, which passes the input's channels through, and ``valid``: the papers'
unpadded pools and last convs (35 -> 17 at stride 2), declared to the registry as the entry's
geometry. Without ``valid`` they pad and keep the registry's ceil(H / stride) rule.
"""
from __future__ import annotations

from dataclasses import dataclass

from typing import Callable

from cells import counting as C
from cells.checks import check_bool, check_int, check_kernel
from cells.registry import out_hw, register

GOOGLENET = "Szegedy et al. 2015 (GoogLeNet)"
V3 = "Szegedy et al. 2016 (Inception-v3)"
Kernel = tuple[int, int]


@dataclass(frozen=True)
class Branch:
    """An optional pool, a chain of convs ``(out_chs, (kh, kw))``, then optional parallel heads
    whose outputs are concatenated (Inception-v3's expanded filter bank). A pool with no conv
    passes the input through. ``count_pad`` False: the average pool divides by the window's valid
    pixels only (TensorFlow's, so timm's Inception-v4); True counts the zero padding (torchvision's)."""

    convs: tuple[tuple[int, Kernel], ...]
    heads: tuple[tuple[int, Kernel], ...] = ()
    pool: str = ""  # "", "max" or "avg"
    count_pad: bool = True

    def strides(self, stride: int) -> tuple[int, list[int], int]:
        """Stride of the pool, of each chained conv, of the heads (see the module docstring)."""
        last = len(self.convs) - 1
        chain = [stride if not self.pool and not self.heads and i == last else 1 for i in range(len(self.convs))]
        return (stride if self.pool else 1), chain, (stride if not self.pool else 1)

    def paddings(self, valid: bool) -> tuple[int, list[tuple[int, int]]]:
        """Padding of the pool and of each chained conv: 'same', but with ``valid`` the pool and the
        last conv (the strided one in a reduction) go unpadded, as in the papers."""
        last = len(self.convs) - 1
        chain = [(0, 0) if valid and i == last else (kh // 2, kw // 2) for i, (_, (kh, kw)) in enumerate(self.convs)]
        return (0 if valid else 1), chain

    def width(self, in_chs: int) -> int:
        """Channels this branch adds to the concatenation."""
        if self.heads:
            return sum(out for out, _ in self.heads)
        return self.convs[-1][0] if self.convs else in_chs


def valid_size(size: int, stride: int) -> int:
    """Output size of an unpadded 3x3 window: every branch of a ``valid`` block ends in one."""
    return C.out_size(size, 3, stride, 0)


def plan_cost(in_chs: int, plan: tuple[Branch, ...], stride: int, h: int, w: int, valid: bool = False) -> C.Cost:
    total = C.ZERO
    expect = (valid_size(h, stride), valid_size(w, stride)) if valid else out_hw(h, w, stride)
    for b in plan:
        pool_s, chain_s, head_s = b.strides(stride)
        pool_pad, pads = b.paddings(valid)
        chs, hh, ww = in_chs, h, w
        if b.pool:
            hh, ww = C.out_size(h, 3, pool_s, pool_pad), C.out_size(w, 3, pool_s, pool_pad)
        for (out, k), s, pad in zip(b.convs, chain_s, pads):
            c, hh, ww = C.conv_bn(chs, out, k, s, hh, ww, padding=pad)
            total, chs = total + c, out
        end = (hh, ww)
        for out, k in b.heads:
            c, *end = C.conv_bn(chs, out, k, head_s, hh, ww)
            total = total + c
        if tuple(end) != expect:  # the concat needs every branch at one size
            raise ValueError(f"inception plan: a branch ends at {end[0]}x{end[1]}, not {expect[0]}x{expect[1]} "
                             f"(input {h}x{w}, stride {stride}, valid={valid})")
    return total


def plan_width(in_chs: int, plan: tuple[Branch, ...]) -> int:
    return sum(b.width(in_chs) for b in plan)


def fill_widths(op: str, out_chs: int, given: dict[str, int | None], defaults: dict[str, tuple[str, float]],
                outputs: dict[str, int]) -> dict[str, int]:
    """Complete the branch widths: ``defaults`` maps a width to (``"out"`` or another width, fraction);
    ``outputs`` maps the widths that reach the output to how many times they are concatenated.
    ``ch1x1`` defaults to the remainder; the outputs must sum to ``out_chs``."""
    widths = {k: check_int(op, k, v) for k, v in given.items() if v is not None}
    defaulted = [k for k, (base, _) in defaults.items() if base == "out" and k not in widths]
    for name in defaulted:
        widths[name] = max(1, int(out_chs * defaults[name][1]))
    if "ch1x1" not in widths:
        # On narrow blocks the largest defaulted branches give way so the 1x1 keeps a channel.
        while (rest := out_chs - sum(n * widths[k] for k, n in outputs.items() if k != "ch1x1")) < 1:
            name = max(defaulted, key=lambda k: widths[k], default=None)
            if name is None or widths[name] == 1:
                raise ValueError(f"{op}: out_chs={out_chs} is too small for the branches {widths}; "
                                 "give larger out_chs or explicit widths")
            widths[name] -= 1
        widths["ch1x1"] = rest
    for name, (base, frac) in defaults.items():
        if name not in widths:
            widths[name] = max(1, int(widths[base] * frac))
    total = sum(n * widths[k] for k, n in outputs.items())
    if total != out_chs:
        raise ValueError(f"{op}: branch widths {widths} concatenate to {total} channels, not out_chs={out_chs}")
    return widths


def scaled_widths(op: str, given: dict[str, int | None], paper: dict[str, int], target: int, paper_target: int,
                  outputs: dict[str, int] | None = None, rest: str = "") -> dict[str, int]:
    """The widths a caller gave; the others are the paper's scaled by ``target / paper_target`` (at
    least one channel), so a block at the paper's size gets the paper's widths. With ``outputs``
    (width -> times concatenated) those must add up to ``target``; ``rest``, unless given, takes
    what the others leave."""
    widths = {k: check_int(op, k, v) for k, v in given.items() if v is not None}
    for name, width in paper.items():
        widths.setdefault(name, max(1, width * target // paper_target))
    if outputs is None:
        return widths
    if given.get(rest) is None:
        widths[rest] = target - sum(n * widths[k] for k, n in outputs.items() if k != rest)
        if widths[rest] < 1:
            raise ValueError(f"{op}: {target} new channels are too few for the branches {widths}; "
                             "give more output channels or explicit widths")
    total = sum(n * widths[k] for k, n in outputs.items())
    if total != target:
        raise ValueError(f"{op}: branch widths {widths} add {total} channels, not the {target} needed")
    return widths


PLANS: dict[str, Callable[..., tuple[Branch, ...]]] = {}


def plan_entry_cost(in_chs, out_chs, stride, h, w, *, plan: str, **options) -> C.Cost:
    """The cost of the registry entry whose branches ``PLANS[plan]`` computes."""
    return plan_cost(in_chs, PLANS[plan](in_chs, out_chs, **options), stride, h, w)


def valid_entry_cost(in_chs, out_chs, stride, h, w, *, plan: str, valid: bool = False, **options) -> C.Cost:
    """As ``plan_entry_cost``, for the entries that may go unpadded (``valid``)."""
    check_bool(plan, "valid", valid)
    return plan_cost(in_chs, PLANS[plan](in_chs, out_chs, **options), stride, h, w, valid=valid)


def valid_geometry(h: int, w: int, stride: int, *, valid: bool = False, **_options) -> tuple[int, int]:
    """The output size of a ``valid_entry_cost`` entry (``plan_cost`` checks every branch agrees)."""
    return (valid_size(h, stride), valid_size(w, stride)) if valid else out_hw(h, w, stride)


def register_plan(name: str, paper: str, *, valid: bool = False):
    """Register a plan function ``(in_chs, out_chs, **options) -> branches`` as the entry ``name``:
    one plan feeds both module and cost. ``valid`` adds that option and its geometry."""
    def add(plan_fn):
        PLANS[name] = plan_fn
        if valid:
            register(name, valid_entry_cost, paper, factory="cells.modules.inception:inception",
                     fixed={"plan": name}, geometry=valid_geometry)
        else:
            register(name, plan_entry_cost, paper, factory="cells.modules.inception:inception", fixed={"plan": name})
        return plan_fn
    return add


@register_plan("inception_v1", GOOGLENET)
def inception_v1(in_chs: int, out_chs: int, *, ch1x1=None, ch3x3red=None, ch3x3=None, ch5x5red=None, ch5x5=None,
                 pool_proj=None, branch3_kernel: int = 5) -> tuple[Branch, ...]:
    """1x1 | 1x1 -> 3x3 | 1x1 -> 5x5 | 3x3 max pool -> 1x1. ``branch3_kernel=3`` is torchvision's
    GoogLeNet (it keeps a 3x3 in the "5x5" branch for its weights); 5 is the paper's."""
    k = check_kernel("inception_v1", branch3_kernel, "branch3_kernel")
    w = fill_widths("inception_v1", out_chs, dict(ch1x1=ch1x1, ch3x3red=ch3x3red, ch3x3=ch3x3, ch5x5red=ch5x5red,
                                                  ch5x5=ch5x5, pool_proj=pool_proj),
                    {"ch3x3": ("out", 1 / 2), "ch5x5": ("out", 1 / 8), "pool_proj": ("out", 1 / 8),
                     "ch3x3red": ("ch3x3", 3 / 4), "ch5x5red": ("ch5x5", 1 / 2)},
                    {"ch1x1": 1, "ch3x3": 1, "ch5x5": 1, "pool_proj": 1})
    return (Branch(((w["ch1x1"], (1, 1)),)),
            Branch(((w["ch3x3red"], (1, 1)), (w["ch3x3"], (3, 3)))),
            Branch(((w["ch5x5red"], (1, 1)), (w["ch5x5"], (k, k)))),
            Branch(((w["pool_proj"], (1, 1)),), pool="max"))


@register_plan("inception_v3_a", V3)
def inception_v3_a(in_chs: int, out_chs: int, *, ch1x1=None, ch3x3red=None, ch3x3=None, dblred=None, dbl=None,
                   pool_proj=None, branch2_kernel: int = 3, count_pad: bool = True) -> tuple[Branch, ...]:
    """Figure 5: the 5x5 factorized into two 3x3s. 1x1 | 1x1 -> 3x3 | 1x1 -> 3x3 -> 3x3 | avg -> 1x1.
    ``branch2_kernel=5`` is torchvision's Mixed_5b-d (and Inception-ResNet-v2's Mixed_5b), which keep
    a 5x5 in the second branch, as the released TensorFlow model did; 3 is the paper's figure.
    ``count_pad=False`` averages over valid pixels only (TensorFlow's pooling, as timm's Mixed_5b)."""
    k = check_kernel("inception_v3_a", branch2_kernel, "branch2_kernel")
    check_bool("inception_v3_a", "count_pad", count_pad)
    w = fill_widths("inception_v3_a", out_chs, dict(ch1x1=ch1x1, ch3x3red=ch3x3red, ch3x3=ch3x3, dblred=dblred,
                                                    dbl=dbl, pool_proj=pool_proj),
                    {"ch3x3": ("out", 1 / 4), "dbl": ("out", 3 / 8), "pool_proj": ("out", 1 / 8),
                     "ch3x3red": ("ch3x3", 3 / 4), "dblred": ("dbl", 2 / 3)},
                    {"ch1x1": 1, "ch3x3": 1, "dbl": 1, "pool_proj": 1})
    return (Branch(((w["ch1x1"], (1, 1)),)),
            Branch(((w["ch3x3red"], (1, 1)), (w["ch3x3"], (k, k)))),
            Branch(((w["dblred"], (1, 1)), (w["dbl"], (3, 3)), (w["dbl"], (3, 3)))),
            Branch(((w["pool_proj"], (1, 1)),), pool="avg", count_pad=count_pad))


@register_plan("inception_v3_b", V3)
def inception_v3_b(in_chs: int, out_chs: int, *, ch1x1=None, ch7x7red=None, ch7x7=None, dblred=None, dbl=None,
                   pool_proj=None, n: int = 7) -> tuple[Branch, ...]:
    """Figure 6: n x n factorized into 1xn and nx1 (n = 7 on the 17x17 grid). 1x1 |
    1x1 -> 1xn -> nx1 | 1x1 -> nx1 -> 1xn -> nx1 -> 1xn | avg -> 1x1 (torchvision's InceptionC order)."""
    n = check_kernel("inception_v3_b", n, "n")
    w = fill_widths("inception_v3_b", out_chs, dict(ch1x1=ch1x1, ch7x7red=ch7x7red, ch7x7=ch7x7, dblred=dblred,
                                                    dbl=dbl, pool_proj=pool_proj),
                    {"ch7x7": ("out", 1 / 4), "dbl": ("out", 1 / 4), "pool_proj": ("out", 1 / 4),
                     "ch7x7red": ("ch7x7", 2 / 3), "dblred": ("dbl", 2 / 3)},
                    {"ch1x1": 1, "ch7x7": 1, "dbl": 1, "pool_proj": 1})
    r, d = w["ch7x7red"], w["dblred"]
    return (Branch(((w["ch1x1"], (1, 1)),)),
            Branch(((r, (1, 1)), (r, (1, n)), (w["ch7x7"], (n, 1)))),
            Branch(((d, (1, 1)), (d, (n, 1)), (d, (1, n)), (d, (n, 1)), (w["dbl"], (1, n)))),
            Branch(((w["pool_proj"], (1, 1)),), pool="avg"))


@register_plan("inception_v3_c", V3)
def inception_v3_c(in_chs: int, out_chs: int, *, ch1x1=None, ch3x3red=None, ch3x3=None, dblred=None, dbl=None,
                   pool_proj=None) -> tuple[Branch, ...]:
    """Figure 7: the expanded filter bank of the 8x8 grid. 1x1 | 1x1 -> [1x3, 3x1] |
    1x1 -> 3x3 -> [1x3, 3x1] | avg -> 1x1; ``ch3x3`` and ``dbl`` are the width of each head."""
    w = fill_widths("inception_v3_c", out_chs, dict(ch1x1=ch1x1, ch3x3red=ch3x3red, ch3x3=ch3x3, dblred=dblred,
                                                    dbl=dbl, pool_proj=pool_proj),
                    {"ch3x3": ("out", 3 / 16), "dbl": ("out", 3 / 16), "pool_proj": ("out", 3 / 32),
                     "ch3x3red": ("ch3x3", 1), "dblred": ("dbl", 7 / 6)},
                    {"ch1x1": 1, "ch3x3": 2, "dbl": 2, "pool_proj": 1})
    bank = lambda c: ((c, (1, 3)), (c, (3, 1)))  # noqa: E731
    return (Branch(((w["ch1x1"], (1, 1)),)),
            Branch(((w["ch3x3red"], (1, 1)),), heads=bank(w["ch3x3"])),
            Branch(((w["dblred"], (1, 1)), (w["dbl"], (3, 3))), heads=bank(w["dbl"])),
            Branch(((w["pool_proj"], (1, 1)),), pool="avg"))
