"""Four more papers' networks as named macro specs, each with the source of the parameter count it
is held to (tests/test_macro_early.py):

    lenet5     LeCun et al. 1998 ("Gradient-Based Learning Applied to Document Recognition", Fig. 2),
               in the common modern form: every C3 map reads all six S2 maps, average pools without
               weights, tanh, and a plain linear output instead of the RBF units. On one-channel 32x32
               input with 10 classes that form has 61,706 parameters (C1 156 + C3 2,416 + C5 48,120 +
               F6 10,164 + output 850). The paper's "60,000 trainable parameters" counts its sparse C3
               table (1,516, 60 of the 96 map pairs), the pools' coefficient and bias per map (12 + 32)
               and 840 bias-free RBF weights: 60,840. We build the 61,706 form on the toolkit's RGB
               input: the first conv reads 3 channels, 2 x 6 x 25 = 300 more weights, 62,006 in all.
    zfnet      Zeiler & Fergus 2014 (ECCV; arXiv 2013), "Visualizing and Understanding Convolutional
               Networks", Fig. 3: 7x7/2 conv 96 (padding 1: 224 -> 110), 3x3/2 max pool (55), contrast normalisation,
               5x5/2 conv 256 (26), 3x3/2 pool (13), normalisation, 3x3 convs 384, 384, 256 (dense,
               one GPU), 3x3/2 pool (6), fc 4096 x 2 with dropout 0.5, 1000 classes. Fig. 3's sizes need
               Caffe's ceil-mode pooling for the first two pools (55 and 13, not 54 and 12). The paper
               gives no parameter count; convs and fcs with biases give 62,357,608, which the test
               derives layer by layer (convs 3,726,464; fc6 37,752,832; fc7 16,781,312; fc8 4,097,000).
               The normalisation is AlexNet's LRN (size 5, alpha 1e-4, beta 0.75, k 2): Zeiler & Fergus
               do not give its constants; it has no parameters.
    wrn_28_10  Zagoruyko & Komodakis 2016 ("Wide Residual Networks", its CIFAR results): CIFAR-10,
               depth 28 (n = 4 blocks per group), widening 10: a 3x3 conv of 16, groups of 160, 320, 640
               pre-activation blocks (dropout 0.3), BN-ReLU, global pool. Paper 36.5M; exactly
               36,479,194 in the authors' layout, as osmr/imgclsmob's CIFAR-10 table and PyTorch ports
               print it; the same generator gives the published exact counts of WRN-16-10, -22-8,
               -40-8 and -40-2 too (tests).
    nfnet_f0   Brock et al. 2021 ("High-Performance Large-Scale Image Recognition Without
               Normalization"; train 192, test 256): timm's ``dm_nfnet_f0`` (DeepMind weights'
               layout): deep stem 16-32-64-128 (strides 2, 1, 1, 2), NF bottleneck stages (1, 2, 6, 3)
               of widths 256, 512, 1536, 1536 with alpha 0.2 and beta from the tracked expected
               variance, a 1x1 conv to 3072, GELU, dropout 0.2. 71,489,284 parameters: the paper's
               71.5M and timm's model card's 71.5M rounded; OpenVINO's converted timm model lists
               71.4444M, this count less the 44,912 per-channel WS gains to the printed digits (what folding
               the gains into the weights on conversion gives; timm itself is not installed here).
               12.38 GMACs at the test resolution 256, the paper's "12.38B FLOPs"
               (6.98 GMACs at 192; timm's card gives 7.2 from a profiler not matched here op for op).
"""
from __future__ import annotations

from search_spaces.macro.archs import macro
from search_spaces.macro.spec import MacroSpec

CIFAR = "classes10 res32"

LENET5 = macro("conv c6 kernel=5 padding=0 bias=true bn=false act=tanh", "avgpool s2 kernel=2",
               "conv c16 kernel=5 padding=0 bias=true bn=false act=tanh", "avgpool s2 kernel=2",
               "conv c120 kernel=5 padding=0 bias=true bn=false act=tanh", "pool1", "fc c84 act=tanh", tail=CIFAR)

_LRN = "lrn k=2.0"
ZFNET = macro("conv s2 c96 kernel=7 padding=1 bias=true bn=false", "maxpool s2 ceil=true", _LRN,
              "conv s2 c256 kernel=5 padding=0 bias=true bn=false", "maxpool s2 ceil=true", _LRN,
              "conv r2 c384 bias=true bn=false", "conv c256 bias=true bn=false", "maxpool s2",
              "pool6", "fc c4096 drop=0.5", "fc c4096 drop=0.5")


def wide_resnet(depth: int, widen: int, dropout: float = 0.3) -> MacroSpec:
    """(depth - 4) / 6 pre-activation blocks per group; the stem conv has no BN (the first block's BN-ReLU
    follows it), and a BN-ReLU closes the network before the pool."""
    n = (depth - 4) // 6
    groups = [f"preact_block r{n}" + (" s2" if i else "") + f" c{16 * widen * 2 ** i} dropout={dropout!r}"
              for i in range(3)]
    return macro("conv c16 bn=false act=none", *groups, "bn", "pool1", tail=CIFAR)


def nfnet(depths: tuple[int, ...], widths: tuple[int, ...] = (256, 512, 1536, 1536), alpha: float = 0.2,
          resolution: int = 192, dropout: float = 0.2) -> MacroSpec:
    """One ``nf_block`` part per block, since each block's beta differs: the expected variance of a
    block's input grows by alpha^2 per block and is reset to 1 + alpha^2 after a stage's first block
    (whose projection shortcut re-normalises the signal)."""
    stem = ["ws_conv s2 c16", "ws_conv c32", "ws_conv c64", "ws_conv s2 c128 act=none"]
    blocks, var = [], 1.0
    for stage, (depth, width) in enumerate(zip(depths, widths)):
        for b in range(depth):
            stride = " s2" if stage and not b else ""
            blocks.append(f"nf_block{stride} c{width}" + (f" expected_var={var!r}" if var != 1.0 else ""))
            var = round((1.0 if b == 0 else var) + alpha ** 2, 10)
    return macro(*stem, *blocks, f"ws_conv c{2 * widths[-1]} kernel=1", "pool1",
                 tail=f"classes1000 res{resolution} drop{dropout!r}")


EARLY = {
    "lenet5": LENET5,
    "zfnet": ZFNET,
    "wrn_28_10": wide_resnet(28, 10),
    "nfnet_f0": nfnet((1, 2, 6, 3)),
}
