"""Xception and DPN-92 as named macro specs, each with the source of the parameter count it is held
to exactly (tests/test_macro_xdpn.py):

    xception  Chollet 2017, "Xception: Deep Learning with Depthwise Separable Convolutions", Fig. 5,
              at 299 x 299; the paper gives 22.8M; the Keras model and its PyTorch port
              (Cadene's pretrained-models, timm ``xception``) have 22,855,952. The stem's two 3x3
              convs are unpadded (299 -> 149 -> 147), so the entry flow ends at 19 x 19 and the
              exit flow at 10 x 10.
    dpn92     Chen et al. 2017, "Dual Path Networks", Table 1 (37.8M), at 224 x 224; the authors'
              MXNet code (cypw/DPNs, ``symbol_dpn-92``: k_R 96, G 32, blocks 3/4/20/3, increments
              16/32/24/128) and timm ``dpn92`` have 37,668,392, which we match (the table rounds
              up). 6.50 GMACs, the authors' "6.5 GFLOPs". Each stage is written with its final
              width, ``residual + (r + 2) x growth``: the first block projects to residual + 3 x
              growth and every later one adds ``growth`` (see ``plan.STEPPED``). The final BN -> ReLU
              before the pool is the authors' (timm's port uses ELU there; no parameter differs).
"""
from __future__ import annotations

from search_spaces.macro.archs import macro
from search_spaces.macro.spec import MacroSpec


def xception(tail: str = "classes1000 res299") -> MacroSpec:
    """Entry flow (stem, three strided blocks), middle flow (8 blocks of 3 separable convs), exit flow."""
    return macro("conv s2 c32 padding=0", "conv c64 padding=0",
                 "xception_block s2 c128 start_with_relu=false", "xception_block s2 c256", "xception_block s2 c728",
                 "xception_block r8 c728 reps=3", "xception_block s2 c1024 grow_first=false",
                 "xception_sep_conv c1536", "xception_sep_conv c2048", "pool1", tail=tail)


def dpn(stem: int, stages: tuple[tuple[int, int, int], ...], groups: int = 32, bottleneck: float = 3 / 8,
        tail: str = "classes1000 res224") -> MacroSpec:
    """A 7x7 stem and max pool, then per stage (repeats, residual width, growth); the 3x3 width is
    ``bottleneck`` x the residual width (DPN-92's k_R = 96 per 256)."""
    parts = [f"conv s2 c{stem} kernel=7 eps=0.001", "maxpool s2 padding=1"]
    for i, (r, residual, growth) in enumerate(stages):
        mid = int(residual * bottleneck)
        parts.append(f"dual_path_block r{r}" + (" s2" if i else "") + f" c{residual + (r + 2) * growth} "
                     f"residual_chs={residual} growth={growth} groups={groups} bottleneck={mid}")
    return macro(*parts, "bn eps=0.001", "pool1", tail=tail)


XDPN = {
    "xception": xception(),
    "dpn92": dpn(64, ((3, 256, 16), (4, 512, 32), (20, 1024, 24), (3, 2048, 128))),
}
