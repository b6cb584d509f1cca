"""Every named classic network through the verbs (issue 13): ``nas inspect NAME``, ``nas scale NAME``
(width, depth and resolution multipliers, and a MACs budget), and ``nas train NAME --dry-run`` for
each; ``nas export`` for small ones and for scaled-down members of every new family (exporting
VGG-sized weights in a test buys nothing the small ones do not prove)."""
from __future__ import annotations

import json

import pytest
import torch

from nas import cli
from search_spaces.catalog import resolve
from search_spaces.macro import NAMED
from search_spaces.macro.build import build
from search_spaces.macro.plan import network_cost

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.mark.parametrize("name", sorted(NAMED))
def test_inspect_scale_and_dry_run(name, tmp_path, capsys):
    cost = network_cost(NAMED[name])
    assert cli.main(["inspect", name, "--format", "json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert (shown["params"], shown["macs"]) == (cost.params, cost.macs)

    out = tmp_path / "scaled.json"
    classes = str(NAMED[name].num_classes)
    assert cli.main(["scale", name, "--width", "0.75", "--depth", "1.5", "--resolution", "160", "--classes", classes,
                     "-o", str(out)]) == 0
    scaled = json.loads(out.read_text())
    assert scaled["params"] < cost.params * 1.5 and scaled["spec"]["resolution"] == 160
    with torch.device("meta"):
        model = build(resolve(scaled["spec_string"]))
    assert sum(p.numel() for p in model.parameters()) == scaled["params"]
    capsys.readouterr()

    assert cli.main(["train", name, "--dry-run"]) == 0
    assert f"built: {cost.params:,} params" in capsys.readouterr().out


def test_scale_to_a_budget_takes_the_widest_fit(capsys):
    assert cli.main(["scale", "resnet50", "--max-macs", "1G"]) == 0
    printed = capsys.readouterr().out
    macs = int(printed.split("MACs ")[1].split(" ")[0].replace(",", ""))
    assert 0.8e9 < macs <= 1e9  # the largest width step (0.05) under the budget


def test_branch_widths_follow_the_width_multiplier():
    """GoogLeNet's explicit branch widths scale and the 1x1 branch takes the rest, so every
    Inception module still concatenates to its stage's width."""
    from search_spaces.macro import MacroSpace
    half = MacroSpace("googlenet").scale(NAMED["googlenet"], width=0.5)
    stage = next(s for s in half.stages if s.op == "inception_v1")
    assert stage.out_chs == 128 and dict(stage.options)["ch3x3"] == 64 and "ch1x1" not in dict(stage.options)
    assert network_cost(half).params < network_cost(NAMED["googlenet"]).params / 2.5


SMALL = ["lenet5", "resnet20", "squeezenet1_1", "shufflenet_v2_x0_5", "mobilenet_v3_small"]
FAMILIES = ["inception_v3", "inception_v4", "inception_resnet_v2", "xception", "dpn92", "nfnet_f0", "zfnet",
            "wrn_28_10", "densenet121"]


@pytest.mark.parametrize("name", SMALL + FAMILIES)
def test_export_runs_and_matches(name, tmp_path):
    spec = name
    if name in FAMILIES:  # a quarter-width, low-resolution member keeps the export cheap
        path = tmp_path / "small.json"
        side = "96" if name != "wrn_28_10" else "32"
        assert cli.main(["scale", name, "--width", "0.25", "--resolution", side, "--classes", "10",
                         "-o", str(path)]) == 0
        spec = json.loads(path.read_text())["spec_string"]
    out = tmp_path / "export"
    assert cli.main(["export", spec, "--out", str(out), "--format", "torchscript"]) == 0
    scripted = torch.jit.load(str(out / "model.pt"))
    side = resolve(spec).resolution
    logits = scripted(torch.randn(2, 3, side, side))
    assert torch.isfinite(logits).all() and logits.shape[0] == 2
