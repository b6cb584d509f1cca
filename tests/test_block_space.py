"""The MnasNet block space: block strings (parse and encode), the space's decisions, and the
analytic cost/graph against real built modules on tiny inputs."""
from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from search_spaces.blocks import space as block_space
from search_spaces.blocks.archs import EFFICIENTNET_B0, MNASNET_A1, MNASNET_B1, NAMED
from search_spaces.blocks.space import BlockSpace, parse, parse_dict, space_for
from search_spaces.blocks.spec import BlockSpec, StageSpec, parse_stage


@pytest.fixture(scope="module")
def space() -> BlockSpace:
    return BlockSpace()


def test_stage_string_decodes_every_token_and_encodes_canonically():
    stage = parse_stage("ir_c24_r2_s2_k3_e6_se0.25_noskip_swish")
    assert stage == StageSpec("ir", repeats=2, kernel=3, stride=2, out_chs=24, expand=6, se_ratio=0.25,
                              skip=False, act="silu")
    assert stage.to_str() == "ir_r2_k3_s2_e6_c24_se0.25_noskip_silu"
    # timm writes e1 on separable convs; it is accepted and dropped.
    assert parse_stage("ds_r1_k3_s1_e1_c16_noskip").to_str() == "ds_r1_k3_s1_c16_noskip"
    assert parse_stage("cn_r1_k5_s1_c8_skip_hswish") == StageSpec("cn", 1, 5, 1, 8, act="hswish")


@pytest.mark.parametrize("text, fragment", [
    ("xx_r1_k3_s1_c16", "unknown op 'xx'"),
    ("ir_r2_k3_s2_e6_c24_q7", "unknown token 'q7'"),
    ("ir_r2_k4_s2_e6_c24", "token 'k4': kernel must be one of"),
    ("ir_r2_k3_s3_e6_c24", "token 's3': stride must be one of"),
    ("ir_r2_k3_s2_c24", "missing e<int>"),
    ("ds_r1_k3_s1_e6_c16", "token 'e6': expand applies to 'ir' stages only"),
    ("ir_r2_k3_s2_e6_c24_se1.5", "token 'se1.5': se_ratio must be a number in [0, 1]"),
    ("ir_r2_k3_s2_e6_c24_sefoo", "token 'sefoo'"),
    ("ir_r2_r3_k3_s2_e6_c24", "token 'r3' sets repeats a second time"),
    ("ir_r0_k3_s2_e6_c24", "token 'r0': repeats must be >= 1"),
])
def test_bad_stage_strings_name_the_token(text, fragment):
    with pytest.raises(ValueError) as err:
        parse_stage(text)
    assert fragment in str(err.value)
    assert text in str(err.value) or "xx" in str(err.value)


@pytest.mark.parametrize("text, fragment", [
    ("blocks:stem_c32,ir_r1_k3_s1_e1_c16", "needs a stem, at least one stage and a head"),
    ("blocks:stem_c32,ir_r1_k3_s1_e1_c16,tail_c8", "expected a head part"),
    ("blocks:stem_c32_gelu,ir_r1_k3_s1_e1_c16,head_c64", "unexpected token 'gelu'"),
    ("blocks:stem_c32,ir_r1_k3_s1_e1_c16,head_c64,classes0", "num_classes must be >= 1"),
    ("blocks:stem_c32,ir_r1_k3_s1_e1_c16,zz_r1,head_c64", "stage 2 'zz_r1': unknown op 'zz'"),
    ("blocks:stem_c32,ir_r1_k3_s1_e1_c16,head_c64,resXL", "bad part 'resXL'"),
])
def test_bad_network_strings_name_the_part(text, fragment):
    with pytest.raises(ValueError, match=None) as err:
        BlockSpec.from_str(text)
    assert fragment in str(err.value)


def test_network_string_defaults_and_prefix_dispatch():
    spec = parse("blocks:stem_c32,ds_r1_k3_s1_c16,head_c64")
    assert (spec.num_classes, spec.resolution, spec.stem_act) == (1000, 224, "relu")
    assert spec.to_str() == "blocks:stem_c32,ds_r1_k3_s1_c16,head_c64,classes1000,res224"
    assert parse("cell:whatever") is None and parse("|nor_conv_3x3~0|+|") is None
    assert parse_dict({"space": "cell"}) is None and parse_dict([1, 2]) is None
    assert parse_dict(spec.to_str()) == spec


