"""Every registry entry, the same checks: output shape (N, out_chs, ceil(H/s), ceil(W/s)) at
stride 1 and 2, odd and even sizes, in != out where the op allows; no NaN; backward reaches the
input; the analytic cost equals the built module's parameter count and torch's FlopCounterMode
count / 2. Plus the registry's own rules: duplicates, unknown names, impossible shapes."""
from __future__ import annotations

import math

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

import cells

IN_CHS, OUT_CHS, BATCH = 8, 16, 2


pytestmark = pytest.mark.usefixtures("one_thread")


def n_params(m: torch.nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


@pytest.mark.parametrize("name", sorted(cells.OPS))
@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("h,w", [(7, 8), (6, 5)])
def test_every_entry_shape_gradient_and_cost(name, stride, h, w):
    out_chs = IN_CHS if cells.OPS[name].same_chs else OUT_CHS
    torch.manual_seed(0)
    m = cells.create(name, IN_CHS, out_chs, stride).train()
    x = torch.randn(BATCH, IN_CHS, h, w, requires_grad=True)
    with FlopCounterMode(display=False) as counter:
        y = m(x)
    assert y.shape == (BATCH, out_chs, math.ceil(h / stride), math.ceil(w / stride))
    assert torch.isfinite(y).all()
    y.square().mean().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()
    assert all(p.grad is not None for p in m.parameters())
    c = cells.cost(name, IN_CHS, out_chs, stride, h, w)
    assert c.params == n_params(m)
    assert c.macs == counter.get_total_flops() / 2 / BATCH


def test_registry_holds_the_papers_vocabulary():
    nasnet = {"identity", "conv_1x3_3x1", "conv_1x7_7x1", "dil_conv_3x3", "avg_pool_3x3", "max_pool_3x3",
              "max_pool_5x5", "max_pool_7x7", "conv_1x1", "conv_3x3", "sep_conv_3x3", "sep_conv_5x5", "sep_conv_7x7"}
    darts = {"none", "dil_conv_5x5", "skip_connect"}
    blocks = {"conv_bn_act", "ds_conv", "mbconv", "se", "basic_block", "bottleneck", "resnext_block", "dense_layer",
              "dense_transition", "fire", "shuffle_v1", "shuffle_v2", "mbconv_v3",
              "inception_v1", "inception_v3_a", "inception_v3_b", "inception_v3_c",
              *{f"inception_v{v}_reduce_{x}" for v in (3, 4) for x in "ab"}, "inception_resnet_v2_reduce_b",
              *{f"inception_v4_{x}" for x in ("a", "b", "c", "stem_a", "stem_b", "stem_c")},
              *{f"inception_resnet_v2_{x}" for x in "abc"}}
    blocks |= {"xception_block", "xception_sep_conv", "dual_path_block"}  # Chollet 2017; Chen et al. 2017 (DPN)
    blocks |= {"preact_block", "ws_conv", "nf_block"}  # Zagoruyko & Komodakis 2016; Brock et al. 2021
    presets = {f"mbconv_e{e}_k{k}" for e, k in ((1, 3), (3, 3), (3, 5), (6, 3), (6, 5), (6, 7))}
    assert nasnet | darts | blocks | presets == set(cells.OPS)
    assert all(cells.OPS[n].paper for n in cells.OPS)


def test_options_reach_both_factory_and_cost():
    opts = dict(expand=6, kernel=7, se_ratio=0.25, act="hswish")
    m = cells.create("mbconv", 8, 8, 2, **opts)
    assert cells.cost("mbconv", 8, 8, 2, 9, **opts).params == n_params(m)
    assert cells.cost("mbconv", 8, 8, 2, 9, **opts) != cells.cost("mbconv", 8, 8, 2, 9)
    for name, o in (("bottleneck", dict(groups=4, width=24, se_ratio=0.5)), ("basic_block", dict(se_ratio=0.25)),
                    ("inception_v1", dict(branch3_kernel=3)), ("inception_v3_b", dict(n=3)),
                    ("conv_bn_act", dict(kernel=5, act="silu")), ("resnext_block", dict(groups=8))):
        assert cells.cost(name, 8, 32, 1, 6, **o).params == n_params(cells.create(name, 8, 32, 1, **o)), name


def test_duplicate_registration_raises_and_leaves_the_entry():
    before = cells.OPS["mbconv"]
    with pytest.raises(ValueError, match="already registered"):
        cells.register("mbconv", lambda *a: cells.Cost(), "nobody", factory="torch.nn:Identity")
    assert cells.OPS["mbconv"] is before
    with pytest.raises(TypeError):
        cells.OPS["new_op"] = before  # read-only mapping


def test_unknown_name_lists_the_valid_names():
    with pytest.raises(KeyError, match="mbconv_e6_k5.*sep_conv_3x3"):
        cells.create("mbconv_e9", 8, 8, 1)
    with pytest.raises(KeyError, match="inception_v1"):
        cells.cost("inceptoin_v1", 8, 8, 1, 8)


@pytest.mark.parametrize("name,in_chs,out_chs,stride,field", [
    ("mbconv", 8, 8, 3, "stride"), ("conv_3x3", 0, 8, 1, "in_chs"), ("bottleneck", 8, -4, 1, "out_chs"),
    ("max_pool_3x3", 8, 16, 1, "channel"), ("avg_pool_3x3", 8, 4, 2, "channel"), ("se", 8, 16, 1, "channel"),
    ("basic_block", 8.0, 8, 1, "in_chs"),
])
def test_impossible_shapes_raise_value_error(name, in_chs, out_chs, stride, field):
    with pytest.raises(ValueError, match=field):
        cells.create(name, in_chs, out_chs, stride)
    with pytest.raises(ValueError, match=field):
        cells.cost(name, in_chs, out_chs, stride, 8)


@pytest.mark.parametrize("name,opts,field", [
    ("inception_v1", dict(ch1x1=8, ch3x3=8, ch5x5=8, pool_proj=8), "concatenate to 32"),
    ("inception_v1", dict(branch3_kernel=4), "branch3_kernel"),
    ("inception_v3_c", dict(ch3x3=0), "ch3x3"),
    ("bottleneck", dict(width=10, groups=4), "multiple of groups"),
    ("resnext_block", dict(groups=0), "groups"),
    ("basic_block", dict(se_ratio=-0.1), "se_ratio"),
    ("se", dict(se_ratio=0), "se_ratio"),
    ("conv_bn_act", dict(act="elu"), "act"),
    ("ds_conv", dict(kernel=2), "kernel"),
])
def test_bad_options_raise_value_error_naming_the_field(name, opts, field):
    with pytest.raises(ValueError, match=field):
        cells.create(name, 8, 16 if not cells.OPS[name].same_chs else 8, 1, **opts)
    with pytest.raises(ValueError, match=field):
        cells.cost(name, 8, 16 if not cells.OPS[name].same_chs else 8, 1, 8, **opts)


def test_inception_too_narrow_for_its_branches_raises():
    with pytest.raises(ValueError, match="too small"):
        cells.create("inception_v1", 8, 3, 1)
    assert cells.create("inception_v1", 8, 4, 1)(torch.randn(1, 8, 5, 5)).shape == (1, 4, 5, 5)


def test_inception_v1_default_split_is_googlenets_inception3a():
    explicit = dict(ch1x1=64, ch3x3red=96, ch3x3=128, ch5x5red=16, ch5x5=32, pool_proj=32)
    assert cells.cost("inception_v1", 192, 256, 1, 28) == cells.cost("inception_v1", 192, 256, 1, 28, **explicit)


def test_unknown_option_is_a_type_error_naming_it():
    with pytest.raises(TypeError, match="expnad"):
        cells.create("mbconv", 8, 8, 1, expnad=6)
