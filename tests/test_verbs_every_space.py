"""Every space works with every verb (issue: one name and one resolver per space): ``nas inspect``,
``nas train --dry-run`` (build + cost check) and ``nas export`` accept a cell, a blocks, an
NAS-Bench-201 and a compound-scaling spec string alike, and the compound one is costed and built
as its scaled network."""
from __future__ import annotations

import json

import pytest
import torch

from nas import cli
from search_spaces.catalog import resolve, space_for, space_name

CELL = ("cell:normal=conv_3x3@0+skip_connect@1,sep_conv_3x3@1+skip_connect@2;"
        "reduce=max_pool_3x3@0+conv_3x3@1,skip_connect@2+max_pool_3x3@1;N=1;F=8;stem=cifar;"
        "wiring=darts;classes=10;res=32;stem_mult=3")
BLOCKS = "blocks:stem_c8_silu,ds_r1_k3_s1_c8_se0.25_silu,ir_r2_k5_s2_e3_c16_silu,head_c32_silu,classes7,res40"
NB201 = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
COMPOUND = f"compound:alpha=1.2;beta=1.1;gamma=1.15;phi=1.0;base={BLOCKS}"
SPECS = {"cell": CELL, "blocks": BLOCKS, "nasbench201": NB201, "compound": COMPOUND}


@pytest.mark.parametrize("space", SPECS)
def test_each_space_through_inspect_train_dry_run_and_export(space, tmp_path, capsys):
    text = SPECS[space]
    spec = resolve(text)
    assert space_name(spec) == space and resolve(spec.to_str()) == spec
    network = space_for(spec).network(spec)

    assert cli.main(["inspect", text, "--format", "json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    cost = space_for(spec).cost(spec)
    assert (shown["params"], shown["macs"]) == (cost.params, cost.macs) and cost.params > 0
    assert shown["spec"] == network.to_str()

    assert cli.main(["train", text, "--dry-run"]) == 0
    printed = capsys.readouterr().out
    assert f"{cost.params:,} params, {cost.macs:,} MACs" in printed and f"built: {cost.params:,} params" in printed

    out = tmp_path / space
    assert cli.main(["export", text, "--out", str(out), "--format", "torchscript"]) == 0
    scripted = torch.jit.load(str(out / "model.pt"))
    side = space_for(spec).input_resolution(spec)
    logits = scripted(torch.randn(2, 3, side, side))
    assert logits.shape == (2, network.num_classes) and torch.isfinite(logits).all()


def test_compound_spec_is_its_scaled_network():
    spec = resolve(COMPOUND)
    net = space_for(spec).network(spec)
    base = resolve(BLOCKS)
    assert net.resolution == round(base.resolution * 1.15) and net.stages[-1].repeats >= base.stages[-1].repeats
    assert space_for(spec).cost(spec) == space_for(net).cost(net)
