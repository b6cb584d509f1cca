"""Fidelity of the vocabulary against torchvision 0.29.1, an implementation nobody here wrote:
each of our blocks is given the reference block's (randomized) weights through a positional
state-dict key mapping and must give the same eval-mode float32 outputs (max abs diff < 1e-5)
with the same parameter count. ResNet-50 and GoogLeNet assembled from our blocks match the
reference's parameter counts and logits."""
from __future__ import annotations

import pytest
import torch
import torchvision
from torchvision.models.mnasnet import _InvertedResidual
from torchvision.ops import SqueezeExcitation

import cells
import reference_nets

# torchvision EfficientNet-B0 stages: (expand, kernel, stride, in, out, repeats)
B0_STAGES = [(1, 3, 1, 32, 16, 1), (6, 3, 2, 16, 24, 2), (6, 5, 2, 24, 40, 2), (6, 3, 2, 40, 80, 3),
             (6, 5, 1, 80, 112, 3), (6, 5, 2, 112, 192, 4), (6, 3, 1, 192, 320, 1)]


pytestmark = pytest.mark.usefixtures("one_thread")


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
    """Key mapping by position: both state dicts list the same tensors in the same order (our
    blocks follow the reference's layer order); every pair must agree in shape."""
    mine, ref = ours.state_dict(), theirs.state_dict()
    assert len(mine) == len(ref), (list(mine), list(ref))
    mapping = {}
    for (k1, v1), (k2, v2) in zip(mine.items(), ref.items()):
        assert v1.shape == v2.shape and k1.rsplit(".", 1)[1] == k2.rsplit(".", 1)[1], (k1, v1.shape, k2, v2.shape)
        mapping[k1] = k2
    ours.load_state_dict({k: ref[mapping[k]] for k in mine})
    return mapping


