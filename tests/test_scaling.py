"""Compound scaling (EfficientNet): rounding rules, the formula against the released table, and
scaling of block specs."""
from __future__ import annotations

import math

import numpy as np
import pytest

from search_spaces import scaling
from search_spaces.blocks.archs import EFFICIENTNET_B0, MNASNET_B1
from search_spaces.blocks.plan import network_cost
from search_spaces.scaling import (ALPHA, BETA, COEFFICIENTS, GAMMA, check_constraint, compound, flops_factor,
                                   round_filters, round_repeats, scale)


def test_round_filters_multiples_of_8_never_below_90_percent():
    rng = np.random.default_rng(0)
    for chs, width in zip(rng.integers(1, 2000, 2000), rng.uniform(0.1, 4.0, 2000)):
        out = round_filters(int(chs), float(width))
        target = chs * width
        assert out % 8 == 0 and out >= 8
        assert out >= 0.9 * target and out < target + 8  # never more than one step above either
    # The TPU reference's worked cases: 83 -> 80 (within 10%), 84 -> 88; tiny targets floor at 8.
    assert (round_filters(83), round_filters(84), round_filters(3)) == (80, 88, 8)
    assert [round_filters(c, 1.1) for c in (32, 16, 24, 40, 80, 112, 192, 320, 1280)] == \
        [32, 16, 24, 48, 88, 120, 208, 352, 1408]
    assert round_filters(20, 1.0, divisor=16) == 32
    with pytest.raises(ValueError, match="width must be positive"):
        round_filters(32, 0)


def test_round_repeats_rounds_up():
    assert [round_repeats(r, 1.1) for r in (1, 2, 3, 4)] == [2, 3, 4, 5]
    assert [round_repeats(r, 3.1) for r in (1, 2, 3, 4)] == [4, 7, 10, 13]
    assert round_repeats(3, 1.0) == 3 and round_repeats(10, 1.1) == 11  # not 12 from float noise
    with pytest.raises(ValueError, match="depth must be positive"):
        round_repeats(3, -1.0)


def test_compound_formula_with_the_papers_coefficients():
    assert compound(0) == (1.0, 1.0, 1.0)
    assert compound(1) == (ALPHA, BETA, GAMMA) == (1.2, 1.1, 1.15)
    expected = {  # phi: (depth, width, resolution at 224), as listed in scaling's docstring
        1: (1.200, 1.100, 257.6), 2: (1.440, 1.210, 296.2), 3: (1.728, 1.331, 340.7),
        4: (2.074, 1.464, 391.8), 5: (2.488, 1.611, 450.5), 6: (2.986, 1.772, 518.1), 7: (3.583, 1.949, 595.8),
    }
    for phi, (d, w, r) in expected.items():
        depth, width, res = compound(phi)
        assert (round(depth, 3), round(width, 3), round(224 * res, 1)) == (d, w, r)
    assert flops_factor(1.2, 1.1, 1.15) == pytest.approx(1.92027)
    assert check_constraint(1.2, 1.1, 1.15) and not check_constraint(1.4, 1.2, 1.2)
    with pytest.raises(ValueError, match="beta must be >= 1"):
        compound(1, beta=0.9)


def test_released_table_departs_from_the_formula():
    """The released B1..B7 are hand-picked: B2/B3 sit on the formula's phi=1/2 within rounding,
    while B7's resolution (600) is the formula's at phi=7 but its depth (3.1) is phi~6.2's."""
    d1, w1, r1 = compound(1)
    b2 = COEFFICIENTS["b2"]
    assert (b2.depth, b2.width) == (d1, w1) and abs(b2.resolution - 224 * r1) / b2.resolution < 0.01
    b7 = COEFFICIENTS["b7"]
    assert abs(224 * compound(7)[2] - b7.resolution) < 5
    assert math.log(b7.depth, ALPHA) == pytest.approx(6.2, abs=0.05)
    assert [c.resolution for c in COEFFICIENTS.values()] == [224, 240, 260, 300, 380, 456, 528, 600]


def test_scale_block_spec_channels_repeats_head_and_resolution():
    b4 = scale(EFFICIENTNET_B0, width=1.4, depth=1.8, resolution=380 / 224)
    assert b4.stem == 48 and b4.head == 1792 and b4.resolution == 380
    assert [s.out_chs for s in b4.stages] == [24, 32, 56, 112, 160, 272, 448]
    assert [s.repeats for s in b4.stages] == [2, 4, 4, 6, 6, 8, 2]
    assert [(s.kernel, s.stride, s.expand, s.se_ratio) for s in b4.stages] == \
        [(s.kernel, s.stride, s.expand, s.se_ratio) for s in EFFICIENTNET_B0.stages]
    assert scale(MNASNET_B1) == MNASNET_B1
    # One compound step should grow FLOPs by alpha * beta^2 * gamma^2 = 1.92; on B0 the rounding
    # (ceil turns the two single-block stages into two blocks each) makes it 2.57.
    base = network_cost(EFFICIENTNET_B0).macs
    d, w, r = compound(1)
    ratio = network_cost(scale(EFFICIENTNET_B0, width=w, depth=d, resolution=r)).macs / base
    assert ratio == pytest.approx(2.573, abs=1e-3)


def test_scale_rejects_bad_input():
    with pytest.raises(ValueError, match="width must be a positive multiplier"):
        scale(EFFICIENTNET_B0, width=0)
    with pytest.raises(ValueError, match="resolution must be a positive multiplier"):
        scale(EFFICIENTNET_B0, resolution="2x")
    with pytest.raises(TypeError, match="no search space handles specs of type str"):
        scaling.scale("blocks:stem_c32", width=1.1)


def test_scale_dispatches_cell_networks_to_the_cell_space():
    """Depth -> N, width -> F, the resolution multiplier -> a new input side (cell space's rule)."""
    from search_spaces.cell import space as cell_space
    spec = next(iter(cell_space.NAMED.values()))
    scaled = scale(spec, width=2.0, depth=1.5, resolution=2.0)
    assert type(scaled) is type(spec)
    assert scaled.n == math.ceil(spec.n * 1.5) and scaled.filters == round_filters(spec.filters, 2.0)
    assert scaled.resolution == 2 * spec.resolution
    assert scale(spec) == spec
