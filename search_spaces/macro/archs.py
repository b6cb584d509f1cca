"""The classic image-classification networks as named macro specs, written the way the papers'
tables read, with torchvision 0.29.1's layouts where torchvision has the network (parameter
counts equal to its models' exactly at 1000 classes; see tests/test_macro_archs.py):

    AlexNet (Krizhevsky et al. 2012; torchvision's one-GPU variant, Krizhevsky 2014)
    VGG-11/13/16/19 with and without BN (Simonyan & Zisserman 2015, Table 1, configurations A, B, D, E)
    GoogLeNet (Szegedy et al. 2015, Table 1; no auxiliary heads)
    ResNet-18/34/50/101/152 (He et al. 2016, Table 1), ResNeXt-50 32x4d / -101 32x8d (Xie et al.
    2017), Wide ResNet-50-2 (Zagoruyko & Komodakis 2016)
    DenseNet-121/169/201 (Huang et al. 2017, Table 1)
    SqueezeNet 1.0 / 1.1 (Iandola et al. 2016)
    MobileNetV2 (Sandler et al. 2018, Table 2), MobileNetV3-Large/-Small (Howard et al. 2019, Tables 1-2)
    ShuffleNet V2 x0.5 / x1.0 / x1.5 / x2.0 (Ma et al. 2018, Table 5)

The CIFAR variants and the networks torchvision lacks are in ``archs_more``.
"""
from __future__ import annotations

from search_spaces.macro.spec import PREFIX, MacroSpec, parse_network

RESNET_STEM = "conv s2 c64 kernel=7, maxpool s2 padding=1"


def macro(*parts: str, tail: str = "classes1000 res224") -> MacroSpec:
    return parse_network(PREFIX + ", ".join(parts + (tail,)))


def resnet(block: str, repeats: tuple[int, ...], widths: tuple[int, ...], options: str = "") -> MacroSpec:
    stages = [f"{block} r{r}" + (" s2" if i else "") + f" c{c}" + (f" {options}" if options else "")
              for i, (r, c) in enumerate(zip(repeats, widths))]
    return macro(RESNET_STEM, *stages, "pool1")


BASIC = (64, 128, 256, 512)
BOTTLENECK = (256, 512, 1024, 2048)


def vgg(config: str, bn: bool) -> MacroSpec:
    """Table 1's columns as (repeats, width) runs, each followed by a 2x2 max pool."""
    runs = {"A": (1, 1, 2, 2, 2), "B": (2, 2, 2, 2, 2), "D": (2, 2, 3, 3, 3), "E": (2, 2, 4, 4, 4)}[config]
    conv = "bias=true" + ("" if bn else " bn=false")
    stages = []
    for r, c in zip(runs, (64, 128, 256, 512, 512)):
        stages += [f"conv r{r} c{c} {conv}", "maxpool s2 kernel=2"]
    return macro(*stages, "pool7", "fc c4096", "fc c4096 drop=0.5", tail="classes1000 res224 drop0.5")


ALEXNET = macro("conv s4 c64 kernel=11 padding=2 bias=true bn=false", "maxpool s2",
                "conv c192 kernel=5 bias=true bn=false", "maxpool s2",
                "conv c384 bias=true bn=false", "conv r2 c256 bias=true bn=false", "maxpool s2",
                "pool6", "fc c4096 drop=0.5", "fc c4096 drop=0.5")


def _inception(c: int, widths: tuple[int, ...]) -> str:
    names = ("ch1x1", "ch3x3red", "ch3x3", "ch5x5red", "ch5x5", "pool_proj")
    return f"inception_v1 c{c} branch3_kernel=3 " + " ".join(f"{n}={w}" for n, w in zip(names, widths))


# torchvision keeps a 3x3 in the "5x5" branch (branch3_kernel=3) for the weights it ships.
GOOGLENET = macro(
    "conv s2 c64 kernel=7 eps=0.001", "maxpool s2 ceil=true", "conv c64 kernel=1 eps=0.001",
    "conv c192 eps=0.001", "maxpool s2 ceil=true",
    _inception(256, (64, 96, 128, 16, 32, 32)), _inception(480, (128, 128, 192, 32, 96, 64)), "maxpool s2 ceil=true",
    _inception(512, (192, 96, 208, 16, 48, 64)), _inception(512, (160, 112, 224, 24, 64, 64)),
    _inception(512, (128, 128, 256, 24, 64, 64)), _inception(528, (112, 144, 288, 32, 64, 64)),
    _inception(832, (256, 160, 320, 32, 128, 128)), "maxpool s2 kernel=2 ceil=true",
    _inception(832, (256, 160, 320, 32, 128, 128)), _inception(1024, (384, 192, 384, 48, 128, 128)),
    "pool1", tail="classes1000 res224 drop0.2")


def densenet(blocks: tuple[int, ...], growth: int = 32, init: int = 64) -> MacroSpec:
    """Dense blocks of ``blocks`` layers, transitions halving the width (compression 0.5)."""
    stages, chs = [RESNET_STEM.replace("c64", f"c{init}")], init
    for i, layers in enumerate(blocks):
        chs += layers * growth
        stages.append(f"dense_layer r{layers} c{chs}")
        if i < len(blocks) - 1:
            chs //= 2
            stages.append(f"dense_transition s2 c{chs}")
    return macro(*stages, "bn", "pool1")


