"""Xception (Chollet 2017) and DPN-92 (Chen et al. 2017) as named macro specs: exact parameter counts
of the reference implementations, analytic cost equal to the built module (parameters, and
FlopCounterMode / 2 on the meta device), the papers' feature-map sizes, the dual-path block's
two paths, and a CIFAR-sized forward with finite logits."""
from __future__ import annotations

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

import cells
from search_spaces.macro.archs_all import NAMED
from search_spaces.macro.archs_xdpn import XDPN, dpn, xception
from search_spaces.macro.build import build
from search_spaces.macro.plan import network_cost, plan
from search_spaces.macro.spec import parse_network
from macro_helpers import meta_counts, n_params

pytestmark = pytest.mark.usefixtures("one_thread")

# Keras' Xception and its PyTorch port (Cadene, timm ``xception``); timm ``dpn92`` (= the authors'
# MXNet symbol). The papers print 22.8M and 37.8M.
EXACT = {"xception": 22_855_952, "dpn92": 37_668_392}
PAPER = {"xception": 22.8e6, "dpn92": 37.8e6}
# Analytic MACs at 299 and 224; the DPN authors list DPN-92 at "6.5 GFLOPs" (multiply-adds).
MACS = {"xception": 8_357_403_496, "dpn92": 6_501_684_224}


def test_named_in_the_catalog():
    assert set(XDPN) == {"xception", "dpn92"}
    assert all(NAMED[name] is spec for name, spec in XDPN.items())
    assert XDPN["xception"].resolution == 299 and XDPN["dpn92"].resolution == 224


@pytest.mark.parametrize("name", sorted(XDPN))
def test_parameters_equal_the_reference_and_the_built_module(name):
    spec = XDPN[name]
    params = network_cost(spec).params
    assert params == EXACT[name]
    assert abs(params - PAPER[name]) <= 0.01 * PAPER[name]  # the papers round to 0.1M
    with torch.device("meta"):
        assert n_params(build(spec)) == params
    assert parse_network(spec.to_str()) == spec


