"""Cell space as data: string/JSON round trips, decision sequence, validation errors, scaling."""
from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

import cells
from search_spaces.cell import space as cs
from search_spaces.cell.archs import NAMED, cell_from_pairs
from search_spaces.cell.spec import Block, Cell, CellSpec, default_concat, layers_to_n

# The card's blocks come from another branch; the NASNet list is always registered.
OPS = cs.DEFAULT_OPS if all(o in cells.OPS for o in cs.DEFAULT_OPS) else cs.NASNET_OPS


@pytest.fixture(scope="module")
def space() -> cs.CellSpace:
    return cs.CellSpace(OPS)


def test_default_space_is_nasnet_ops_plus_card_blocks():
    assert len(cs.NASNET_OPS) == 13 and cs.DEFAULT_OPS[:13] == cs.NASNET_OPS
    assert set(cs.CARD_BLOCKS) == {"inception_v1", "basic_block", "bottleneck", "se", "mbconv_e3_k3",
                                   "mbconv_e6_k5"}
    assert all(o in cells.OPS for o in cs.NASNET_OPS)


def test_dimensions_follow_nasnet_controller_order(space):
    dims = space.dimensions()
    assert len(dims) == 2 * 5 * 5
    assert [d.name for d in dims[:5]] == ["normal.b0.input1", "normal.b0.input2", "normal.b0.op1",
                                          "normal.b0.op2", "normal.b0.combiner"]
    assert dims[5].choices == (0, 1, 2) and dims[25].name == "reduce.b0.input1"
    assert dims[2].choices == OPS and dims[4].choices == ("add", "concat")


def test_thousand_random_specs_round_trip_through_string_json_and_decisions(space):
    rng = np.random.default_rng(2024)
    seen = set()
    for _ in range(1000):
        spec = space.sample(rng)
        text = spec.to_str()
        assert text.startswith("cell:") and " " not in text
        assert CellSpec.from_str(text) == spec
        assert CellSpec.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec
        assert space.freeze(space.decisions(spec)) == spec
        assert cs.parse(text) == spec and cs.parse_dict(spec.to_dict()) == spec
        seen.add(hash(spec))
    assert len(seen) == 1000


def test_mutate_changes_exactly_one_decision(space):
    rng = np.random.default_rng(7)
    for _ in range(200):
        spec = space.sample(rng)
        child = space.mutate(spec, rng)
        diff = [a != b for a, b in zip(space.decisions(spec), space.decisions(child))]
        assert sum(diff) == 1


@pytest.mark.parametrize("name", sorted(NAMED))
def test_named_specs_round_trip_and_print_as_data(name):
    spec = NAMED[name]
    assert CellSpec.from_str(str(spec)) == spec
    assert CellSpec.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec
    assert cs.space_for(spec).cost(spec).params > 0


def test_nasnet_a_is_transcribed_with_tf_outputs_and_darts_with_its_own():
    spec = NAMED["nasnet_a_mobile"]
    assert spec.normal.concat == (0, 2, 3, 4, 5, 6) and spec.reduce.concat == (3, 4, 5, 6)
    assert "normal_concat=0,2,3,4,5,6" in spec.to_str()
    darts = NAMED["darts_v2"]
    assert darts.normal.concat is None and default_concat(darts.normal, "darts") == (2, 3, 4, 5)
    # AmoebaNet-A's DARTS-code outputs are exactly NASNet's "unused states" rule.
    amoeba = NAMED["amoebanet_a_cifar"]
    assert default_concat(amoeba.normal, "nasnet") == (4, 5, 6)
    assert default_concat(amoeba.reduce, "nasnet") == (3, 4, 6)


def test_explicit_concat_equal_to_the_rule_is_normalized_away():
    cell = cell_from_pairs([("sep_conv_3x3", 0), ("identity", 1), ("avg_pool_3x3", 2), ("identity", 0)])
    explicit = dataclasses.replace(cell, concat=(3,))
    a = CellSpec(cell, cell, wiring="nasnet")
    b = CellSpec(explicit, explicit, wiring="nasnet")
    assert a == b and b.normal.concat is None
    c = CellSpec(explicit, cell, wiring="darts")  # DARTS would concatenate 2 and 3
    assert c.normal.concat == (3,) and CellSpec.from_str(c.to_str()) == c


def test_parse_returns_none_for_other_spaces():
    assert cs.parse("|nor_conv_3x3~0|+|skip_connect~0|none~1|+|avg_pool_3x3~0|none~1|none~2|") is None
    assert cs.parse("blocks:ir_r1_k3_s1_e1_c16") is None
    assert cs.parse_dict({"space": "blocks", "stages": []}) is None
    assert cs.parse_dict(["not", "a", "dict"]) is None
    assert cs.space_for("darts_v2") is None


def _tiny_cell(op="sep_conv_3x3", in2=1) -> Cell:
    return Cell((Block(0, in2, op, "identity"),))


