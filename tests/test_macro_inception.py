"""The Inception family (search_spaces/macro/archs_inception.py) against its references:
Inception-v3's parameters and logits equal torchvision 0.29.1's live ``inception_v3`` (its weights
loaded by order, BN statistics randomised); Inception-v4 and Inception-ResNet-v2 equal timm's
counts exactly; analytic MACs equal FlopCounterMode / 2 of the built networks at 299 (meta
device); the grids are the papers' 35, 17 and 8; the unpadded (``valid``) entries keep the
geometry they declare to the registry."""
from __future__ import annotations

import pytest
import torch
import torchvision.models as tvm
from torch.utils.flop_counter import FlopCounterMode

import cells
from search_spaces.blocks.build import load_ordered_state_dict
from search_spaces.macro import MacroSpace
from search_spaces.macro.archs_all import NAMED
from search_spaces.macro.archs_inception import INCEPTION
from search_spaces.macro.build import build
from search_spaces.macro.plan import network_cost, plan
from macro_helpers import meta_counts, n_params, randomise_bn

pytestmark = pytest.mark.usefixtures("one_thread")

# torchvision's inception_v3 without the auxiliary head; timm's inception_v4 and inception_resnet_v2.
REFERENCE = {"inception_v3": 23_834_568, "inception_v4": 42_679_816, "inception_resnet_v2": 55_843_464}
# Our analytic MACs at 299 (torchvision's card for inception_v3 lists 5.71 GFLOPS, its name for MACs).
GMACS = {"inception_v3": 5.713, "inception_v4": 12.254, "inception_resnet_v2": 13.156}
VALID_ENTRIES = sorted(n for n in cells.OPS if "reduce" in n or "stem" in n)


def torchvision_v3() -> torch.nn.Module:
    return tvm.inception_v3(weights=None, aux_logits=False, init_weights=False)


def test_the_family_is_named():
    assert set(INCEPTION) <= set(NAMED)
    assert all(NAMED[n] is spec for n, spec in INCEPTION.items())


def test_inception_v3_parameter_count_equals_torchvision():
    with torch.device("meta"):
        theirs = n_params(torchvision_v3())
        ours = n_params(build(INCEPTION["inception_v3"]))
    assert network_cost(INCEPTION["inception_v3"]).params == ours == theirs == REFERENCE["inception_v3"]


@pytest.mark.parametrize("name", sorted(INCEPTION))
def test_parameters_and_macs_equal_the_built_network_at_299(name):
    spec = INCEPTION[name]
    with torch.device("meta"):
        model = build(spec).eval()
        with FlopCounterMode(display=False) as counter:
            out = model(torch.empty(1, 3, 299, 299))
    cost = network_cost(spec)
    assert out.shape == (1, 1000)
    assert cost.params == n_params(model) == REFERENCE[name]
    assert cost.macs == counter.get_total_flops() // 2
    assert round(cost.macs / 1e9, 3) == GMACS[name]


@pytest.mark.parametrize("name", sorted(INCEPTION))
def test_macs_equal_flop_counter_at_a_smaller_resolution(name):
    spec = MacroSpace(name).retarget(INCEPTION[name], resolution=139)
    assert network_cost(spec).macs == meta_counts(spec)[1]


@pytest.mark.parametrize("name", sorted(INCEPTION))
def test_grids_are_the_papers_35_17_8(name):
    parts = [p for p in plan(INCEPTION[name]) if p.stage and p.op.startswith("inception")]
    reductions = [p for p in parts if "reduce" in p.op]
    assert [p.h for p in reductions] == [17, 8]
    assert {p.h for p in parts if "reduce" not in p.op and "stem" not in p.op} == {35, 17, 8}
    assert parts[-1].h == parts[-1].w == 8
    if name == "inception_v4":  # Figure 3: 147 -> 73 -> 71 -> 35 through the stem's concats
        assert [(p.chs, p.h) for p in parts if "stem" in p.op] == [(160, 73), (192, 71), (384, 35)]


