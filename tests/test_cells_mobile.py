"""The mobile blocks (ds_conv, mbconv and its presets, conv_bn_act, se) against torchvision 0.29.1:
EfficientNet-B0's MBConv stages, MnasNet's inverted residuals and ``ops.SqueezeExcitation``,
loaded with the reference's own (randomized) weights."""
from __future__ import annotations

import pytest
import torch
import torchvision
from torchvision.ops import SqueezeExcitation

import cells

# torchvision EfficientNet-B0 stages: (expand, kernel, stride, in, out, repeats)
B0_STAGES = [(1, 3, 1, 32, 16, 1), (6, 3, 2, 16, 24, 2), (6, 5, 2, 24, 40, 2), (6, 3, 2, 40, 80, 3),
             (6, 5, 1, 80, 112, 3), (6, 5, 2, 112, 192, 4), (6, 3, 1, 192, 320, 1)]


def randomize(module: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """Give every BN non-trivial statistics and affine terms, so a mismatched layer shows up."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.2)
                m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
                m.weight.copy_(torch.rand(m.num_features, generator=g) + 0.5)
                m.bias.copy_(torch.randn(m.num_features, generator=g) * 0.2)
    return module.eval()


def load_by_order(ours: torch.nn.Module, theirs: torch.nn.Module) -> dict[str, str]:
    """Key mapping by position: both state dicts list the same tensors in the same order (the
    blocks follow the reference's layer order); every pair must agree in shape."""
    mine, ref = ours.state_dict(), theirs.state_dict()
    assert len(mine) == len(ref), (list(mine), list(ref))
    mapping = {}
    for (k1, v1), (k2, v2) in zip(mine.items(), ref.items()):
        assert v1.shape == v2.shape, (k1, v1.shape, k2, v2.shape)
        mapping[k1] = k2
    ours.load_state_dict({k: ref[mapping[k]] for k in mine})
    return mapping


def n_params(m: torch.nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


def assert_same(ours: torch.nn.Module, theirs: torch.nn.Module, x: torch.Tensor) -> None:
    assert n_params(ours) == n_params(theirs)
    load_by_order(ours, theirs)
    ours.eval(), theirs.eval()
    with torch.no_grad():
        diff = (ours(x) - theirs(x)).abs().max().item()
    assert diff < 1e-5, diff


@pytest.fixture(scope="module")
def b0():
    torch.manual_seed(0)
    return randomize(torchvision.models.efficientnet_b0())


@pytest.mark.parametrize("stage", range(7))
def test_mbconv_with_se_matches_efficientnet_b0(b0, stage):
    expand, kernel, stride, in_chs, out_chs, repeats = B0_STAGES[stage]
    blocks = b0.features[stage + 1]
    x = torch.randn(2, in_chs, 9, 9)
    ours = cells.create("mbconv", in_chs, out_chs, stride, expand=expand, kernel=kernel, se_ratio=0.25, act="silu")
    assert_same(ours, blocks[0], x)
    assert ours.has_skip == blocks[0].use_res_connect
    if repeats > 1:  # a repeat: stride 1, in == out, identity skip
        y = torch.randn(2, out_chs, 5, 5)
        again = cells.create("mbconv", out_chs, out_chs, 1, expand=expand, kernel=kernel, se_ratio=0.25, act="silu")
        assert_same(again, blocks[1], y)
        assert again.has_skip


@pytest.mark.parametrize("in_chs,out_chs,kernel,stride,expand", [(16, 24, 3, 2, 3), (40, 40, 5, 1, 6)])
def test_mbconv_without_se_matches_mnasnet(in_chs, out_chs, kernel, stride, expand):
    from torchvision.models.mnasnet import _InvertedResidual

    torch.manual_seed(1)
    theirs = randomize(_InvertedResidual(in_chs, out_chs, kernel, stride, expand))
    ours = cells.create("mbconv", in_chs, out_chs, stride, expand=expand, kernel=kernel)
    assert_same(ours, theirs, torch.randn(2, in_chs, 10, 10))


def test_ds_conv_is_mnasnet_sepconv_stem():
    """MnasNet's depthwise-separable stem layers (dw 3x3 -> BN -> ReLU -> pw -> BN)."""
    torch.manual_seed(2)
    theirs = randomize(torchvision.models.mnasnet1_0()).layers[3:8]
    ours = cells.create("ds_conv", 32, 16, 1)
    assert_same(ours, theirs, torch.randn(2, 32, 7, 7))


@pytest.mark.parametrize("chs,ratio", [(32, 0.25), (64, 1 / 16)])
def test_se_block_matches_torchvision_squeeze_excitation(chs, ratio):
    torch.manual_seed(3)
    theirs = SqueezeExcitation(chs, int(chs * ratio))
    ours = cells.create("se", chs, chs, 1, se_ratio=ratio)
    assert_same(ours, theirs, torch.randn(2, chs, 6, 5))


@pytest.mark.parametrize("name", ["mbconv", "ds_conv", "mbconv_e6_k5", "conv_bn_act", "se"])
@pytest.mark.parametrize("stride", [1, 2])
def test_mobile_shape_and_cost(name, stride):
    from torch.utils.flop_counter import FlopCounterMode

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
                                        ({"se_ratio": 1.5}, "se_ratio"), ({"act": "gelu"}, "act"),
                                        ({"drop_path": 1.0}, "drop_path"), ({"skip": "yes"}, "skip")])
def test_mbconv_rejects_bad_options_in_create_and_cost(opts, field):
    with pytest.raises(ValueError, match=field):
        cells.create("mbconv", 8, 8, 1, **opts)
    with pytest.raises(ValueError, match=field):
        cells.cost("mbconv", 8, 8, 1, 8, **opts)