def n_params(m: torch.nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


def max_diff(ours: torch.nn.Module, theirs: torch.nn.Module, x: torch.Tensor) -> float:
    assert n_params(ours) == n_params(theirs)
    load_by_order(ours, theirs)
    ours.eval(), theirs.eval()
    with torch.no_grad():
        a, b = ours(x), theirs(x)
    assert a.shape == b.shape
    return (a - b).abs().max().item()


@pytest.fixture(scope="module")
def b0():
    torch.manual_seed(0)
    return randomize(torchvision.models.efficientnet_b0())


@pytest.mark.parametrize("stage", range(7))
def test_mbconv_with_se_matches_efficientnet_b0(b0, stage):
    expand, kernel, stride, in_chs, out_chs, repeats = B0_STAGES[stage]
    blocks = b0.features[stage + 1]
    opts = dict(expand=expand, kernel=kernel, se_ratio=0.25, act="silu")
    ours = cells.create("mbconv", in_chs, out_chs, stride, **opts)
    assert max_diff(ours, blocks[0], torch.randn(2, in_chs, 9, 9)) < 1e-5
    assert ours.has_skip == blocks[0].use_res_connect
    if repeats > 1:  # a repeat: stride 1, in == out, identity skip
        again = cells.create("mbconv", out_chs, out_chs, 1, **opts)
        assert again.has_skip
        assert max_diff(again, blocks[1], torch.randn(2, out_chs, 5, 5)) < 1e-5


def test_mbconv_preset_is_the_efficientnet_block(b0):
    ours = cells.create("mbconv_e6_k5", 24, 40, 2)
    assert max_diff(ours, b0.features[3][0], torch.randn(2, 24, 8, 8)) < 1e-5


@pytest.mark.parametrize("in_chs,out_chs,kernel,stride,expand", [(16, 24, 3, 2, 3), (40, 40, 5, 1, 6)])
def test_mbconv_without_se_matches_mnasnet(in_chs, out_chs, kernel, stride, expand):
    torch.manual_seed(1)
    theirs = randomize(_InvertedResidual(in_chs, out_chs, kernel, stride, expand))
    ours = cells.create("mbconv", in_chs, out_chs, stride, expand=expand, kernel=kernel)
    assert max_diff(ours, theirs, torch.randn(2, in_chs, 10, 10)) < 1e-5


def test_ds_conv_is_mnasnet_sepconv():
    """MnasNet's depthwise-separable layers after the stem: dw 3x3 -> BN -> ReLU -> pw -> BN."""
    torch.manual_seed(2)
    theirs = randomize(torchvision.models.mnasnet1_0()).layers[3:8]
    assert max_diff(cells.create("ds_conv", 32, 16, 1), theirs, torch.randn(2, 32, 7, 7)) < 1e-5


@pytest.mark.parametrize("chs,ratio", [(32, 0.25), (64, 1 / 16)])
def test_se_block_matches_torchvision_squeeze_excitation(chs, ratio):
    torch.manual_seed(3)
    theirs = SqueezeExcitation(chs, int(chs * ratio))
    assert max_diff(cells.create("se", chs, chs, 1, se_ratio=ratio), theirs, torch.randn(2, chs, 6, 5)) < 1e-5


@pytest.fixture(scope="module")
def resnets():
    torch.manual_seed(4)
    return {name: randomize(getattr(torchvision.models, name)(), seed=i)
            for i, name in enumerate(("resnet18", "resnet50", "resnext50_32x4d"))}


@pytest.mark.parametrize("net,layer,index,name,in_chs,out_chs,stride", [
    ("resnet18", "layer1", 0, "basic_block", 64, 64, 1),
    ("resnet18", "layer2", 0, "basic_block", 64, 128, 2),
    ("resnet50", "layer1", 0, "bottleneck", 64, 256, 1),
    ("resnet50", "layer2", 0, "bottleneck", 256, 512, 2),
    ("resnet50", "layer2", 1, "bottleneck", 512, 512, 1),
    ("resnext50_32x4d", "layer3", 0, "resnext_block", 512, 1024, 2),
])
def test_residual_blocks_match_torchvision_resnets(resnets, net, layer, index, name, in_chs, out_chs, stride):
    theirs = getattr(resnets[net], layer)[index]
    ours = cells.create(name, in_chs, out_chs, stride)
    assert max_diff(ours, theirs, torch.randn(2, in_chs, 7, 6)) < 1e-5


@pytest.fixture(scope="module")
def tv_googlenet():
    torch.manual_seed(5)
    return randomize(torchvision.models.googlenet(aux_logits=False, init_weights=False))


def test_inception_module_matches_googlenet_inception3a(tv_googlenet):
    widths = dict(zip(reference_nets.WIDTH_NAMES, reference_nets.GOOGLENET_MODULES["3a"]))
    ours = cells.create("inception_v1", 192, 256, 1, branch3_kernel=3, **widths)
    assert max_diff(ours, tv_googlenet.inception3a, torch.randn(2, 192, 7, 8)) < 1e-5
    paper = cells.create("inception_v1", 192, 256, 1, **widths)  # the paper's 5x5: more weights
    assert n_params(paper) - n_params(ours) == 16 * 32 * (25 - 9)


def test_googlenet_from_our_blocks_matches_torchvision(tv_googlenet):
    ours = reference_nets.googlenet(1000, branch3_kernel=3)
    assert n_params(ours) == n_params(tv_googlenet) == 6_624_904
    assert max_diff(ours, tv_googlenet, torch.randn(1, 3, 64, 64)) < 1e-5
    assert n_params(reference_nets.googlenet(1000)) == 6_624_904 + sum(
        w[3] * w[4] * 16 for w in reference_nets.GOOGLENET_MODULES.values())  # 5x5 vs 3x3: 16 more taps


@pytest.mark.parametrize("name,count", [("resnet50", 25_557_032), ("resnet18", 11_689_512)])
def test_resnets_from_our_blocks_match_torchvision(resnets, name, count):
    ours = getattr(reference_nets, name)(1000)
    assert n_params(ours) == n_params(resnets[name]) == count
    torch.manual_seed(6)
    assert max_diff(ours, resnets[name], torch.randn(1, 3, 64, 64)) < 1e-5