def test_inception_v3_logits_equal_torchvision_after_loading_its_weights():
    torch.manual_seed(0)
    theirs = torchvision_v3().eval()
    assert theirs.transform_input is False  # no pretrained weights: inputs go in untouched
    randomise_bn(theirs)
    ours = build(INCEPTION["inception_v3"]).eval()
    mapping = load_ordered_state_dict(ours, theirs.state_dict())
    assert len(mapping) == len(theirs.state_dict())
    x = torch.randn(2, 3, 107, 107)  # small, yet every valid reduction still has a grid (2x2 after the last)
    with torch.no_grad():
        diff = (ours(x) - theirs(x)).abs().max().item()
    assert diff < 1e-4


@pytest.mark.parametrize("name", VALID_ENTRIES)
@pytest.mark.parametrize("stride", [1, 2])
def test_valid_entries_keep_their_declared_geometry(name, stride):
    in_chs, out_chs, size = 8, 20, 11
    torch.manual_seed(0)
    m = cells.create(name, in_chs, out_chs, stride, valid=True).eval()
    with FlopCounterMode(display=False) as counter:
        y = m(torch.randn(2, in_chs, size, size - 1))
    h, w = cells.out_size(name, size, size - 1, stride, valid=True)
    assert (h, w) == ((size - 3) // stride + 1, (size - 4) // stride + 1)
    assert y.shape == (2, out_chs, h, w)
    c = cells.cost(name, in_chs, out_chs, stride, size, size - 1, valid=True)
    assert c.params == n_params(m)
    assert c.macs == counter.get_total_flops() / 2 / 2


def test_widths_default_to_the_papers_at_the_papers_size():
    """The v4 modules and reductions at the paper's width are the paper's blocks: their costs equal
    those built with every width spelled out (Table 1's k, l, m, n for Reduction-A)."""
    spelled = cells.cost("inception_v4_reduce_a", 384, 1024, 2, 35, valid=True, k=192, l=224, m=256, n=384)
    assert cells.cost("inception_v4_reduce_a", 384, 1024, 2, 35, valid=True) == spelled
    b = dict(ch1x1=384, ch7x7red=192, ch1x7=224, ch7x7=256, dblred=192, dbl1=192, dbl2=224, dbl=256, pool_proj=128)
    assert cells.cost("inception_v4_b", 1024, 1024, 1, 17) == cells.cost("inception_v4_b", 1024, 1024, 1, 17, **b)
    with pytest.raises(ValueError, match="must exceed in_chs"):
        cells.cost("inception_v4_reduce_a", 64, 64, 2, 35)
    with pytest.raises(ValueError, match="not the 640 needed"):
        cells.cost("inception_v4_reduce_a", 384, 1024, 2, 35, n=100, m=100)


def test_inception_resnet_blocks_scale_the_residual_and_drop_the_last_relu():
    torch.manual_seed(0)
    block = cells.create("inception_resnet_v2_c", 16, 16, 1, scale=0.2, relu=False).eval()
    x = torch.randn(2, 16, 5, 5)
    with torch.no_grad():
        residual = block.up(block.branches(x))
        assert torch.allclose(block(x), x + 0.2 * residual)
    assert (block(x) < 0).any()  # no ReLU after the sum
    assert isinstance(block.shortcut, torch.nn.Identity)


def test_tensorflow_average_pools_leave_the_padding_out():
    pools = [m for m in cells.create("inception_v4_a", 8, 16, 1).modules() if isinstance(m, torch.nn.AvgPool2d)]
    assert [p.count_include_pad for p in pools] == [False]
    pools = [m for m in cells.create("inception_v3_a", 8, 16, 1).modules() if isinstance(m, torch.nn.AvgPool2d)]
    assert [p.count_include_pad for p in pools] == [True]
