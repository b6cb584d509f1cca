"""The ``width`` fidelity (issue 12, part 4; EcoNAS, Zhou et al. 2020: reduced-width proxies keep the
ranking): a calibration fidelity or a ladder rung trains each candidate narrowed by its space's own
scaling rule, on real images. The narrowed training is exactly the training of the scaled spec, the
store keeps the unscaled candidates, and widths that cannot work fail before any work."""
from __future__ import annotations

import json
import math
import sqlite3
from pathlib import Path

import pytest
import yaml

from nas.calibrate import parse_fidelity
from nas.cli import main
from nas.config import load_config
from nas.evaluate import evaluate, narrow, prepare
from nas.search import search
from nas.search.progress import Progress
from nas.strategies.base import Result
from nas.train import TrainConfig
from search_spaces.catalog import resolve, space_for

ROOT = Path(__file__).resolve().parents[1]
NB201 = str(ROOT / "experiments" / "nasbench201_ladder.yaml")
CELL = ("cell:normal=conv_3x3@0+skip_connect@1,sep_conv_3x3@1+skip_connect@2;"
        "reduce=max_pool_3x3@0+conv_3x3@1,skip_connect@2+max_pool_3x3@1;N=1;F=8;stem=cifar;"
        "wiring=darts;classes=10;res=32;stem_mult=3")
BLOCKS = "blocks:stem_c8_silu,ds_r1_k3_s1_c8_se0.25_silu,ir_r2_k5_s2_e3_c16_silu,head_c32_silu,classes10,res32"


def built_params(space, spec) -> int:
    return sum(p.numel() for p in space.build(spec).parameters())


@pytest.mark.parametrize("text, full, half", [(CELL, 36_418, 9_910), (BLOCKS, 5_612, 2_964)])
def test_width_trains_the_scaled_network(text, full, half, tiny_imagenet, one_thread):
    """At width 0.5 the evaluation trains exactly the space's half-width spec: the same seed gives
    the very numbers of training that spec directly, and the network built has fewer parameters.
    ``params`` stays the candidate's (rankings, constraints); ``trained_*`` is what was trained."""
    config = TrainConfig(epochs=1, batch_size=32)
    space, spec = prepare(resolve(text), tiny_imagenet)          # 10 classes, 16px
    scaled = narrow(space, spec, 0.5)
    assert (built_params(space, spec), built_params(space, scaled)) == (full, half)
    at_half = evaluate(spec, config, tiny_imagenet, width=0.5)
    direct = evaluate(scaled, config, tiny_imagenet)
    assert isinstance(at_half, Result) and isinstance(direct, Result), (at_half, direct)
    m = at_half.metrics
    assert (m["params"], m["trained_params"], m["width"]) == (full, half, 0.5)
    assert m["trained_macs"] < m["macs"] == space.cost(spec).macs
    for key in ("val_acc", "val_loss", "train_loss"):
        assert m[key] == direct.metrics[key], key
    plain = evaluate(spec, config, tiny_imagenet).metrics
    assert plain["params"] == full and "width" not in plain and "trained_params" not in plain


def test_calibrate_a_cell_space_at_half_width(shared_data, tmp_path):
    """``--fidelity ...,width=0.5`` beside the same fidelity at full width, on real CIFAR-10."""
    base = "epochs=1,per_class=6,val_fraction=0.5,batch_size=16"
    rc = main(["calibrate", str(ROOT / "experiments" / "quickstart.yaml"),
               f"data.dataset={shared_data / 'cifar10-jpeg.tar.gz'}", f"data.cache_dir={tmp_path / 'cache'}",
               "--n", "3", "--proxies", "params", "--fidelity", f"{base},width=0.5", "--fidelity", base,
               "--seeds", "1", "--out", str(tmp_path / "out"), "--quiet"])
    assert rc == 0
    result = json.loads((tmp_path / "out" / "calibration.json").read_text())
    half, full = result["columns"][f"train[{base},width=0.5]"], result["columns"][f"train[{base}]"]
    assert (half["width"], full["width"]) == (0.5, None)
    assert half["images"] == full["images"] == 30
    assert all(0.0 <= v <= 1.0 for v in half["values"] + full["values"])
    rho = result["spearman"][f"train[{base},width=0.5]"][f"train[{base}]"]  # NaN only for a constant column
    assert math.isnan(rho) if 1 in (len(set(half["values"])), len(set(full["values"]))) else -1.0 <= rho <= 1.0
    assert all("F=8" in c for c in result["candidates"])          # the candidates, not their narrowed copies
    assert f"train[{base},width=0.5]" in (tmp_path / "out" / "calibration.md").read_text()


def test_parse_fidelity_width_and_ladder_default():
    fid = parse_fidelity("epochs=1,per_class=25,width=0.5")
    assert (fid.name, dict(fid.train), dict(fid.data), fid.width) == (
        "epochs=1,per_class=25,width=0.5", {"epochs": 1}, {"per_class": 25}, 0.5)
    assert parse_fidelity("width=0.25").width == 0.25 and parse_fidelity("epochs=1").width is None
    from nas.calibrate import ladder_fidelities
    config = load_config(ROOT / "experiments" / "cifar10_ladder.yaml",
                         ["evaluation.ladder=[{kind: zero_cost, keep: 0.5, trials: 8}, "
                          "{kind: proxy, width: 0.5, keep: 0.5, trials: 4}, {kind: proxy, train: {epochs: 3}}]"])
    assert [(f.name, f.width) for f in ladder_fidelities(config)] == [("width=0.5", 0.5), ("epochs=3", None)]


