"""LeNet-5, ZFNet, WRN-28-10 and NFNet-F0 as macro specs (search_spaces/macro/archs_early.py): their
parameter counts against the sources named there, the analytic parameters and MACs against the built
modules (meta device: parameters counted, FlopCounterMode / 2), the papers' feature-map sizes, and
the normaliser-free pieces' defining properties (standardised weights, zero-initialised residuals)."""
from __future__ import annotations

import pytest
import torch

import cells
from cells import counting as C
from search_spaces.macro import MacroSpace
from search_spaces.macro.archs_early import EARLY, nfnet, wide_resnet
from search_spaces.macro.build import build
from search_spaces.macro.plan import network_cost, plan
from macro_helpers import meta_counts, n_params

pytestmark = pytest.mark.usefixtures("one_thread")

# Exact counts of what we build (sources and derivations in archs_early's docstring).
EXACT = {"lenet5": 62_006, "zfnet": 62_357_608, "wrn_28_10": 36_479_194, "nfnet_f0": 71_489_284}
# The papers' rounded figures: WRN-28-10 "36.5M", NFNet-F0 "71.5M".
PAPER_MILLIONS = {"wrn_28_10": 36.5, "nfnet_f0": 71.5}


@pytest.mark.parametrize("name", sorted(EARLY))
def test_analytic_params_equal_the_source_and_the_built_module(name):
    params = network_cost(EARLY[name]).params
    assert params == EXACT[name]
    if name in PAPER_MILLIONS:
        assert round(params / 1e6, 1) == PAPER_MILLIONS[name]
    with torch.device("meta"):
        assert n_params(build(EARLY[name])) == params


@pytest.mark.parametrize("name", sorted(EARLY))
def test_analytic_macs_equal_flop_counter(name):
    spec = EARLY[name]
    assert network_cost(spec).macs == meta_counts(spec)[1]


def test_lenet5_is_the_61706_parameter_form_on_rgb_input():
    """The usual full-C3 LeNet-5 on one-channel 32x32 input has 61,706 parameters; ours reads RGB,
    so only the first conv differs: 3 x 6 x 25 weights instead of 1 x 6 x 25."""
    rgb, _, _ = C.conv(3, 6, 5, 1, 32, 32, padding=0, bias=True)
    gray, _, _ = C.conv(1, 6, 5, 1, 32, 32, padding=0, bias=True)
    assert network_cost(EARLY["lenet5"]).params - rgb.params + gray.params == 61_706
    assert rgb.params - gray.params == 300
    sizes = [(p.op, p.chs, p.h) for p in plan(EARLY["lenet5"])]
    assert sizes == [("conv", 6, 28), ("avgpool", 6, 14), ("conv", 16, 10), ("avgpool", 16, 5), ("conv", 120, 1),
                     ("fc", 84, 1), ("classifier", 10, 1)]


def test_zfnet_has_figure_3s_map_sizes_and_layer_counts():
    parts = plan(EARLY["zfnet"])
    assert [p.h for p in parts if p.stage] == [110, 55, 55, 26, 13, 13, 13, 13, 13, 6]
    convs = sum(p.cost.params for p in parts if p.op == "conv")
    assert convs == 3_726_464
    assert [p.cost.params for p in parts if not p.stage] == [37_752_832, 16_781_312, 4_097_000]


@pytest.mark.parametrize("depth,widen,params", [(40, 2, 2_243_546), (16, 10, 17_116_634), (22, 8, 17_158_106),
                                                (40, 8, 35_748_314)])
def test_other_wide_resnets_match_the_reference_code_counts(depth, widen, params):
    """The same generator gives the authors' layout's counts for the paper's other CIFAR-10 WRNs."""
    assert network_cost(wide_resnet(depth, widen)).params == params


def test_nfnet_f0_betas_follow_the_tracked_variance():
    """Var grows by alpha^2 = 0.04 per block and is reset after each stage's first block (timm / DeepMind)."""
    blocks = [s for s in EARLY["nfnet_f0"].stages if s.op == "nf_block"]
    assert [s.option("expected_var", 1.0) for s in blocks] == [1.0, 1.04, 1.04, 1.08, 1.04, 1.08, 1.12, 1.16, 1.2,
                                                             1.24, 1.04, 1.08]
    assert [s.stride for s in blocks] == [1, 2, 1, 2, 1, 1, 1, 1, 1, 2, 1, 1]


def test_nfnet_f0_gains_and_test_resolution_macs():
    """The paper's F0: 12.38B FLOPs (multiply-adds) at the test resolution 256. OpenVINO's converted
    nfnet-f0 lists 71.4444M parameters: ours less the per-channel WS gains it folds into the weights."""
    spec = MacroSpace("nfnet_f0").retarget(EARLY["nfnet_f0"], resolution=256)
    assert round(network_cost(spec).macs / 1e9, 2) == 12.38
    with torch.device("meta"):
        model = build(EARLY["nfnet_f0"])
    gains = sum(p.numel() for n, p in model.named_parameters() if n.endswith(".gain"))
    assert gains == 44_912
    assert round((EXACT["nfnet_f0"] - gains) / 1e6, 4) == 71.4444


def test_ws_conv_standardises_its_weight():
    torch.manual_seed(0)
    conv = cells.create("ws_conv", 8, 16, 1, act="none")[0]
    with torch.no_grad():
        conv.gain.fill_(2.0)
        w = conv.standardized_weight().flatten(1)
    fan_in = w.shape[1]
    raw = conv.weight.detach().flatten(1).var(1, unbiased=False)
    assert torch.allclose(w.mean(1), torch.zeros(16), atol=1e-6)
    # gain^2 / fan-in, shrunk only by eps in the denominator
    assert torch.allclose(w.var(1, unbiased=False) * fan_in, 4.0 * raw / (raw + conv.eps), rtol=1e-4)


def test_nf_block_starts_as_its_shortcut():
    """The skipinit gain starts at zero, so an identity-shortcut block is the identity at initialisation,
    and a gain of one makes the residual branch count."""
    torch.manual_seed(0)
    block = cells.create("nf_block", 16, 16, 1, expected_var=1.08)
    x = torch.randn(2, 16, 6, 6)
    assert torch.equal(block(x), x)
    with torch.no_grad():
        block.skip_gain.fill_(1.0)
    assert not torch.allclose(block(x), x)


def test_lenet5_and_wrn_give_finite_logits():
    torch.manual_seed(0)
    x = torch.randn(2, 3, 32, 32)
    for spec in (EARLY["lenet5"], wide_resnet(16, 2)):
        model = build(spec).eval()
        with torch.no_grad():
            out = model(x)
        assert out.shape == (2, 10) and torch.isfinite(out).all()


def test_a_small_nfnet_trains_one_step_with_finite_loss():
    """F0's layout at a tenth of the width and one block per stage, on 64x64 input."""
    torch.manual_seed(0)
    model = build(nfnet((1, 1, 1, 1), widths=(32, 64, 128, 128), resolution=64))
    x, y = torch.randn(4, 3, 64, 64), torch.tensor([0, 1, 2, 3])
    loss = torch.nn.functional.cross_entropy(model(x), y)
    loss.backward()
    assert torch.isfinite(loss)
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())
