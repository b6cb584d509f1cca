"""Compound scaling (Tan & Le 2019, "EfficientNet: Rethinking Model Scaling for CNNs"), as pure
functions on specs.

Depth d = alpha^phi, width w = beta^phi, resolution r = gamma^phi, under alpha * beta^2 * gamma^2 ~ 2
so that each step of phi roughly doubles the FLOPs. Filters round to multiples of 8, never more
than 10% below the target (the MobileNet/TPU reference rule); repeats round up.

The released B1..B7 are not the formula's output. With the paper's (1.2, 1.1, 1.15), ``compound``
gives (depth, width, resolution at 224):

    phi=1: 1.200, 1.100, 257.6      B1 table: 1.1, 1.0, 240     B2 table: 1.2, 1.1, 260
    phi=2: 1.440, 1.210, 296.2      B3 table: 1.4, 1.2, 300
    phi=3: 1.728, 1.331, 340.7      B4 table: 1.8, 1.4, 380
    phi=4: 2.074, 1.464, 391.8      B5 table: 2.2, 1.6, 456
    phi=5: 2.488, 1.611, 450.5      B6 table: 2.6, 1.8, 528
    phi=6: 2.986, 1.772, 518.1      B7 table: 3.1, 2.0, 600
    phi=7: 3.583, 1.949, 595.8

So the table's B(n+1) is close to the formula at phi=n for n <= 2 (B1 is a hand-made half step), and
from B4 on the table grows faster than the formula, most of all in resolution. ``COEFFICIENTS``
holds the table as released (the TPU reference's ``efficientnet_params``, torchvision's builders);
the named EfficientNets use it, not the formula.
"""
from __future__ import annotations

import math
from typing import Any, NamedTuple


class Coefficients(NamedTuple):
    width: float
    depth: float
    resolution: int
    dropout: float


COEFFICIENTS: dict[str, Coefficients] = {
    "b0": Coefficients(1.0, 1.0, 224, 0.2),
    "b1": Coefficients(1.0, 1.1, 240, 0.2),
    "b2": Coefficients(1.1, 1.2, 260, 0.3),
    "b3": Coefficients(1.2, 1.4, 300, 0.3),
    "b4": Coefficients(1.4, 1.8, 380, 0.4),
    "b5": Coefficients(1.6, 2.2, 456, 0.4),
    "b6": Coefficients(1.8, 2.6, 528, 0.5),
    "b7": Coefficients(2.0, 3.1, 600, 0.5),
}

# The paper's grid-search result for B0 (section 3.3).
ALPHA, BETA, GAMMA = 1.2, 1.1, 1.15


def round_filters(chs: float, width: float = 1.0, divisor: int = 8) -> int:
    """``chs * width`` to the nearest multiple of ``divisor`` (at least ``divisor``), bumped up one
    step where rounding would fall more than 10% below the target."""
    if not chs > 0 or not width > 0:
        raise ValueError(f"round_filters: chs and width must be positive, got chs={chs!r}, width={width!r}")
    if not isinstance(divisor, int) or divisor < 1:
        raise ValueError(f"round_filters: divisor must be a positive int, got {divisor!r}")
    target = chs * width
    rounded = max(divisor, int(target + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * target:
        rounded += divisor
    return int(rounded)


def round_repeats(repeats: int, depth: float = 1.0) -> int:
    """Layers per stage under depth multiplier ``depth``: always rounded up. The product is first
    rounded to 9 decimals so float noise (10 * 1.1 = 11.000000000000002) does not add a layer;
    torchvision's plain ceil would, but no B0..B7 stage meets such a case."""
    if not depth > 0:
        raise ValueError(f"round_repeats: depth must be positive, got {depth!r}")
    return int(math.ceil(round(repeats * depth, 9)))


def compound(phi: float, alpha: float = ALPHA, beta: float = BETA, gamma: float = GAMMA) -> tuple[float, float, float]:
    """(depth, width, resolution) multipliers for compound coefficient ``phi``."""
    for name, value in (("alpha", alpha), ("beta", beta), ("gamma", gamma)):
        if not value >= 1.0:
            raise ValueError(f"compound: {name} must be >= 1 (the paper's constraint), got {value!r}")
    return alpha ** phi, beta ** phi, gamma ** phi


def flops_factor(alpha: float, beta: float, gamma: float) -> float:
    """FLOPs growth per unit of phi: depth scales FLOPs linearly, width and resolution squared."""
    return alpha * beta ** 2 * gamma ** 2


def check_constraint(alpha: float, beta: float, gamma: float, *, target: float = 2.0, tol: float = 0.1) -> bool:
    """Whether alpha * beta^2 * gamma^2 is within ``tol`` (relative) of ``target``; the paper's
    own (1.2, 1.1, 1.15) gives 1.92, hence the default 10%."""
    return abs(flops_factor(alpha, beta, gamma) - target) <= tol * target


def check_multipliers(width: float, depth: float, resolution: float) -> None:
    for name, value in (("width", width), ("depth", depth), ("resolution", resolution)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise ValueError(f"scale: {name} must be a positive multiplier, got {value!r}")


def scale(spec: Any, *, width: float = 1.0, depth: float = 1.0, resolution: float = 1.0) -> Any:
    """The spec scaled by multipliers ``width``, ``depth`` and ``resolution`` (input side becomes
    ``round(resolution * spec.resolution)``), by its own space's rule (``SearchSpace.scale``):
    block specs round every width with ``round_filters`` and repeats with ``round_repeats``; cell
    specs map depth to N and width to F."""
    from search_spaces.catalog import space_for
    check_multipliers(width, depth, resolution)
    return space_for(spec).scale(spec, width=width, depth=depth, resolution=resolution)
