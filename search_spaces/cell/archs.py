"""The papers' cell architectures as named specs.

Genotypes are transcribed from the authors' own code, in DARTS's index convention (0 = h[i-2],
1 = h[i-1], 2 + k = block k):

- NASNet-A (Zoph et al. 2018): TF slim ``nasnet_utils.py`` (``NasNetANormalCell`` /
  ``NasNetAReductionCell``). TF lists its states as [h[i-1], h[i-2], blocks...], so its indices
  0 and 1 are swapped here; its 'none' is our 'identity'. The cell outputs follow the TF code's
  hand-written ``used_hiddenstates``, not the paper's "unused states" rule: the normal cell
  concatenates h[i-2] as well as its five blocks (6F channels, hence "4 @ 1056" = 6 x 4 x 44), the
  reduction cell blocks 1..4. quark0/darts ``genotypes.py`` carries the same blocks (its NASNet)
  but computed outputs (5F / 3F channels).
- AmoebaNet-A (Real et al. 2019): quark0/darts ``genotypes.py`` (``AmoebaNet``), the form the
  CIFAR figures are measured with; its outputs equal the "unused states" rule, hence the NASNet
  wiring without explicit concat. ('conv_7x1_1x7' there is our 'conv_1x7_7x1'.)
- DARTS V1 / V2 (Liu et al. 2019): quark0/darts ``genotypes.py`` (first- / second-order search),
  four blocks per cell, every block concatenated (DARTS wiring).

Macro settings are the papers' (N cells per stage, F filters, resolution, stem).
"""
from __future__ import annotations

from types import MappingProxyType
from typing import Mapping, Sequence

from search_spaces.cell.spec import Block, Cell, CellSpec

Pairs = Sequence[tuple[str, int]]


def cell_from_pairs(pairs: Pairs, concat: Sequence[int] | None = None) -> Cell:
    """A cell from DARTS's genotype list ``[(op, input), ...]``: two entries per block, 'add'."""
    if len(pairs) % 2:
        raise ValueError(f"a genotype lists two (op, input) pairs per block; got {len(pairs)} entries")
    blocks = tuple(Block(pairs[i][1], pairs[i + 1][1], pairs[i][0], pairs[i + 1][0])
                   for i in range(0, len(pairs), 2))
    return Cell(blocks, None if concat is None else tuple(concat))


NASNET_A_NORMAL = cell_from_pairs(
    [("sep_conv_5x5", 1), ("sep_conv_3x3", 0), ("sep_conv_5x5", 0), ("sep_conv_3x3", 0),
     ("avg_pool_3x3", 1), ("identity", 0), ("avg_pool_3x3", 0), ("avg_pool_3x3", 0),
     ("sep_conv_3x3", 1), ("identity", 1)],
    concat=[0, 2, 3, 4, 5, 6])
NASNET_A_REDUCE = cell_from_pairs(
    [("sep_conv_5x5", 1), ("sep_conv_7x7", 0), ("max_pool_3x3", 1), ("sep_conv_7x7", 0),
     ("avg_pool_3x3", 1), ("sep_conv_5x5", 0), ("identity", 3), ("avg_pool_3x3", 2),
     ("sep_conv_3x3", 2), ("max_pool_3x3", 1)],
    concat=[3, 4, 5, 6])

AMOEBANET_A_NORMAL = cell_from_pairs(
    [("avg_pool_3x3", 0), ("max_pool_3x3", 1), ("sep_conv_3x3", 0), ("sep_conv_5x5", 2),
     ("sep_conv_3x3", 0), ("avg_pool_3x3", 3), ("sep_conv_3x3", 1), ("identity", 1),
     ("identity", 0), ("avg_pool_3x3", 1)])
