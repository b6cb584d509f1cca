"""The residual Inception blocks of Inception-ResNet-v2 (Szegedy et al. 2017, "Inception-v4,
Inception-ResNet and the Impact of Residual Connections", Figures 16, 17 and 19; timm's Block35,
Block17, Block8): Inception branches, concatenated, a linear 1x1 conv (with bias, no BN) back to
``out_chs``, scaled by ``scale`` (section 3.3: 0.1 to 0.3 keeps the wide residual stacks stable),
added to the input, then ReLU (``relu=false`` drops it, as on the network's last block in timm's
and TensorFlow's layout). Modules in ``cells.modules.inception_resnet``.

The figures print 384, 1154 and 2048 for the linear 1x1, which disagree with the widths the
blocks receive; the released model (and timm) use the input width, 320, 1088 and 2080, and the
defaults follow it: the branch widths are the paper's scaled by ``out_chs`` over those.

The paper's blocks never stride or change width; here a stride-2 block strides each branch where
``cells.inception`` strides it and a block that changes width or strides projects its shortcut
(1x1 conv + BN, as ResNet's), so every entry keeps the registry's shape contract.
"""
from __future__ import annotations

from typing import Callable

from cells import counting as C
from cells.checks import check_bool, check_kernel, check_ratio
from cells.inception import Branch, plan_cost, plan_width, scaled_widths
from cells.registry import out_hw, register

IRV2 = "Szegedy et al. 2017 (Inception-ResNet-v2)"
RESIDUAL_PLANS: dict[str, Callable[..., tuple[Branch, ...]]] = {}


def residual_cost(in_chs, out_chs, stride, h, w, *, plan: str, scale: float = 1.0, relu: bool = True,
                  **options) -> C.Cost:
    check_ratio(plan, "scale", scale)
    check_bool(plan, "relu", relu)
    branches = RESIDUAL_PLANS[plan](out_chs, **options)
    ho, wo = out_hw(h, w, stride)
    total = plan_cost(in_chs, branches, stride, h, w) + C.conv(plan_width(in_chs, branches), out_chs, 1, 1, ho, wo,
                                                               bias=True)[0]
    if stride != 1 or in_chs != out_chs:
        total = total + C.conv_bn(in_chs, out_chs, 1, stride, h, w)[0]
    return total


def _register(name: str):
    def add(plan_fn):
        RESIDUAL_PLANS[name] = plan_fn
        register(name, residual_cost, IRV2, factory="cells.modules.inception_resnet:inception_residual",
                 fixed={"plan": name})
        return plan_fn
    return add


@_register("inception_resnet_v2_a")
def inception_resnet_v2_a(out_chs: int, *, ch1x1=None, ch3x3red=None, ch3x3=None, dblred=None, dbl1=None,
                          dbl=None) -> tuple[Branch, ...]:
    """Figure 16 (35x35, 320 channels): 1x1 32 | 1x1 32 -> 3x3 32 | 1x1 32 -> 3x3 48 -> 3x3 64."""
    w = scaled_widths("inception_resnet_v2_a", dict(ch1x1=ch1x1, ch3x3red=ch3x3red, ch3x3=ch3x3, dblred=dblred,
                                                    dbl1=dbl1, dbl=dbl),
                      dict(ch1x1=32, ch3x3red=32, ch3x3=32, dblred=32, dbl1=48, dbl=64), out_chs, 320)
    return (Branch(((w["ch1x1"], (1, 1)),)),
            Branch(((w["ch3x3red"], (1, 1)), (w["ch3x3"], (3, 3)))),
            Branch(((w["dblred"], (1, 1)), (w["dbl1"], (3, 3)), (w["dbl"], (3, 3)))))


@_register("inception_resnet_v2_b")
def inception_resnet_v2_b(out_chs: int, *, ch1x1=None, ch7x7red=None, ch1x7=None, ch7x7=None,
                          n: int = 7) -> tuple[Branch, ...]:
    """Figure 17 (17x17, 1088 channels): 1x1 192 | 1x1 128 -> 1x7 160 -> 7x1 192."""
    n = check_kernel("inception_resnet_v2_b", n, "n")
    w = scaled_widths("inception_resnet_v2_b", dict(ch1x1=ch1x1, ch7x7red=ch7x7red, ch1x7=ch1x7, ch7x7=ch7x7),
                      dict(ch1x1=192, ch7x7red=128, ch1x7=160, ch7x7=192), out_chs, 1088)
    return (Branch(((w["ch1x1"], (1, 1)),)),
            Branch(((w["ch7x7red"], (1, 1)), (w["ch1x7"], (1, n)), (w["ch7x7"], (n, 1)))))


@_register("inception_resnet_v2_c")
def inception_resnet_v2_c(out_chs: int, *, ch1x1=None, ch3x3red=None, ch1x3=None, ch3x3=None) -> tuple[Branch, ...]:
    """Figure 19 (8x8, 2080 channels): 1x1 192 | 1x1 192 -> 1x3 224 -> 3x1 256."""
    w = scaled_widths("inception_resnet_v2_c", dict(ch1x1=ch1x1, ch3x3red=ch3x3red, ch1x3=ch1x3, ch3x3=ch3x3),
                      dict(ch1x1=192, ch3x3red=192, ch1x3=224, ch3x3=256), out_chs, 2080)
    return (Branch(((w["ch1x1"], (1, 1)),)),
            Branch(((w["ch3x3red"], (1, 1)), (w["ch1x3"], (1, 3)), (w["ch3x3"], (3, 1)))))
