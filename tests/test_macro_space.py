"""The macro space: string and JSON forms round-trip on random specs, the pure modules never import
torch, errors name the field, decisions around a base network invert ``freeze``, cost equals the
built module, and the verbs (inspect, stage view, diff, dry run) work on named networks."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from search_spaces import catalog
from search_spaces.macro import NAMED, MacroSpace, MacroSpec, Stage
from search_spaces.macro.spec import parse_network

pytestmark = pytest.mark.usefixtures("one_thread")


def random_spec(rng: np.random.Generator) -> MacroSpec:
    ops = ["conv", "maxpool", "bottleneck", "mbconv", "shuffle_v2", "fire", "mbconv_v3", "lrn"]
    stages = []
    for _ in range(int(rng.integers(1, 6))):
        op = ops[int(rng.integers(len(ops)))]
        options = {"kernel": int(rng.choice([3, 5])), "flag": bool(rng.integers(2)),
                   "ratio": float(rng.choice([0.25, 1e-5])), "act": str(rng.choice(["relu", "hswish"]))}
        keep = rng.integers(2, size=len(options)).astype(bool)
        stages.append(Stage(op, int(rng.integers(1, 4)), int(rng.integers(1, 3)),
                            None if op in ("maxpool", "lrn") else int(rng.integers(1, 512)),
                            tuple((k, v) for (k, v), on in zip(options.items(), keep) if on)))
    head = tuple(Stage("fc", 1, 1, int(rng.integers(1, 99)), (("drop", 0.5),)) for _ in range(int(rng.integers(3))))
    return MacroSpec(tuple(stages), head, int(rng.integers(1, 8)), "fc", float(rng.choice([0.0, 0.2])),
                     int(rng.integers(1, 1000)), int(rng.integers(8, 300)))


def test_string_and_json_round_trip_on_random_specs():
    rng = np.random.default_rng(0)
    for _ in range(200):
        spec = random_spec(rng)
        assert parse_network(spec.to_str()) == spec
        assert MacroSpec.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec
        assert parse_network(spec.to_str()).to_str() == spec.to_str()


@pytest.mark.parametrize("name", sorted(NAMED))
def test_named_specs_round_trip_and_resolve(name):
    spec = NAMED[name]
    assert parse_network(spec.to_str()) == spec
    assert catalog.resolve(spec.to_str()) == spec and catalog.resolve(name) == spec
    assert catalog.space_name(spec) == "macro"


def test_pure_modules_do_not_import_torch():
    code = ("import sys; import search_spaces.macro.space, search_spaces.macro.graph, search_spaces.macro.archs_all;"
            "from search_spaces.macro import NAMED, MacroSpace;"
            "s = MacroSpace('resnet50'); s.cost(NAMED['densenet121']); s.to_graph(NAMED['googlenet'], view='stage');"
            "assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_defaults_are_left_out_so_one_network_has_one_string():
    assert Stage("mbconv", options={"expand": 1, "se_ratio": 0}) == Stage("mbconv")
    assert Stage("conv", 1, 2, 64, {"kernel": 3, "bn": True}).to_str() == "conv s2 c64"


@pytest.mark.parametrize("text,match", [
    ("macro:bottleneck r0 c64, pool1", "repeats must be an int >= 1, got 0"),
    ("macro:bottleneck x3 c64, pool1", "bad token 'x3'.*accepted: r<int>"),
    ("macro:conv c64, bottleneck c64", "exactly one 'pool<n>'"),
    ("macro:conv c64, pool1, classes10 res32 drop2", "dropout must be a number in \\[0, 1\\)"),
    ("macro:conv c64, pool1, classes10 foo", "bad tail token 'foo'"),
    ("macro:conv c64 kernel=3 kernel=5, pool1", "repeats an option"),
])
def test_parse_errors_name_the_token(text, match):
    with pytest.raises(ValueError, match=match):
        parse_network(text)


@pytest.mark.parametrize("text,match", [
    ("macro:resblock c64, pool1", "unknown op 'resblock'; accepted: .*bottleneck"),
    ("macro:mbconv c16 expand=0, pool1", "stage 1 \\(mbconv\\): .*expand must be an int >= 1, got 0"),
    ("macro:mbconv c16 expnad=6, pool1", "unknown option\\(s\\) expnad; accepted: expand"),
    ("macro:conv c16 kernel=7 bias=1, pool1", "option bias must be a bool, got 1"),
    ("macro:maxpool c16, pool1", "keeps the width"),
    ("macro:dense_layer r3 c20, pool1", "must be a positive multiple of r3"),
    ("macro:conv s2 c8 kernel=7 padding=0, conv s2 c8 kernel=7 padding=0, pool1, classes10 res8", "too small"),
    ("macro:bottleneck s3 c64, pool1", "registry blocks stride 1 or 2, got s3"),
])
def test_invalid_networks_name_stage_field_and_accepted_values(text, match):
    with pytest.raises(ValueError, match=match):
        catalog.resolve(text)


@pytest.mark.parametrize("base", ["mobilenet_v2", "resnet50", "mobilenet_v3_small", "shufflenet_v2_x0_5"])
def test_decisions_invert_freeze_around_a_base(base):
    space = MacroSpace(base)
    assert space.freeze(space.decisions(space.base)) == space.base
    rng = np.random.default_rng(1)
    kinds = set()
    for _ in range(25):
        spec = space.sample(rng)
        assert space.freeze(space.decisions(spec)) == spec
        assert space.cost(spec).params > 0
        child = space.mutate(spec, rng)
        assert space.freeze(space.decisions(child)) == child  # a mutation stays inside the space
        kinds |= {s.op for s in spec.stages}
    assert {"mbconv", "mbconv_v3", "shuffle_v2", "bottleneck"} <= kinds


def test_resnext_is_resnet50_with_cardinality_decisions():
    space = MacroSpace("resnet50")
    a, b = space.decisions(NAMED["resnet50"]), space.decisions(NAMED["resnext50_32x4d"])
    changed = [d.name for d, i, j in zip(space.dimensions(), a, b) if i != j]
    assert changed == ["stage3.card", "stage4.card", "stage5.card", "stage6.card"]


def test_outside_the_space_is_named():
    space = MacroSpace("mobilenet_v2", kinds=["mbconv"], widths=[1.0])
    with pytest.raises(ValueError, match="stage3.width = 'c32' is not a choice"):
        space.decisions(catalog.resolve(NAMED["mobilenet_v2"].to_str().replace("s2 c24", "s2 c32")))
    with pytest.raises(ValueError, match="stage1 is fixed"):
        space.decisions(NAMED["mobilenet_v2"].__class__(
            (Stage("conv", 1, 2, 16, {"act": "relu6"}),) + NAMED["mobilenet_v2"].stages[1:], (), 1, "fc", 0.2))
    with pytest.raises(ValueError, match="kinds must be among"):
        MacroSpace("resnet18", kinds=["transformer"])


def test_searched_spec_builds_with_its_analytic_cost():
    space = MacroSpace("mobilenet_v2", widths=[0.5, 1.0])
    spec = space.retarget(space.sample(np.random.default_rng(3)), num_classes=10, resolution=32)
    model = space.build(spec).eval()
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 10)
    assert space.cost(spec).params == sum(p.numel() for p in model.parameters())


def test_scale_width_depth_resolution():
    space = MacroSpace("densenet121")
    wide = space.scale(NAMED["resnet50"], width=2.0, depth=2.0, resolution=1.5)
    assert [s.repeats for s in wide.stages if s.op == "bottleneck"] == [6, 8, 12, 6]
    assert wide.resolution == 336 and wide.stages[-1].out_chs == 4096
    dense = space.scale(NAMED["densenet121"], width=0.5)
    space.validate(dense)  # a dense stage scales its growth rate, so its width stays reachable
    assert dense.stages[0].out_chs == 32 and dense.stages[2].out_chs == 32 + 6 * 16


def _cli(*args: str) -> str:
    return subprocess.run([sys.executable, "-m", "nas.cli", *args], check=True, capture_output=True,
                          text=True).stdout


def test_inspect_stage_view_is_the_papers_table_and_diff_names_decisions():
    table = _cli("inspect", "resnet50", "--view", "stage")
    assert "[1x1, 64; 3x3, 64; 1x1, 256] x 3" in table and "256x56x56" in table
    assert "[1x1, 512; 3x3, 512; 1x1, 2048] x 3" in table and "total: params 25,557,032" in table
    diff = _cli("inspect", "--diff", "resnet50", "resnext50_32x4d")
    assert "4 decision(s) differ" in diff and "stage3.card: 1x64d -> 32x4d" in diff
    assert "[1x1, 128; 3x3, 128, C=32; 1x1, 256] x 3" in diff


def test_train_dry_run_checks_the_cost():
    out = _cli("train", "squeezenet1_1", "--dry-run")
    assert "1,235,496 params" in out and "built: 1,235,496 params" in out