def squeezenet(version: str) -> MacroSpec:
    pool = "maxpool s2 ceil=true"
    if version == "1_0":
        body = ["conv s2 c96 kernel=7 padding=0 bias=true bn=false", pool, "fire r2 c128", "fire c256", pool,
                "fire c256", "fire r2 c384", "fire c512", pool, "fire c512"]
    else:
        body = ["conv s2 c64 padding=0 bias=true bn=false", pool, "fire r2 c128", pool, "fire r2 c256", pool,
                "fire r2 c384", "fire r2 c512"]
    return macro(*body, "pool1", tail="classes1000 res224 drop0.5 classifier=conv")


MOBILENET_V2 = macro(
    "conv s2 c32 act=relu6", "mbconv c16 act=relu6", "mbconv r2 s2 c24 expand=6 act=relu6",
    "mbconv r3 s2 c32 expand=6 act=relu6", "mbconv r4 s2 c64 expand=6 act=relu6", "mbconv r3 c96 expand=6 act=relu6",
    "mbconv r3 s2 c160 expand=6 act=relu6", "mbconv c320 expand=6 act=relu6", "conv c1280 kernel=1 act=relu6",
    "pool1", tail="classes1000 res224 drop0.2")


def _v3(rows: list[str], last: int, hidden: int) -> MacroSpec:
    """Rows ``"s c k mid se act [r]"`` of the paper's Tables 1-2 (torchvision's ``bneck_conf``)."""
    stages = ["conv s2 c16 act=hswish eps=0.001"]
    for row in rows:
        s, c, k, mid, se, act, *r = row.split()
        stages.append(f"mbconv_v3 r{r[0] if r else 1} s{s} c{c} kernel={k} mid={mid} se={se} act={act}")
    return macro(*stages, f"conv c{last} kernel=1 act=hswish eps=0.001", "pool1", f"fc c{hidden} act=hswish",
                 tail="classes1000 res224 drop0.2")


MOBILENET_V3_LARGE = _v3(["1 16 3 16 false relu", "2 24 3 64 false relu", "1 24 3 72 false relu",
                          "2 40 5 72 true relu", "1 40 5 120 true relu 2", "2 80 3 240 false hswish",
                          "1 80 3 200 false hswish", "1 80 3 184 false hswish 2", "1 112 3 480 true hswish",
                          "1 112 3 672 true hswish", "2 160 5 672 true hswish", "1 160 5 960 true hswish 2"],
                         960, 1280)
MOBILENET_V3_SMALL = _v3(["2 16 3 16 true relu", "2 24 3 72 false relu", "1 24 3 88 false relu",
                          "2 40 5 96 true hswish", "1 40 5 240 true hswish 2", "1 48 5 120 true hswish",
                          "1 48 5 144 true hswish", "2 96 5 288 true hswish", "1 96 5 576 true hswish 2"],
                         576, 1024)


def shufflenet_v2(widths: tuple[int, int, int, int]) -> MacroSpec:
    """Table 5: stages of 4, 8, 4 units after a 24-channel stem, then a 1x1 conv."""
    stages = [f"shuffle_v2 r{r} s2 c{c}" for r, c in zip((4, 8, 4), widths[:3])]
    return macro("conv s2 c24", "maxpool s2 padding=1", *stages, f"conv c{widths[3]} kernel=1", "pool1")


TORCHVISION = {
    "alexnet": ALEXNET,
    **{f"vgg{n}{'_bn' if bn else ''}": vgg(c, bn) for n, c in ((11, "A"), (13, "B"), (16, "D"), (19, "E"))
       for bn in (False, True)},
    "googlenet": GOOGLENET,
    "resnet18": resnet("basic_block", (2, 2, 2, 2), BASIC),
    "resnet34": resnet("basic_block", (3, 4, 6, 3), BASIC),
    "resnet50": resnet("bottleneck", (3, 4, 6, 3), BOTTLENECK),
    "resnet101": resnet("bottleneck", (3, 4, 23, 3), BOTTLENECK),
    "resnet152": resnet("bottleneck", (3, 8, 36, 3), BOTTLENECK),
    "resnext50_32x4d": resnet("bottleneck", (3, 4, 6, 3), BOTTLENECK, "groups=32 base_width=4"),
    "resnext101_32x8d": resnet("bottleneck", (3, 4, 23, 3), BOTTLENECK, "groups=32 base_width=8"),
    "wide_resnet50_2": resnet("bottleneck", (3, 4, 6, 3), BOTTLENECK, "base_width=128"),
    "densenet121": densenet((6, 12, 24, 16)),
    "densenet169": densenet((6, 12, 32, 32)),
    "densenet201": densenet((6, 12, 48, 32)),
    "squeezenet1_0": squeezenet("1_0"),
    "squeezenet1_1": squeezenet("1_1"),
    "mobilenet_v2": MOBILENET_V2,
    "mobilenet_v3_large": MOBILENET_V3_LARGE,
    "mobilenet_v3_small": MOBILENET_V3_SMALL,
    "shufflenet_v2_x0_5": shufflenet_v2((48, 96, 192, 1024)),
    "shufflenet_v2_x1_0": shufflenet_v2((116, 232, 464, 1024)),
    "shufflenet_v2_x1_5": shufflenet_v2((176, 352, 704, 1024)),
    "shufflenet_v2_x2_0": shufflenet_v2((244, 488, 976, 2048)),
}