def test_json_form_rejects_unknown_and_bad_fields():
    data = MNASNET_A1.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert parse_dict(json.loads(json.dumps(data))) == MNASNET_A1
    with pytest.raises(ValueError, match=r"unknown field\(s\) \['colour'\]"):
        BlockSpec.from_dict({**data, "colour": 1})
    bad = json.loads(json.dumps(data))
    bad["stages"][2]["kernel"] = 4
    with pytest.raises(ValueError, match=r"stages\[2\]: kernel must be one of"):
        BlockSpec.from_dict(bad)
    bad["stages"][2] = "ir_r1_k3_s1_e6_c16_what"
    with pytest.raises(ValueError, match="stages\\[2\\].*unknown token 'what'"):
        BlockSpec.from_dict(bad)
    with pytest.raises(ValueError, match="skip must be true or false"):
        StageSpec("ir", 1, 3, 1, 16, 6, skip=1)


def test_round_trip_of_1000_random_specs(space):
    rng = np.random.default_rng(2019)
    seen = set()
    for _ in range(1000):
        spec = space.sample(rng)
        seen.add(spec)
        assert BlockSpec.from_str(spec.to_str()) == spec
        assert BlockSpec.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec
        assert space.freeze(space.decisions(spec)) == spec
    assert len(seen) == 1000  # the space is large; duplicates would mean a broken sampler


def test_dimensions_follow_the_mnasnet_factorization(space):
    dims = {d.name: d.choices for d in space.dimensions()}
    assert len(dims) == 7 * 6
    assert dims["stage1.op"] == ("cn", "ds", "ir_e3", "ir_e6")
    assert dims["stage1.kernel"] == (3, 5) and dims["stage1.se"] == (0.0, 0.25)
    # 0.75/1.0/1.25 x the base's 40 and 16 channels, rounded to multiples of 8 and merged.
    assert dims["stage3.filters"] == (32, 40, 48) and dims["stage1.filters"] == (16, 24)
    assert dims["stage3.layers"] == (2, 3, 4) and dims["stage7.layers"] == (1, 2)
    assert space.contains(MNASNET_B1) and not space.contains(MNASNET_A1)
    assert BlockSpace(MNASNET_A1).contains(MNASNET_A1)


def test_mutation_changes_exactly_one_decision(space):
    rng = np.random.default_rng(7)
    spec = space.sample(rng)
    for _ in range(50):
        child = space.mutate(spec, rng)
        diff = [a != b for a, b in zip(space.decisions(spec), space.decisions(child))]
        assert sum(diff) == 1 and child != spec
        spec = child


def test_decisions_name_fields_outside_the_space(space):
    wider = dataclasses.replace(MNASNET_B1.stages[2], out_chs=56)
    spec = dataclasses.replace(MNASNET_B1, stages=MNASNET_B1.stages[:2] + (wider,) + MNASNET_B1.stages[3:])
    with pytest.raises(ValueError, match=r"stage3.filters = 56 is not a choice; accepted: \(32, 40, 48\)"):
        space.decisions(spec)
    with pytest.raises(ValueError, match="stem_act is fixed at 'relu'"):
        space.decisions(EFFICIENTNET_B0)
    with pytest.raises(ValueError, match="index 9 out of range"):
        space.freeze([9] + [0] * 41)
    with pytest.raises(ValueError, match="op choice 'ir_x'"):
        BlockSpace(ops=("ds", "ir_x"))
    with pytest.raises(TypeError, match="expected a BlockSpec"):
        space.validate("blocks:stem_c32")


def test_retarget_changes_only_the_task(space):
    spec = space.retarget(MNASNET_A1, num_classes=10, resolution=32)
    assert (spec.num_classes, spec.resolution, spec.stages) == (10, 32, MNASNET_A1.stages)
    assert space.cost(spec).params == space.cost(MNASNET_A1).params - 990 * (1280 + 1)
    assert space.decisions(space.retarget(MNASNET_B1, num_classes=10)) == space.decisions(MNASNET_B1)


def _count(model: torch.nn.Module, x: torch.Tensor) -> tuple[int, int, torch.Tensor]:
    with FlopCounterMode(display=False) as counter:
        out = model(x)
    return sum(p.numel() for p in model.parameters()), counter.get_total_flops() // 2, out


