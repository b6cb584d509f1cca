"""The mobile blocks (ds_conv, mbconv and its presets, conv_bn_act, se): shapes, costs, the skip
and drop-path rules and option checking. Their fidelity to torchvision is in test_cells_fidelity."""
from __future__ import annotations

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

import cells


pytestmark = pytest.mark.usefixtures("one_thread")


def n_params(m: torch.nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


@pytest.mark.parametrize("name", ["mbconv", "ds_conv", "mbconv_e6_k5", "conv_bn_act", "se"])
@pytest.mark.parametrize("stride", [1, 2])
def test_mobile_shape_and_cost(name, stride):
    in_chs, out_chs = (8, 8) if name == "se" else (8, 12)
    opts = {"expand": 3, "kernel": 5, "se_ratio": 0.25} if name == "mbconv" else {}
    m = cells.create(name, in_chs, out_chs, stride, **opts)
    x = torch.randn(2, in_chs, 7, 8, requires_grad=True)
    with FlopCounterMode(display=False) as counter:
        y = m(x)
    assert y.shape == (2, out_chs, 7 // stride + 7 % stride, 8 // stride)
    y.sum().backward()
    c = cells.cost(name, in_chs, out_chs, stride, 7, 8, **opts)
    assert c.params == n_params(m)
    assert c.macs == counter.get_total_flops() // 2 // 2


def test_mbconv_skip_and_drop_path_rules():
    assert cells.create("mbconv", 8, 8, 1, expand=3).has_skip
    assert not cells.create("mbconv", 8, 8, 1, expand=3, skip=False).has_skip
    assert not cells.create("mbconv", 8, 8, 2, expand=3).has_skip
    assert not cells.create("mbconv", 8, 16, 1, expand=3).has_skip
    m = cells.create("mbconv", 8, 8, 1, expand=3, drop_path=0.5).train()
    x = torch.randn(64, 8, 4, 4)
    with torch.no_grad():
        branch, body = m(x) - x, m.body(x)
    kept = (branch - 2 * body).flatten(1).abs().amax(1) < 1e-4  # survivors rescaled by 1 / keep
    dropped = branch.flatten(1).abs().amax(1) < 1e-6
    assert bool((kept ^ dropped).all()) and kept.sum() > 5 and dropped.sum() > 5


@pytest.mark.parametrize("opts,field", [({"expand": 0}, "expand"), ({"kernel": 4}, "kernel"),
                                        ({"se_ratio": 1.5}, "se_ratio"), ({"act": "elu"}, "act"),
                                        ({"drop_path": 1.0}, "drop_path"), ({"skip": "yes"}, "skip")])
def test_mbconv_rejects_bad_options_in_create_and_cost(opts, field):
    with pytest.raises(ValueError, match=field):
        cells.create("mbconv", 8, 8, 1, **opts)
    with pytest.raises(ValueError, match=field):
        cells.cost("mbconv", 8, 8, 1, 8, **opts)


def test_preset_options_and_unknown_option_names_the_entry():
    assert cells.cost("mbconv_e3_k5", 8, 8, 1, 6) == cells.cost("mbconv", 8, 8, 1, 6, expand=3, kernel=5,
                                                                 se_ratio=0.25, act="silu")
    assert cells.cost("mbconv_e3_k5", 8, 8, 1, 6, se_ratio=0.0).params < cells.cost("mbconv_e3_k5", 8, 8, 1, 6).params
    with pytest.raises(TypeError, match="mbconv_e3_k5.*expand"):
        cells.create("mbconv_e3_k5", 8, 8, 1, expand=6)


def test_se_block_at_stride_2_pools_then_gates():
    m = cells.create("se", 4, 4, 2).eval()
    x = torch.randn(1, 4, 5, 5)
    with torch.no_grad():
        pooled = torch.nn.functional.avg_pool2d(x, 3, 2, 1, count_include_pad=False)
        assert torch.allclose(m(x), m[1](pooled))


@pytest.mark.parametrize("act", ["relu", "relu6", "silu", "swish", "hswish", "none"])
def test_every_activation_runs_forward_and_backward(act):
    m = cells.create("mbconv", 8, 8, 1, expand=3, se_ratio=0.25, act=act)
    x = torch.randn(2, 8, 5, 5, requires_grad=True)
    m(x).square().mean().backward()
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
    expected = {"relu": torch.nn.ReLU, "relu6": torch.nn.ReLU6, "silu": torch.nn.SiLU, "swish": torch.nn.SiLU,
                "hswish": torch.nn.Hardswish, "none": torch.nn.Identity}[act]
    assert isinstance(m.body.se.act, expected)