def tiny_width_ladder(tmp_path: Path, shared_data: Path) -> Path:
    data = yaml.safe_load((ROOT / "experiments" / "cifar10_ladder.yaml").read_text())
    data["space"]["options"].update(filters=8, blocks=2)
    data["evaluation"]["ladder"] = [{"kind": "zero_cost", "width": 0.5, "keep": 0.5, "trials": 4},
                                    {"kind": "proxy", "width": 0.5, "keep": 0.5, "trials": 2},
                                    {"kind": "proxy"}]
    data["evaluation"]["zero_cost"].update(batch_size=16, reference=4)
    data["evaluation"]["train"].update(epochs=1, batch_size=16)
    data["data"].update(dataset=str(shared_data / "cifar10-jpeg.tar.gz"), per_class=8, download=False,
                        cache_dir=str(tmp_path / "cache"))
    data["execution"] = {"backend": "local"}
    data["budget"] = {"trials": 50}
    path = tmp_path / "ladder.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.slow
def test_ladder_with_width_rungs_stores_the_unscaled_candidates(shared_data, tmp_path):
    config = load_config(tiny_width_ladder(tmp_path, shared_data))
    summary = search(config, tmp_path / "run", progress=Progress(enabled=False))
    conn = sqlite3.connect(str(summary.run_dir / "trials.sqlite"))
    try:
        table = conn.execute("SELECT rung, spec, status, metrics FROM trials ORDER BY candidate_id").fetchall()
    finally:
        conn.close()
    assert [row[0] for row in table] == [0, 0, 0, 0, 1, 1, 2] and {row[2] for row in table} == {"done"}
    space = space_for(resolve(table[0][1]))
    for rung, text, _, metrics_text in table:
        spec, metrics = space.from_str(text), json.loads(metrics_text)
        assert spec.filters == 8 and space.to_str(spec) == text     # the candidate as proposed
        assert metrics["params"] == space.cost(space.retarget(spec, num_classes=10, resolution=32)).params
        if rung < 2:
            assert metrics["width"] == 0.5 and metrics["trained_params"] < metrics["params"]
        else:
            assert "width" not in metrics and "trained_params" not in metrics
    best = json.loads((summary.run_dir / "best.json").read_text())
    assert "F=8" in best[0]["spec"] and best[0]["candidate_id"] == 2_000_000


LADDER_WITH = "evaluation.ladder=[{kind: zero_cost, keep: 0.5, trials: 8}, {kind: proxy, width: %s}]"


@pytest.mark.parametrize("experiment, width, words", [
    ("cifar10_ladder.yaml", "0", ["'evaluation.ladder[1].width'", "bad value 0", "> 0"]),
    ("cifar10_ladder.yaml", "-1", ["'evaluation.ladder[1].width'", "bad value -1", "> 0"]),
    ("cifar10_ladder.yaml", "x", ["'evaluation.ladder[1].width'", "bad value 'x'", "a number"]),
    ("nasbench201_ladder.yaml", "0.5", ["'evaluation.ladder[1].width'", "bad value 0.5", "'nasbench201'",
                                        "cell, blocks, macro"]),
])
def test_bad_rung_widths_fail_before_any_work(experiment, width, words, tmp_path, capsys):
    run_dir = tmp_path / "run"
    rc = main(["search", str(ROOT / "experiments" / experiment), LADDER_WITH % width, "--run-dir", str(run_dir)])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and len(err.splitlines()) == 1 and "Traceback" not in err
    assert all(w in err for w in words), err
    assert not run_dir.exists()


def test_a_width_on_a_tabular_rung_is_refused():
    with pytest.raises(ValueError, match=r"'evaluation.ladder\[1\].width'.*tabular"):
        load_config(NB201, ["evaluation.ladder=[{kind: zero_cost, keep: 0.5, trials: 8}, {kind: tabular, width: 1}]"])


@pytest.mark.parametrize("fidelity, experiment, words", [
    ("epochs=1,width=0", "cifar10_ladder.yaml", ["--fidelity", "'width'", "bad value 0", "> 0"]),
    ("epochs=1,width=-1", "cifar10_ladder.yaml", ["--fidelity", "'width'", "bad value -1", "> 0"]),
    ("epochs=1,width=x", "cifar10_ladder.yaml", ["--fidelity", "'width'", "bad value 'x'", "> 0"]),
    ("epochs=1,width=0.5", "nasbench201_ladder.yaml", ["--fidelity", "'width'", "bad value 0.5", "'nasbench201'",
                                                       "cell, blocks, macro"]),
])
def test_bad_fidelity_widths_fail_before_any_work(fidelity, experiment, words, tmp_path, capsys):
    out = tmp_path / "out"
    rc = main(["calibrate", str(ROOT / "experiments" / experiment), "--n", "3", "--fidelity", fidelity,
               "--out", str(out)])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and len(err.splitlines()) == 1, err
    assert all(w in err for w in words), err
    assert not out.exists()
