"""Cell networks built with torch: forward passes, exact analytic cost, the papers' figures."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from search_toys import spec_id
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

import cells
from cells.modules.drop_path import DropPath, set_drop_path_scale
from search_spaces.cell import space as cs
from search_spaces.cell.archs import NAMED
from search_spaces.cell.build import build_network
from search_spaces.cell.plan import plan_network

OPS = cs.DEFAULT_OPS if all(o in cells.OPS for o in cs.DEFAULT_OPS) else cs.NASNET_OPS

# Published figures (params, MACs; None where the paper gives none), within 2%. Not listed:
# DARTS-V1 (the paper's 3.3M vs 3.17M for the code's DARTS_V1 genotype) and AmoebaNet-A mobile
# (5.1M / 555M vs 4.98M / 576M: the TF AmoebaNet's bottlenecked 1x7 convs and scale-free BN differ
# from the DARTS-code transcription used here).
PAPERS = {
    "nasnet_a_mobile": (5.3e6, 564e6),     # Zoph et al. 2018, Table 2
    "nasnet_a_large": (88.9e6, 23.8e9),    # Zoph et al. 2018, Table 2
    "nasnet_a_cifar": (3.3e6, None),       # Zoph et al. 2018, Table 1 (6 @ 768)
    "amoebanet_a_cifar": (3.2e6, None),    # Real et al. 2019, Table 2 (N=6, F=36)
    "darts_v2": (3.3e6, None),             # Liu et al. 2019, Table 1 (second order)
    "darts_v2_imagenet": (4.7e6, None),    # Liu et al. 2019, Table 2: 574M MACs is not reachable, see below
}
# Our analytic counts, checked in as golden values (pycls's habit) so a change shows up here.
GOLDEN = {
    "nasnet_a_cifar": (3_328_234, 525_786_624),
    "nasnet_a_mobile": (5_287_076, 557_702_272),
    "nasnet_a_large": (88_743_820, 23_800_556_364),
    "amoebanet_a_cifar": (3_145_078, 488_931_552),
    "amoebanet_a_mobile": (4_982_312, 575_695_984),
    "darts_v1": (3_169_414, 500_987_520),
    "darts_v2": (3_349_342, 528_359_040),
    "darts_v2_imagenet": (4_718_752, 529_911_552),
}


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def measured_macs(model: nn.Module, resolution: int) -> int:
    model.eval()
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(torch.randn(1, 3, resolution, resolution))
    return counter.get_total_flops() // 2


@pytest.fixture(autouse=True, scope="module")
def _threads():
    old = torch.get_num_threads()
    torch.set_num_threads(min(2, old))
    yield
    torch.set_num_threads(old)


def _random_specs(count: int, seed: int, **macro):
    space = cs.CellSpace(OPS, **{"n": 1, "filters": 8, "resolution": 16, **macro})
    rng = np.random.default_rng(seed)
    return [space.sample(rng) for _ in range(count)]


@pytest.mark.parametrize("spec", _random_specs(6, 0) + _random_specs(2, 1, wiring="darts")
                         + _random_specs(1, 2, stem="imagenet", resolution=40)
                         + _random_specs(1, 3, stem="imagenet", wiring="darts", resolution=32),
                         ids=lambda s: f"{s.stem}-{s.wiring}-{spec_id(s)}")
def test_random_specs_build_forward_and_cost_exactly(spec):
    model = build_network(spec)
    assert n_params(model) == cs.space_for(spec).cost(spec).params
    logits = model.train()(torch.randn(2, 3, spec.resolution, spec.resolution))
    assert logits.shape == (2, spec.num_classes) and torch.isfinite(logits).all()
    macs = measured_macs(model, spec.resolution)
    assert abs(plan_network(spec).cost().macs - macs) <= 0.01 * macs


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_named_architectures_cost_equals_built_module(name):
    spec = NAMED[name]
    cost = plan_network(spec).cost()
    assert (cost.params, cost.macs) == GOLDEN[name]
    # Built on the meta device: the real modules and shapes, no weight init or arithmetic, so even
    # NASNet-A large at 331px is counted in seconds.
    with torch.device("meta"):
        model = build_network(spec).eval()
        assert n_params(model) == cost.params
        with FlopCounterMode(display=False) as counter:
            model(torch.empty(1, 3, spec.resolution, spec.resolution))
    macs = counter.get_total_flops() // 2
    assert abs(cost.macs - macs) <= 0.01 * macs


@pytest.mark.parametrize("name, resolution", [("nasnet_a_cifar", 32), ("amoebanet_a_mobile", 64),
                                              ("darts_v2_imagenet", 64)])
def test_named_architectures_run_on_real_images(name, resolution):
    spec = dataclasses.replace(NAMED[name], resolution=resolution)
    model = build_network(spec, auxiliary=True, drop_path=0.2)
    logits, aux = model.train()(torch.randn(2, 3, resolution, resolution))
    assert logits.shape == aux.shape == (2, spec.num_classes) and torch.isfinite(logits).all()


@pytest.mark.parametrize("name", sorted(PAPERS))
def test_published_figures_within_two_percent(name):
    params, macs = PAPERS[name]
    cost = plan_network(NAMED[name]).cost()
    assert abs(cost.params - params) <= 0.02 * params
    if macs is not None:
        assert abs(cost.macs - macs) <= 0.02 * macs


def test_nasnet_a_penultimate_filters_match_the_n_at_p_names():
    for name, (chs, size) in {"nasnet_a_mobile": (1056, 7), "nasnet_a_large": (4032, 11),
                              "nasnet_a_cifar": (768, 8)}.items():
        features = plan_network(NAMED[name]).features
        assert (features.chs, features.size) == (chs, size)


def test_darts_v2_imagenet_macs_stay_below_the_paper_as_others_measured():
    # Liu et al. report 574M; conv + linear counting of their own NetworkImageNet gives ~530M
    # (quark0/darts issue #46 reports 523M with conv/fc, 545M counting BN/ReLU/pooling too).
    macs = plan_network(NAMED["darts_v2_imagenet"]).cost().macs
    assert 520e6 < macs < 540e6


@pytest.mark.parametrize("wiring, aux_cell", [("nasnet", "cell1"), ("darts", "reduce1")])
def test_auxiliary_head_in_training_only_and_excluded_from_cost(wiring, aux_cell):
    spec = _random_specs(1, 5, wiring=wiring)[0]
    plan = plan_network(spec)
    assert plan.cells[plan.aux_index].name == aux_cell
    model = build_network(spec, auxiliary=True)
    assert n_params(model) == plan.cost().params + n_params(model.auxiliary_head)
    logits, aux = model.train()(torch.randn(2, 3, 16, 16))
    assert logits.shape == aux.shape == (2, 10)
    assert model.eval()(torch.randn(2, 3, 16, 16)).shape == (2, 10)


def test_drop_path_wraps_every_non_identity_op_and_follows_nasnet_depth_schedule():
    spec = cs.parse(
        "cell:normal=sep_conv_3x3@0+identity@1,avg_pool_3x3@2+identity@0;"
        "reduce=max_pool_3x3@0+sep_conv_3x3@1,identity@2+identity@1;N=1;F=8;res=16")
    model = build_network(spec, drop_path=0.3)
    rates = [[m.rate for m in cell.modules() if isinstance(m, DropPath)] for cell in model.cells]
    # normal: sep + avg; reduce: max + sep + identity@1 (strided, so it projects); identities stay bare
    assert [len(r) for r in rates] == [2, 3, 2, 3, 2]
    per_cell = [r[0] for r in rates]
    assert per_cell == pytest.approx([0.3 * k / 5 for k in range(1, 6)])
    assert set_drop_path_scale(model, 0.5) == 12
    out = model.train()(torch.randn(4, 3, 16, 16))
    assert out.shape == (4, 10) and torch.isfinite(out).all()
    flat = build_network(dataclasses.replace(spec, wiring="darts"), drop_path=0.3)
    assert {m.rate for m in flat.modules() if isinstance(m, DropPath)} == {0.3}


def test_unused_input_of_a_reduction_cell_is_reduced_before_concatenation():
    spec = cs.parse("cell:normal=sep_conv_3x3@0+sep_conv_3x3@1;reduce=sep_conv_3x3@1+max_pool_3x3@1;"
                    "N=1;F=8;res=16;wiring=nasnet")
    reduce = plan_network(spec).cells[1]
    assert reduce.concat == (0, 2) and [a.name for a in reduce.adapters] == ["skip_connect", "identity"]
    assert reduce.out.chs == 32 and reduce.out.size == 8
    model = build_network(spec)
    assert model(torch.randn(2, 3, 16, 16)).shape == (2, 10)
    assert n_params(model) == plan_network(spec).cost().params


def test_build_rejects_bad_options_at_the_boundary():
    spec = _random_specs(1, 9)[0]
    with pytest.raises(ValueError, match="drop_path"):
        build_network(spec, drop_path=1.5)
    with pytest.raises(TypeError, match="auxiliary"):
        build_network(spec, auxiliary="yes")
    with pytest.raises(ValueError, match="resolution=8 is too small"):
        build_network(dataclasses.replace(spec, stem="imagenet", resolution=8))
