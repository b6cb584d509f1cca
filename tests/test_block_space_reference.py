"""The named block architectures against torchvision 0.29.1 (randomly initialised; no weights are
downloaded) and against the MnasNet paper's published figures."""
from __future__ import annotations

import pytest
import torch
import torchvision
from torch.utils.flop_counter import FlopCounterMode

from search_spaces.scaling import COEFFICIENTS
from search_spaces.blocks.archs import EFFICIENTNET_B0, NAMED, efficientnet
from search_spaces.blocks.plan import network_cost
from search_spaces.blocks.build import build, load_ordered_state_dict
from search_spaces.blocks.space import BlockSpace

# torchvision 0.29.1's parameter counts (1000 classes).
TORCHVISION_PARAMS = {
    "efficientnet_b0": 5_288_548, "efficientnet_b1": 7_794_184, "efficientnet_b2": 9_109_994,
    "efficientnet_b3": 12_233_232, "efficientnet_b4": 19_341_616, "efficientnet_b5": 30_389_784,
    "efficientnet_b6": 43_040_704, "efficientnet_b7": 66_347_960, "mnasnet_b1": 4_383_312,
}
RESOLUTIONS = dict(zip([f"efficientnet_b{i}" for i in range(8)], (224, 240, 260, 300, 380, 456, 528, 600)))


def _params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("name", list(TORCHVISION_PARAMS))
def test_analytic_params_equal_torchvision(name):
    assert network_cost(NAMED[name]).params == TORCHVISION_PARAMS[name]


@pytest.mark.parametrize("name", list(RESOLUTIONS))
def test_efficientnets_are_b0_scaled_and_build_exactly(name):
    spec = NAMED[name]
    assert spec == efficientnet(name) and spec.resolution == RESOLUTIONS[name]
    assert spec.stages[0].op == "ds" and all(s.act == "silu" for s in spec.stages)  # MBConv e1 is ds
    assert spec.dropout == COEFFICIENTS[name.removeprefix("efficientnet_")].dropout  # B0 0.2 ... B7 0.5
    # torchvision's head rule (4x the last stage) and the TPU reference's (round 1280) agree.
    assert spec.head == 4 * spec.stages[-1].out_chs
    with torch.device("meta"):  # shapes only: B7 would allocate 265 MB for nothing
        model = build(spec, drop_path=0.2)
    assert _params(model) == TORCHVISION_PARAMS[name]


def test_efficientnet_b0_macs_at_224():
    spec = NAMED["efficientnet_b0"]
    with torch.device("meta"):
        model = build(spec).eval()
        with FlopCounterMode(display=False) as counter:
            model(torch.empty(1, 3, 224, 224))
    counted = counter.get_total_flops() // 2
    assert abs(network_cost(spec).macs - 385.8e6) <= 0.005 * 385.8e6
    assert counted == network_cost(spec).macs == 385_814_752


def _randomise_bn_stats(model: torch.nn.Module) -> None:
    """Non-trivial running statistics, so the comparison exercises every BN in eval mode."""
    gen = torch.Generator().manual_seed(1)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.copy_(torch.rand(m.num_features, generator=gen) - 0.5)
            m.running_var.copy_(torch.rand(m.num_features, generator=gen) + 0.5)


@pytest.mark.parametrize("name, factory", [("efficientnet_b0", torchvision.models.efficientnet_b0),
                                           ("mnasnet_b1", torchvision.models.mnasnet1_0)])
def test_torchvision_weights_give_the_same_logits(name, factory):
    torch.manual_seed(0)
    ref = factory(weights=None).eval()
    _randomise_bn_stats(ref)
    ours = build(NAMED[name]).eval()
    mapping = load_ordered_state_dict(ours, ref.state_dict())
    if name == "efficientnet_b0":
        assert mapping["features.1.0.block.1.fc1.weight"] == "stages.0.0.body.se.reduce.weight"
        assert mapping["classifier.1.weight"] == "classifier.weight"
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        expected, got = ref(x), ours(x)
    assert expected.shape == got.shape == (2, 1000)
    assert (expected - got).abs().max().item() < 1e-4


def test_ordered_loading_refuses_another_architecture():
    ours = build(NAMED["mnasnet_b1"])
    with pytest.raises(ValueError, match="entries"):
        load_ordered_state_dict(ours, torchvision.models.efficientnet_b0().state_dict())
    state = ours.state_dict()
    state["classifier.weight"] = torch.zeros(10, 1280)
    with pytest.raises(ValueError, match=r"shape mismatch: model classifier.weight \(1000, 1280\)"):
        load_ordered_state_dict(ours, state)


def test_mnasnet_a1_against_the_paper():
    """Paper, Table 1: MnasNet-A1 has 3.9M parameters and 312M multiply-adds."""
    cost = network_cost(NAMED["mnasnet_a1"])
    assert cost.params == 3_887_038 and abs(cost.params - 3.9e6) <= 0.02 * 3.9e6
    assert cost.macs == 311_579_072 and abs(cost.macs - 312e6) <= 0.02 * 312e6
    model = BlockSpace(NAMED["mnasnet_a1"]).build(NAMED["mnasnet_a1"])
    assert _params(model) == cost.params


def test_mnasnet_b1_is_torchvisions_block_for_block():
    ref = torchvision.models.mnasnet1_0(weights=None)
    ours = build(NAMED["mnasnet_b1"])
    shapes = [tuple(t.shape) for t in ours.state_dict().values()]
    assert shapes == [tuple(t.shape) for t in ref.state_dict().values()]
    # The reference's MBConv e1 is the depthwise-separable conv: its canonical token is ds.
    assert EFFICIENTNET_B0.to_str().startswith("blocks:stem_c32_silu,ds_r1_k3_s1_c16_se0.25_silu,")