def test_random_specs_build_and_match_their_analytic_cost(space):
    """A few random members at 32 px with 10 classes: logits shape, params and MACs exact.
    One extra spec forces the plain-conv block with SE and skip, the op no base uses."""
    rng = np.random.default_rng(3)
    specs = [space.retarget(space.sample(rng), num_classes=10, resolution=32) for _ in range(4)]
    conv = [0, 0, 1, 0, 1, 0]  # every stage: cn, k3, se0.25, skip, the larger width, fewest layers
    specs.append(space.retarget(space.freeze(conv * 7), num_classes=10, resolution=32))
    torch.manual_seed(0)
    x = torch.randn(1, 3, 32, 32)
    for spec in specs:
        model = space.build(spec).eval()
        params, macs, out = _count(model, x)
        cost = space.cost(spec)
        assert out.shape == (1, 10)
        assert params == cost.params, spec.to_str()
        assert macs == cost.macs, spec.to_str()
    assert all(s.op == "cn" and s.se_ratio and s.skip for s in specs[-1].stages)
    # Training mode with drop path on the residual conv blocks.
    model = space.build(dataclasses.replace(specs[-1], dropout=0.1), drop_path=0.2).train()
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 10)


def test_graph_nodes_sum_to_the_cost_in_both_views(space):
    spec = space.retarget(MNASNET_A1, resolution=96)
    cost = space.cost(spec)
    for view, blocks in (("network", 16), ("stage", 7)):
        g = space.to_graph(spec, view=view)
        assert g.graph["params"] == cost.params and g.graph["macs"] == cost.macs
        assert sum(n["params"] for _, n in g.nodes(data=True)) == cost.params
        assert sum(n["macs"] for _, n in g.nodes(data=True)) == cost.macs
        assert sum(1 for _, n in g.nodes(data=True) if n["op"] == "block") == blocks
        for _, attrs in g.nodes(data=True):
            assert all(isinstance(v, (str, int, float)) for v in attrs.values())
    g = space.to_graph(spec)
    assert g.nodes["s3.b1"]["label"] == "MBConv3 (k5x5), SE 0.25"
    assert (g.nodes["s3.b1"]["height"], g.nodes["s3.b2"]["residual"], g.nodes["s3.b1"]["residual"]) == (12, 1, 0)
    assert g.nodes["classifier"]["channels"] == 1000 and g.number_of_edges() == g.number_of_nodes() - 1
    with pytest.raises(ValueError, match=r"view must be one of \('network', 'stage'\)"):
        space.to_graph(spec, view="cell")


def test_module_exports_for_the_catalog():
    assert set(block_space.NAMED) == set(NAMED) >= {"mnasnet_a1", "mnasnet_b1", "efficientnet_b0", "efficientnet_b7"}
    assert isinstance(space_for(MNASNET_B1), BlockSpace) and space_for("blocks:") is None
    with pytest.raises(ValueError, match="auxiliary"):
        BlockSpace().build(MNASNET_B1, auxiliary=True)
    with pytest.raises(ValueError, match="dropout must be a number in"):
        dataclasses.replace(MNASNET_B1, dropout=1.5)
    with pytest.raises(ValueError, match="drop_path must be a number in"):
        BlockSpace().build(MNASNET_B1, drop_path=1.5)
    b7 = NAMED["efficientnet_b7"]
    assert b7.dropout == 0.5 and parse(b7.to_str()) == b7 and b7.to_str().endswith(",drop0.5")
    assert parse_dict(json.loads(json.dumps(b7.to_dict()))) == b7


def test_distinct_decisions_build_distinct_networks(space):
    """No two decision vectors of the space name one network (``ds`` and MBConv e1 were one):
    the fingerprint is every parameter's name and shape plus the module types, in order."""
    from search_spaces.blocks.build import build

    def fingerprint(spec) -> tuple:
        model = build(spec)
        return (tuple((n, tuple(p.shape)) for n, p in model.named_parameters()),
                tuple(type(m).__name__ for m in model.modules()),
                tuple(getattr(m, "has_skip", None) for m in model.modules()))

    rng = np.random.default_rng(11)
    seen: dict[tuple, tuple] = {}
    for _ in range(40):
        spec = space.retarget(space.sample(rng), num_classes=10, resolution=32)
        decisions = space.decisions(spec)
        key = fingerprint(spec)
        assert seen.setdefault(key, decisions) == decisions, spec.to_str()
    # Forcing the two former twins: 'ir' with expansion 1 is the canonical 'ds' spec.
    assert parse_stage("ir_r1_k3_s1_e1_c16") == parse_stage("ds_r1_k3_s1_c16")
    with pytest.raises(ValueError, match="same network as 'ds'"):
        BlockSpace(ops=("ds", "ir_e1"))