AMOEBANET_A_REDUCE = cell_from_pairs(
    [("avg_pool_3x3", 0), ("sep_conv_3x3", 1), ("max_pool_3x3", 0), ("sep_conv_7x7", 2),
     ("sep_conv_7x7", 0), ("avg_pool_3x3", 1), ("max_pool_3x3", 0), ("max_pool_3x3", 1),
     ("conv_1x7_7x1", 0), ("sep_conv_3x3", 5)])

DARTS_V1_NORMAL = cell_from_pairs(
    [("sep_conv_3x3", 1), ("sep_conv_3x3", 0), ("skip_connect", 0), ("sep_conv_3x3", 1),
     ("skip_connect", 0), ("sep_conv_3x3", 1), ("sep_conv_3x3", 0), ("skip_connect", 2)])
DARTS_V1_REDUCE = cell_from_pairs(
    [("max_pool_3x3", 0), ("max_pool_3x3", 1), ("skip_connect", 2), ("max_pool_3x3", 0),
     ("max_pool_3x3", 0), ("skip_connect", 2), ("skip_connect", 2), ("avg_pool_3x3", 0)])
DARTS_V2_NORMAL = cell_from_pairs(
    [("sep_conv_3x3", 0), ("sep_conv_3x3", 1), ("sep_conv_3x3", 0), ("sep_conv_3x3", 1),
     ("sep_conv_3x3", 1), ("skip_connect", 0), ("skip_connect", 0), ("dil_conv_3x3", 2)])
DARTS_V2_REDUCE = cell_from_pairs(
    [("max_pool_3x3", 0), ("max_pool_3x3", 1), ("skip_connect", 2), ("max_pool_3x3", 1),
     ("max_pool_3x3", 0), ("skip_connect", 2), ("skip_connect", 2), ("max_pool_3x3", 1)])

_CIFAR = dict(stem="cifar", num_classes=10, resolution=32, stem_multiplier=3)
_IMAGENET = dict(stem="imagenet", num_classes=1000, resolution=224)

NAMED: Mapping[str, CellSpec] = MappingProxyType({
    # NASNet-A: "N @ P" with P = 6 x 4 x F filters in the last stage (TF slim configs).
    "nasnet_a_cifar": CellSpec(NASNET_A_NORMAL, NASNET_A_REDUCE, n=6, filters=32, wiring="nasnet", **_CIFAR),
    "nasnet_a_mobile": CellSpec(NASNET_A_NORMAL, NASNET_A_REDUCE, n=4, filters=44, wiring="nasnet",
                                stem_multiplier=1, **_IMAGENET),
    "nasnet_a_large": CellSpec(NASNET_A_NORMAL, NASNET_A_REDUCE, n=6, filters=168, wiring="nasnet",
                               stem_multiplier=3, **{**_IMAGENET, "resolution": 331}),
    # AmoebaNet-A: the paper's CIFAR (N=6, F=36) and mobile ImageNet (N=4, F=50) settings.
    "amoebanet_a_cifar": CellSpec(AMOEBANET_A_NORMAL, AMOEBANET_A_REDUCE, n=6, filters=36, wiring="nasnet",
                                  **_CIFAR),
    "amoebanet_a_mobile": CellSpec(AMOEBANET_A_NORMAL, AMOEBANET_A_REDUCE, n=4, filters=50, wiring="nasnet",
                                   stem_multiplier=1, **_IMAGENET),
    # DARTS: CIFAR 20 cells (N=6) @ 36, ImageNet mobile 14 cells (N=4) @ 48.
    "darts_v1": CellSpec(DARTS_V1_NORMAL, DARTS_V1_REDUCE, n=6, filters=36, wiring="darts", **_CIFAR),
    "darts_v2": CellSpec(DARTS_V2_NORMAL, DARTS_V2_REDUCE, n=6, filters=36, wiring="darts", **_CIFAR),
    "darts_v2_imagenet": CellSpec(DARTS_V2_NORMAL, DARTS_V2_REDUCE, n=4, filters=48, wiring="darts",
                                  **_IMAGENET),
})
