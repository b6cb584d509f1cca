"""The Inception family at 299 x 299 as named macro specs, each held to the parameter count of its
reference implementation at 1000 classes (tests/test_macro_inception.py):

    inception_v3         Szegedy et al. 2016, "Rethinking the Inception Architecture", Table 1 /
                         Figures 5-7 and 10, in torchvision 0.29.1's layout (``inception_v3``,
                         aux_logits=False): 23,834,568, checked against the live torchvision model
    inception_v4         Szegedy et al. 2017, "Inception-v4, Inception-ResNet and the Impact of
                         Residual Connections", Figures 3-9, in timm's layout (``inception_v4``,
                         ported from the released TensorFlow model): 42,679,816
    inception_resnet_v2  the same paper, Figures 15-19 and Table 1 (k, l, m, n), in timm's layout
                         (``inception_resnet_v2``): 55,843,464. Figure 15 draws Inception-v4's stem;
                         the released model, and timm, use Inception-v3's conv stem then Mixed_5b
                         (torchvision's InceptionA with TensorFlow pooling, 320 channels), as here

The papers' reductions are unpadded (``valid=true``), so the grids are 35, 17 and 8 as the
papers draw them. The stems' plain convs are ``conv`` layers with ``padding=0`` where the papers
mark "V" (valid); every conv is BasicConv2d (BN eps 0.001, ReLU).
"""
from __future__ import annotations

from search_spaces.macro.archs import macro
from search_spaces.macro.spec import MacroSpec

TAIL = "classes1000 res299"
CONV = "eps=0.001"
# The first three convs of the v4 paper's Figure 3, as of v3's Table 1 (torchvision's Conv2d_1a-2b):
# 299 -> 149 -> 147 -> 147.
STEM = (f"conv s2 c32 padding=0 {CONV}", f"conv c32 padding=0 {CONV}", f"conv c64 {CONV}")
# v3's and Inception-ResNet-v2's: max pool, 1x1 80, 3x3 192 (valid), max pool: 147 -> 73 -> 71 -> 35.
STEM_V3 = (*STEM, "maxpool s2", f"conv c80 kernel=1 {CONV}", f"conv c192 padding=0 {CONV}", "maxpool s2")


def _opts(**widths: int) -> str:
    return " ".join(f"{k}={v}" for k, v in widths.items())


def _inception_v3() -> MacroSpec:
    a = "inception_v3_a branch2_kernel=5 ch1x1=64 ch3x3red=48 ch3x3=64 dblred=64 dbl=96"
    b = "inception_v3_b ch1x1=192 ch7x7=192 dbl=192 pool_proj=192"
    c = "inception_v3_c ch1x1=320 ch3x3red=384 ch3x3=384 dblred=448 dbl=384 pool_proj=192"
    return macro(*STEM_V3, f"{a} c256 pool_proj=32", f"{a} r2 c288 pool_proj=64",
                 "inception_v3_reduce_a s2 c768 valid=true",
                 *(f"{b} c768 {_opts(ch7x7red=c7, dblred=c7)}" for c7 in (128, 160, 160, 192)),
                 "inception_v3_reduce_b s2 c1280 valid=true", f"{c} r2 c2048",
                 "pool1", tail=f"{TAIL} drop0.5")


def _inception_v4() -> MacroSpec:
    stem = (*STEM, "inception_v4_stem_a s2 c160 valid=true", "inception_v4_stem_b c192 valid=true",
            "inception_v4_stem_c s2 c384 valid=true")
    # The paper's "Dropout (keep 0.8)" before the classifier.
    return macro(*stem, "inception_v4_a r4 c384", "inception_v4_reduce_a s2 c1024 valid=true",
                 "inception_v4_b r7 c1024", "inception_v4_reduce_b s2 c1536 valid=true", "inception_v4_c r3 c1536",
                 "pool1", tail=f"{TAIL} drop0.2")


def _inception_resnet_v2() -> MacroSpec:
    mixed_5b = "inception_v3_a c320 branch2_kernel=5 count_pad=false " + _opts(
        ch1x1=96, ch3x3red=48, ch3x3=64, dblred=64, dbl=96, pool_proj=64)
    return macro(*STEM_V3, mixed_5b, "inception_resnet_v2_a r10 c320 scale=0.17",
                 "inception_v4_reduce_a s2 c1088 valid=true " + _opts(k=256, l=256, m=384, n=384),
                 "inception_resnet_v2_b r20 c1088 scale=0.1", "inception_resnet_v2_reduce_b s2 c2080 valid=true",
                 "inception_resnet_v2_c r9 c2080 scale=0.2", "inception_resnet_v2_c c2080 relu=false",
                 f"conv c1536 kernel=1 {CONV}", "pool1", tail=f"{TAIL} drop0.2")


INCEPTION = {
    "inception_v3": _inception_v3(),
    "inception_v4": _inception_v4(),
    "inception_resnet_v2": _inception_resnet_v2(),
}