@pytest.mark.parametrize("make, field, accepted", [
    (lambda: CellSpec(_tiny_cell("sep_conv_9x9"), _tiny_cell()), "normal.blocks[0].op1", "sep_conv_3x3"),
    (lambda: CellSpec(_tiny_cell(), _tiny_cell(in2=2)), "reduce.blocks[0].input2", "0..1"),
    (lambda: CellSpec(Cell((Block(0, 1, "identity", "identity", "mul"),)), _tiny_cell()),
     "normal.blocks[0].combiner", "add, concat"),
    (lambda: CellSpec(_tiny_cell(), _tiny_cell(), stem="mnist"), "stem", "cifar, imagenet"),
    (lambda: CellSpec(_tiny_cell(), _tiny_cell(), wiring="enas"), "wiring", "nasnet, darts"),
    (lambda: CellSpec(_tiny_cell(), _tiny_cell(), n=0), "n must be a positive int", ""),
    (lambda: CellSpec(Cell((Block(0, 1, "identity", "identity"),), concat=(5,)), _tiny_cell()),
     "normal_concat", "0..2"),
])
def test_invalid_specs_name_the_field_and_accepted_values(make, field, accepted):
    with pytest.raises(ValueError) as err:
        make()
    assert field in str(err.value) and accepted in str(err.value)


@pytest.mark.parametrize("text, token", [
    ("cell:normal=sep_conv_3x3@0-identity@1;reduce=identity@0+identity@1", "sep_conv_3x3@0-identity@1"),
    ("cell:normal=identity@0+identity@1;reduce=identity@0+identity@1;depth=3", "depth=3"),
    ("cell:normal=identity@0+identity@1;reduce=identity@0+identity@1;N=two", "N='two'"),
    ("cell:normal=identity@0+identity@1", "reduce"),
    ("cell:normal=identity@0+identity@1;reduce=identity@0+identity@1;normal_concat=a", "normal_concat"),
    ("cell:normal=identity@0+identity@7;reduce=identity@0+identity@1", "normal.blocks[0].input2"),
])
def test_malformed_strings_name_the_bad_token(text, token):
    with pytest.raises(ValueError) as err:
        cs.parse(text)
    assert token in str(err.value)


def test_malformed_json_names_the_field():
    data = NAMED["darts_v2"].to_dict()
    with pytest.raises(ValueError, match="depth"):
        CellSpec.from_dict({**data, "depth": 3})
    with pytest.raises(ValueError, match=r"normal\.blocks\[1\]"):
        CellSpec.from_dict({**data, "normal": {"blocks": [data["normal"]["blocks"][0], {"ops": ["identity"]}]}})
    with pytest.raises(ValueError, match="filters"):
        CellSpec.from_dict({**data, "filters": "36"})


def test_space_validate_rejects_what_its_decisions_cannot_express(space):
    narrow = cs.CellSpace(("identity", "sep_conv_3x3"), blocks=4, combiners=("add",))
    with pytest.raises(ValueError, match="skip_connect.*accepted: identity, sep_conv_3x3"):
        narrow.validate(NAMED["darts_v2"])
    with pytest.raises(ValueError, match="4 blocks; this space has 5"):
        space.validate(NAMED["darts_v2"])
    with pytest.raises(ValueError, match="normal_concat"):
        cs.CellSpace(cs.NASNET_OPS).validate(NAMED["nasnet_a_cifar"])
    with pytest.raises(TypeError, match="CellSpec"):
        space.validate("darts_v2")
    with pytest.raises(ValueError, match="expected 50 decisions"):
        space.freeze([0] * 49)
    with pytest.raises(ValueError, match="normal.b0.input1"):
        space.freeze([5] + [0] * 49)


def test_space_configuration_errors():
    with pytest.raises(ValueError, match="unknown op.*no_such_op"):
        cs.CellSpace(("identity", "no_such_op"))
    with pytest.raises(ValueError, match="combiners"):
        cs.CellSpace(cs.NASNET_OPS, combiners=("add", "max"))
    with pytest.raises(ValueError, match="filters"):
        cs.CellSpace(cs.NASNET_OPS, filters=0)


def test_space_macro_settings_go_into_every_spec_and_retarget_changes_them():
    space = cs.CellSpace(cs.NASNET_OPS, blocks=3, n=1, filters=8, wiring="darts", resolution=16)
    spec = space.sample(np.random.default_rng(0))
    assert (spec.n, spec.filters, spec.wiring, spec.resolution, spec.normal.num_blocks) == (1, 8, "darts", 16, 3)
    moved = space.retarget(spec, num_classes=100, resolution=24)
    assert (moved.num_classes, moved.resolution, moved.normal) == (100, 24, spec.normal)
    assert space.retarget(spec) == spec


def test_scale_network_maps_depth_to_n_and_width_to_f():
    darts = NAMED["darts_v2"]
    big = cs.scale_network(darts, width=1.1, depth=1.2, resolution=64)
    assert (big.n, big.filters, big.resolution) == (8, 40, 64)  # ceil(7.2); 39.6 -> 40
    assert big.normal == darts.normal and big.reduce == darts.reduce
    assert cs.scale_network(darts, width=1.0, depth=1.0, resolution=None) == darts
    assert cs.scale_network(NAMED["darts_v1"], depth=7 / 6).n == 7  # no float fuzz in ceil
    assert cs.scale_filters(36, 2.0) == 72 and cs.scale_filters(8, 1.1) == 8 and cs.scale_filters(44, 0.5) == 24
    with pytest.raises(ValueError, match="resolution"):
        cs.scale_network(darts, resolution=1.5)
    with pytest.raises(ValueError, match="width"):
        cs.scale_network(darts, width=0)


def test_darts_layers_convert_to_cells_per_stage():
    assert [layers_to_n(x) for x in (8, 14, 20)] == [2, 4, 6]
    with pytest.raises(ValueError, match="3N\\+2"):
        layers_to_n(21)
