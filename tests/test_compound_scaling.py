"""The compound-scaling coefficient search (EfficientNet, Tan & Le 2019): the constrained grid,
the scaling space and its spec, the phi family against the formula, and the search end to end on
real CIFAR-10 images through Ray (block base) and the local backend (cell base)."""
from __future__ import annotations

import csv
import itertools
import json
import math
import sqlite3
from pathlib import Path

import pytest

from nas import cli
from search_spaces.compound.space import ScaledSpec, ScalingSpace, coefficient_grid
from nas.scaling.family import family, paper_differences
from search_spaces.catalog import resolve, space_for

ROOT = Path(__file__).resolve().parents[1]
TINY_BLOCKS = "blocks:stem_c8,ir_r1_k3_s1_e1_c8,ir_r1_k3_s2_e3_c16,head_c32,classes10,res32"
TINY_CELLS = ("cell:normal=sep_conv_3x3@0+skip_connect@1,max_pool_3x3@0+sep_conv_3x3@2;"
              "reduce=max_pool_3x3@0+sep_conv_3x3@1,skip_connect@2+avg_pool_3x3@1;"
              "N=1;F=8;stem=cifar;wiring=darts;classes=10;res=32;stem_mult=1")


def test_grid_holds_exactly_the_triples_meeting_the_constraint():
    grid = coefficient_grid(0.05, (1.0, 1.3), (1.0, 1.2), (1.0, 1.25), target=2.0, tolerance=0.05)
    axis = lambda lo, hi: [round(lo + 0.05 * k, 6) for k in range(int(round((hi - lo) / 0.05)) + 1)]  # noqa: E731
    expected = [t for t in itertools.product(axis(1.0, 1.3), axis(1.0, 1.2), axis(1.0, 1.25))
                if 1.9 <= t[0] * t[1] ** 2 * t[2] ** 2 <= 2.1]
    assert list(grid) == expected and len(grid) == 36
    assert (1.2, 1.1, 1.15) in grid  # the paper's choice: 1.92
    assert coefficient_grid(0.05, (1.0, 1.3), (1.0, 1.2), (1.0, 1.25), tolerance=0.01) != grid


def test_scaled_spec_round_trips_and_scales_its_base():
    spec = ScaledSpec(resolve(TINY_BLOCKS), 1.2, 1.1, 1.15, phi=2)
    assert ScaledSpec.from_str(spec.to_str()) == spec and ScaledSpec.from_dict(spec.to_dict()) == spec
    net = spec.network
    assert net.resolution == round(32 * 1.15 ** 2) == 42
    assert [s.repeats for s in net.stages] == [math.ceil(1.44), math.ceil(1.44)]
    with pytest.raises(ValueError, match="alpha must be >= 1"):
        ScaledSpec(resolve(TINY_BLOCKS), 0.9, 1.1, 1.15)
    with pytest.raises(ValueError, match="bad token"):
        ScaledSpec.from_str("compound:alpha=1.2;delta=1;base=" + TINY_BLOCKS)


def test_scaling_space_freeze_and_decisions_are_inverse():
    space = ScalingSpace(TINY_CELLS, step=0.1, alpha=(1.0, 1.2), beta=(1.0, 1.2), gamma=(1.0, 1.2), tolerance=0.1)
    assert len(space.triples) == 5
    for i in range(len(space.triples)):
        spec = space.freeze([i])
        assert space.decisions(spec) == (i,)
        assert space.from_str(space.to_str(spec)) == spec
        assert space.cost(spec) == space_for(spec.network).cost(spec.network)
    with pytest.raises(ValueError, match="not on this space's grid"):
        space.validate(ScaledSpec(space.base, 1.0, 1.0, 1.0))
    with pytest.raises(ValueError, match="widen the ranges"):
        ScalingSpace(TINY_CELLS, alpha=(1.0, 1.05), beta=(1.0, 1.0), gamma=(1.0, 1.0))