def test_dpn92_count_from_the_authors_configuration():
    """An independent tally of the authors' DPN-92 symbol (k_R 96, G 32, k_sec 3/4/20/3, inc_sec
    16/32/24/128): pre-activation BN (2 parameters a channel) before every conv, a projection
    1x1 to bw + 2 inc at each stage start, a final BN and a 1000-way classifier with bias."""
    total = 3 * 64 * 49 + 2 * 64  # 7x7 stem conv + BN
    chs = 64
    for bw, blocks, inc in ((256, 3, 16), (512, 4, 32), (1024, 20, 24), (2048, 3, 128)):
        r = 96 * bw // 256
        for i in range(blocks):
            if i == 0:
                total += 2 * chs + chs * (bw + 2 * inc)
            total += 2 * chs + chs * r + 2 * r + r * (r // 32) * 9 + 2 * r + r * (bw + inc)
            chs = bw + 3 * inc if i == 0 else chs + inc
    total += 2 * chs + chs * 1000 + 1000
    assert chs == 2688 and total == EXACT["dpn92"]


@pytest.mark.parametrize("name", sorted(XDPN))
def test_analytic_macs_equal_flop_counter(name):
    spec = XDPN[name]
    assert network_cost(spec).macs == meta_counts(spec)[1] == MACS[name]
    if name == "dpn92":
        assert abs(MACS[name] - 6.5e9) <= 0.01 * 6.5e9


def test_xception_feature_maps_at_299():
    """The stem's unpadded 3x3s give 147; the entry flow ends at 19x19 (728), the middle flow keeps
    it, the exit flow's strided block gives 10x10 and the last separable conv 2048 channels."""
    parts = [p for p in plan(XDPN["xception"]) if p.stage]
    by_stage = {p.stage: p for p in parts}  # the last block of each stage
    assert [(by_stage[s].chs, by_stage[s].h) for s in (1, 2, 3, 4, 5)] == [
        (32, 149), (64, 147), (128, 74), (256, 37), (728, 19)]
    middle = [p for p in parts if p.stage == 6]
    assert len(middle) == 8 and all((p.chs, p.h, p.w) == (728, 19, 19) for p in middle)
    assert [(p.chs, p.h, p.w) for p in parts[-3:]] == [(1024, 10, 10), (1536, 10, 10), (2048, 10, 10)]


def test_dpn92_stage_widths_and_sizes():
    """Each stage opens with a projection to residual + 3 x growth and adds growth per block."""
    parts = [p for p in plan(XDPN["dpn92"]) if p.op == "dual_path_block"]
    firsts = [p for p in parts if p.name.endswith(".b1")]
    assert [(p.chs, p.h) for p in firsts] == [(304, 56), (608, 28), (1096, 14), (2432, 7)]
    lasts = [parts[i - 1] for i, p in enumerate(parts) if p.name.endswith(".b1") and i] + [parts[-1]]
    assert [(p.chs, p.h) for p in lasts] == [(336, 56), (704, 28), (1552, 14), (2688, 7)]
    assert len(parts) == 3 + 4 + 20 + 3


def _costs_match(name: str, in_chs: int, out_chs: int, stride: int, hw: tuple[int, int], **options) -> torch.Tensor:
    m = cells.create(name, in_chs, out_chs, stride, **options)
    x = torch.randn(2, in_chs, *hw)
    with FlopCounterMode(display=False) as counter:
        y = m(x)
    c = cells.cost(name, in_chs, out_chs, stride, *hw, **options)
    assert c.params == n_params(m) and c.macs == counter.get_total_flops() / 2 / 2
    assert cells.out_size(name, *hw, stride, **options) == tuple(y.shape[2:])
    return y


@pytest.mark.parametrize("name,in_chs,out_chs,stride,options", [
    ("xception_block", 16, 24, 2, dict(reps=3, grow_first=False, start_with_relu=False)),
    ("xception_block", 16, 16, 1, dict(reps=3)),
    ("xception_sep_conv", 16, 24, 2, dict(kernel=5, act="none")),
    ("dual_path_block", 40, 44, 1, dict(residual_chs=32, growth=4, groups=4)),
    ("dual_path_block", 40, 44, 1, dict(residual_chs=32, growth=4, groups=4, project=True)),
    ("dual_path_block", 40, 60, 2, dict(residual_chs=48, growth=4, groups=8, bottleneck=24)),
])
def test_options_keep_cost_equal_to_the_module(name, in_chs, out_chs, stride, options):
    y = _costs_match(name, in_chs, out_chs, stride, (9, 6), **options)
    assert y.shape[1] == out_chs and torch.isfinite(y).all()


def test_plain_dual_path_block_adds_the_residual_and_appends_the_dense_path():
    torch.manual_seed(0)
    m = cells.create("dual_path_block", 40, 44, 1, residual_chs=32, growth=4, groups=4).eval()
    assert m.project is None
    x = torch.randn(2, 40, 5, 5)
    new = m.c(m.b(m.a(x)))
    y = m(x)
    assert torch.allclose(y[:, :32], x[:, :32] + new[:, :32])  # residual path: added
    assert torch.equal(y[:, 32:40], x[:, 32:40])  # old dense channels: carried unchanged
    assert torch.equal(y[:, 40:], new[:, 32:])  # growth: appended
    assert all(bn.eps == 1e-3 for bn in m.modules() if isinstance(bn, torch.nn.BatchNorm2d))


@pytest.mark.parametrize("options,match", [
    (dict(growth=4), "needs residual_chs"),
    (dict(residual_chs=48, growth=4), "exceeds in_chs"),
    (dict(residual_chs=32, growth=4, groups=4, bottleneck=10), "multiple of groups"),
    (dict(residual_chs=32, growth=0), "growth"),
])
def test_impossible_dual_path_widths_name_the_field(options, match):
    with pytest.raises(ValueError, match=match):
        cells.cost("dual_path_block", 40, 44, 1, 8, **options)
    with pytest.raises(ValueError, match=match):
        cells.create("dual_path_block", 40, 44, 1, **options)


def test_a_stepped_dual_path_stage_needs_its_growth():
    with pytest.raises(ValueError, match="growth"):
        plan(parse_network("macro:conv c16, dual_path_block r3 c64 residual_chs=32, pool1, classes10 res32"))


@pytest.mark.parametrize("spec", [
    xception(tail="classes10 res32"),
    dpn(16, ((2, 32, 8), (2, 64, 16)), groups=4, tail="classes10 res32"),
], ids=["xception", "dpn_small"])
def test_cifar_sized_variant_gives_finite_logits(spec):
    torch.manual_seed(0)
    model = build(spec).train()
    assert n_params(model) == network_cost(spec).params
    logits = model(torch.randn(2, 3, 32, 32))
    assert logits.shape == (2, 10) and torch.isfinite(logits).all()


def test_dpn92_stage_view_reads_like_the_papers_table():
    from search_spaces.macro.graph import to_graph

    labels = [attrs["label"] for _, attrs in to_graph(XDPN["dpn92"], "stage").nodes(data=True)]
    assert "[1x1, 96; 3x3, 96, G=32; 1x1, 256 (+16)] x 3" in labels
    assert "[1x1, 768; 3x3, 768, G=32; 1x1, 2048 (+128)] x 3" in labels
