"""Classic networks assembled from the registry's blocks, to hold the vocabulary to the papers:
ResNet-18/50 (He et al. 2016) and GoogLeNet without auxiliary heads (Szegedy et al. 2015).

Only the stems, pools and classifier are written here; every residual block and Inception module
comes from ``cells.create``. Layer order follows torchvision's models, so their state dicts load
by position and the parameter counts can be compared: ResNet-50 has 25,557,032 parameters and
GoogLeNet 6,624,904 with torchvision's 3x3 "5x5" branch (``branch3_kernel=3``).
"""
from __future__ import annotations

from torch import nn

import cells
from cells.modules.inception import basic_conv
from cells.modules.layers import ConvBnAct

# GoogLeNet's Inception widths, Table 1: (ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj)
GOOGLENET_MODULES = {
    "3a": (64, 96, 128, 16, 32, 32), "3b": (128, 128, 192, 32, 96, 64),
    "4a": (192, 96, 208, 16, 48, 64), "4b": (160, 112, 224, 24, 64, 64), "4c": (128, 128, 256, 24, 64, 64),
    "4d": (112, 144, 288, 32, 64, 64), "4e": (256, 160, 320, 32, 128, 128),
    "5a": (256, 160, 320, 32, 128, 128), "5b": (384, 192, 384, 48, 128, 128),
}
WIDTH_NAMES = ("ch1x1", "ch3x3red", "ch3x3", "ch5x5red", "ch5x5", "pool_proj")


def _head(chs: int, num_classes: int, dropout: float = 0.0) -> list[nn.Module]:
    drop = [nn.Dropout(dropout)] if dropout else []
    return [nn.AdaptiveAvgPool2d(1), nn.Flatten(), *drop, nn.Linear(chs, num_classes)]


def resnet(block: str, depths: tuple[int, ...], num_classes: int = 1000) -> nn.Sequential:
    """7x7/2 conv stem, 3x3/2 max pool, four stages (the first block of stages 2-4 strides),
    global pool, linear classifier. ``block`` is a registry name (basic_block, bottleneck, ...)."""
    expansion = 1 if block == "basic_block" else 4
    layers: list[nn.Module] = [ConvBnAct(3, 64, 7, 2), nn.MaxPool2d(3, 2, 1)]
    chs = 64
    for stage, depth in enumerate(depths):
        out = 64 * 2 ** stage * expansion
        for i in range(depth):
            layers.append(cells.create(block, chs, out, 2 if i == 0 and stage > 0 else 1))
            chs = out
    return nn.Sequential(*layers, *_head(chs, num_classes))


def resnet18(num_classes: int = 1000) -> nn.Sequential:
    return resnet("basic_block", (2, 2, 2, 2), num_classes)


def resnet50(num_classes: int = 1000) -> nn.Sequential:
    return resnet("bottleneck", (3, 4, 6, 3), num_classes)


def googlenet(num_classes: int = 1000, branch3_kernel: int = 5, dropout: float = 0.2) -> nn.Sequential:
    """GoogLeNet without its auxiliary heads; the max pools use ceil mode, as torchvision's."""
    def pool(k: int = 3) -> nn.Module:
        return nn.MaxPool2d(k, 2, ceil_mode=True)

    layers: list[nn.Module] = [basic_conv(3, 64, (7, 7), 2), pool(), basic_conv(64, 64, (1, 1)),
                               basic_conv(64, 192, (3, 3)), pool()]
    chs = 192
    for name, widths in GOOGLENET_MODULES.items():
        if name in ("4a", "5a"):
            layers.append(pool(3 if name == "4a" else 2))
        out = widths[0] + widths[2] + widths[4] + widths[5]
        layers.append(cells.create("inception_v1", chs, out, 1, branch3_kernel=branch3_kernel,
                                   **dict(zip(WIDTH_NAMES, widths))))
        chs = out
    return nn.Sequential(*layers, *_head(chs, num_classes, dropout))