def _round8(chs: float) -> int:
    """EfficientNet's rule, written out independently: nearest multiple of 8, one step up when
    that is more than 10% below the target."""
    r = max(8, int(chs + 4) // 8 * 8)
    return r + 8 if r < 0.9 * chs else r


def test_efficientnet_coefficients_give_the_formulas_family(tmp_path):
    assert cli.main(["scale", "efficientnet_b0", "--family", "--coefficients", "1.2,1.1,1.15",
                     "--out-dir", str(tmp_path)]) == 0
    b0 = resolve("efficientnet_b0")
    rows = list(csv.DictReader((tmp_path / "family.csv").open()))
    assert [float(r["phi"]) for r in rows] == list(range(8))
    for phi in range(1, 8):
        spec = resolve(str(tmp_path / f"phi{phi}.json"))
        d, w = 1.2 ** phi, 1.1 ** phi
        assert spec.resolution == round(224 * 1.15 ** phi) == int(rows[phi]["resolution"])
        assert [s.repeats for s in spec.stages] == [math.ceil(round(s.repeats * d, 9)) for s in b0.stages]
        assert [s.out_chs for s in spec.stages] == [_round8(s.out_chs * w) for s in b0.stages]
        assert (spec.stem, spec.head) == (_round8(32 * w), _round8(1280 * w))
        assert int(rows[phi]["macs"]) == space_for(spec).cost(spec).macs
    # The released B1..B7 were rounded by hand: the formula's phi=1 is 258 px, B1 is 240 px...
    notes = paper_differences(family(b0, 1.2, 1.1, 1.15))
    assert len(notes) == 7 and "resolution 258 vs table 240" in notes[0]
    # ...and the table is not the formula at any phi: B7's depth 3.1 is the formula's 3.58 at phi=7.
    assert "depth 3.58 vs table 3.1" in notes[6]


def test_cell_family_scales_n_f_and_resolution():
    base = resolve(TINY_CELLS)
    members = family(base, 1.2, 1.1, 1.15, phis=[1, 3])
    assert [(m.spec.n, m.spec.filters, m.spec.resolution) for m in members] == [
        (1, 8, 32), (2, 8, 37), (2, 12, 49)]   # F: 8 * 1.331 = 10.6 -> nearest multiple of 4 is 12
    assert members[0].macs < members[1].macs < members[2].macs


def _trials(run_dir):
    with sqlite3.connect(run_dir / "trials.sqlite") as conn:
        return conn.execute("SELECT spec, status, reward, metrics FROM trials ORDER BY seq").fetchall()


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    """One decoded-image cache for both searches (same images, so the second reads one file)."""
    return tmp_path_factory.mktemp("image-cache")


def _search_args(shared_data, tmp_path, cache_dir, experiment, base, backend):
    return ["scale", "--search", experiment, f"space.options.base={base}", "space.options.step=0.1",
            "space.options.alpha=[1.0,1.2]", "space.options.beta=[1.0,1.2]", "space.options.gamma=[1.0,1.2]",
            "space.options.tolerance=0.1", "evaluation.train.epochs=1", "evaluation.train.batch_size=50",
            f"data.dataset={shared_data / 'cifar10-jpeg.tar.gz'}", "data.per_class=30",
            f"data.cache_dir={cache_dir}", f"execution.num_cpus={2 if backend == 'ray' else 1}",
            "execution.max_concurrent=2",
            f"output={tmp_path / 'runs'}", "--backend", backend, "--run-dir", str(tmp_path / "run")]


def _check_run(run_dir, base_text, n_triples):
    rows = _trials(run_dir)
    assert len(rows) == n_triples and all(status == "done" for _, status, _, _ in rows)
    base = resolve(base_text)
    for spec_text, _, reward, metrics in rows:
        spec, metrics = ScaledSpec.from_str(spec_text), json.loads(metrics)
        assert spec.base == base and spec.phi == 1.0
        assert abs(spec.alpha * spec.beta ** 2 * spec.gamma ** 2 - 2.0) <= 0.2 + 1e-9
        assert (metrics["alpha"], metrics["beta"], metrics["gamma"]) == spec.coefficients
        assert metrics["resolution"] == round(32 * spec.gamma) == spec.network.resolution
        assert metrics["params"] == space_for(spec.network).cost(spec.network).params
        assert 0.0 <= reward <= 1.0 and reward == metrics["val_acc"]
    best = max(rows, key=lambda r: r[2])
    summary = json.loads((run_dir / "family" / "family.json").read_text())
    assert ScaledSpec.from_str(best[0]).coefficients == (summary["alpha"], summary["beta"], summary["gamma"])
    assert summary["coefficients_from"] == "search" and len(summary["members"]) == 8
    assert summary["members"][0]["spec"] == base.to_str()


@pytest.mark.slow
def test_compound_search_end_to_end_on_ray(shared_data, tmp_path, cache_dir, capsys):
    experiment = str(ROOT / "experiments/compound_scaling.yaml")
    args = _search_args(shared_data, tmp_path, cache_dir, experiment, TINY_BLOCKS, "ray")
    assert cli.main(args) == 0
    assert "evaluated 5 coefficient triples (0 failed)" in capsys.readouterr().out
    _check_run(tmp_path / "run", TINY_BLOCKS, 5)


@pytest.mark.slow
def test_compound_search_of_a_cell_network_locally(shared_data, tmp_path, cache_dir):
    experiment = str(ROOT / "experiments/compound_scaling_cells.yaml")
    args = _search_args(shared_data, tmp_path, cache_dir, experiment, TINY_CELLS, "local")
    args[args.index("space.options.alpha=[1.0,1.2]")] = "space.options.alpha=[1.1,1.2]"
    assert cli.main(args) == 0
    _check_run(tmp_path / "run", TINY_CELLS, 4)
