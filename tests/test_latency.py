"""nas.latency: the LUT tier built and read on tiny spaces, the imported-table tier in the tabular and
proxy evaluators, the config boundary, and ``mnasnet_reward`` on any real number type."""
from __future__ import annotations

import fractions
import json

import numpy as np
import pytest

from nas.config import load_config
from nas.latency import ImportedTable, LookupTable, load_lut, load_table
from nas.latency.lut import fit_constants
from nas.latency.profile import build_lut
from nas.latency.units import units
from nas.search.evaluators import TabularEvaluator
from nas.strategies.base import Failure, Result
from nas.strategies.mnasnet import mnasnet_reward
from search_spaces.cell.space import CellSpace
from search_spaces.nasbench201.space import NB201Space
from search_spaces.nasbench201.spec import NB201Spec

pytestmark = pytest.mark.usefixtures("one_thread")

CONV = NB201Spec(("nor_conv_3x3",) * 6)
EMPTY = NB201Spec(("none",) * 6)
MIXED = NB201Spec(("nor_conv_1x1", "skip_connect", "avg_pool_3x3", "none", "nor_conv_3x3", "skip_connect"))


def test_units_follow_the_nb201_plan():
    us = units(CONV, NB201Space())
    # stem, 3 stages x 5 cells x 6 edges, 2 reductions, tail
    assert len(us) == 1 + 90 + 2 + 1
    assert [u.kind for u in us].count("op") == 90
    assert us[1].key == "op:conv_3x3,16,16,1,32,False"
    assert us[-1].key == "nb201_tail:64,8,10"
    assert {u.key for u in units(MIXED)} >= {"op:avg_pool_3x3,32,32,1,16,False", "nb201_reduce:16,32,32"}


def test_lut_build_and_predict_on_a_tiny_nb201(tmp_path):
    space = NB201Space(resolution=8)
    lut = build_lut(space, space_name="nasbench201", samples=60, repeats=2, rounds=1, warmup=1, calibration=3,
                    clock="cpu", threads=1)
    assert len(lut.entries) == 5 * 3 + 4          # 5 ops at 3 stage shapes; stem, 2 reductions, tail
    assert lut.fit.networks == 3 and lut.fit.scale == 1.0   # 3 networks: the offset alone
    conv, empty = (NB201Spec(s.ops, resolution=8) for s in (CONV, EMPTY))
    assert lut.predict_ms(conv, space) > lut.predict_ms(empty, space) > 0
    assert lut.estimate(conv, space).tier == "lut"
    loaded = load_lut(lut.save(tmp_path / "lut.json"))
    assert loaded.predict_ms(conv, space) == pytest.approx(lut.predict_ms(conv, space))
    assert loaded.target["batch_size"] == 1 and loaded.target["clock"] == "cpu"
    with pytest.raises(KeyError, match=r"no entry for unit 'nb201_stem:16,32'"):
        loaded.predict_ms(CONV, NB201Space())          # 32 px units were never profiled


def test_lut_on_a_tiny_cell_space_covers_every_sampled_spec():
    space = CellSpace(("conv_3x3", "identity", "max_pool_3x3"), blocks=2, n=1, filters=4, resolution=8)
    lut = build_lut(space, space_name="cell", samples=300, repeats=1, rounds=1, warmup=1, calibration=0)
    rng = np.random.default_rng(5)
    assert all(lut.predict_ms(space.sample(rng), space) > 0 for _ in range(20))
    assert lut.fit.networks == 0 and lut.fit.scale == 1.0


def test_fit_constants_is_exact_on_a_line_and_falls_back_to_an_offset():
    fit = fit_constants([1.0, 2.0, 4.0, 5.0, 8.0], [2.5, 4.5, 8.5, 10.5, 16.5])
    assert (fit.scale, fit.offset_ms) == (pytest.approx(2.0), pytest.approx(0.5))
    offset_only = fit_constants([1.0, 2.0, 3.0], [2.0, 3.5, 4.0])
    assert (offset_only.scale, offset_only.offset_ms) == (1.0, 1.0)   # median residual
    no_negative_offset = fit_constants([1.0, 2.0, 3.0, 4.0, 5.0], [1.0, 3.0, 5.0, 7.0, 9.0])
    assert no_negative_offset.offset_ms == 0.0 and no_negative_offset.scale > 0


def test_lut_file_errors_name_the_key(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"format": "something-else"}))
    with pytest.raises(ValueError, match=r"evaluation.latency.lut.*not a cellnas-latency-lut v1 file"):
        load_lut(bad)


def _write_table(path, rows, header="arch,latency_ms,pixel_ms"):
    path.write_text("# device: this CPU, batch 1\n" + header + "\n"
                    + "".join(f"{spec.cell_str()},{ms},{2 * ms}\n" for spec, ms in rows))
    return path


def test_imported_table_reads_columns_and_canonical_specs(tmp_path):
    table = load_table(_write_table(tmp_path / "lat.csv", [(CONV, 9.5), (EMPTY, 1.25)]), "pixel_ms")
    assert isinstance(table, ImportedTable) and len(table) == 2
    assert table.estimate(CONV).ms == 19.0 and table.estimate(CONV).tier == "table"
    assert table.header == ("device: this CPU, batch 1",)


def test_tabular_evaluator_reads_the_latency_table_and_fails_a_missing_arch(tmp_path, shared_data):
    from search_spaces.nasbench201.table import NB201Table
    latency = load_table(_write_table(tmp_path / "lat.csv", [(CONV, 9.5), (EMPTY, 1.25)]))
    evaluator = TabularEvaluator(NB201Table(shared_data / "nasbench201-12epoch.csv"), "cifar10_valid", latency)
    outcome = evaluator(CONV, report=lambda *a: None, seed=0)
    assert isinstance(outcome, Result)
    assert outcome.metrics["latency_ms"] == 9.5 and outcome.metrics["latency_tier"] == "table"
    missing = evaluator(MIXED, report=lambda *a: None, seed=0)
    assert isinstance(missing, Failure)
    assert MIXED.cell_str() in missing.reason and "lat.csv" in missing.reason


def test_proxy_evaluator_fails_a_missing_arch_before_training(tmp_path, tiny_imagenet):
    from nas.evaluate import evaluate
    from nas.train import TrainConfig
    space = CellSpace(("conv_3x3", "identity"), blocks=1, n=1, filters=4, num_classes=10,
                      resolution=tiny_imagenet.resolution)
    spec = space.sample(np.random.default_rng(0))   # the key is the spec as evaluated (retargeted to the data)
    table = ImportedTable({"cell:not-this-one": 1.0}, "latency_ms", str(tmp_path / "t.csv"))
    outcome = evaluate(spec, TrainConfig(epochs=1, batch_size=50), tiny_imagenet, latency=table, space=space)
    assert isinstance(outcome, Failure) and spec.to_str() in outcome.reason
    present = ImportedTable({space.to_str(spec): 3.5}, "latency_ms", "t.csv")
    outcome = evaluate(spec, TrainConfig(epochs=1, batch_size=50), tiny_imagenet, latency=present, space=space)
    assert isinstance(outcome, Result), outcome
    assert (outcome.metrics["latency_ms"], outcome.metrics["latency_tier"]) == (3.5, "table")


def test_a_table_with_wrong_columns_fails_before_any_work(tmp_path):
    from nas.search.runner import search
    bad = _write_table(tmp_path / "lat.csv", [(CONV, 9.5)], header="arch,ms,pixel_ms")
    config = load_config(None, ["space.name=nasbench201", "evaluation.kind=tabular", "execution.backend=local",
                                f"evaluation.latency.table={bad}", "budget.trials=2"])
    run_dir = tmp_path / "run"
    with pytest.raises(ValueError, match=r"evaluation.latency.column.*lacks column\(s\) 'latency_ms'.*"
                                         r"'arch', 'ms', 'pixel_ms'"):
        search(config, run_dir)
    assert not run_dir.exists()


@pytest.mark.parametrize("override, match", [
    ("evaluation.latency.clock=cpu", "'cpu' needs threads: 1"),
    ("evaluation.latency.runtime=tensorrt", r"evaluation.latency.runtime.*'tensorrt'.*torch, onnxruntime"),
    ("evaluation.latency.target=-1", r"evaluation.latency.target.*-1"),
])
def test_latency_config_errors_name_the_key(override, match):
    with pytest.raises(ValueError, match=match):
        load_config(None, [override])
    with pytest.raises(ValueError, match="give one"):
        load_config(None, ["evaluation.latency.lut=a.json", "evaluation.latency.table=b.csv"])


@pytest.mark.parametrize("acc, lat, target", [
    (np.float32(0.75), np.int64(160), 80), (0.75, np.float64(160.0), np.int32(80)),
    (fractions.Fraction(3, 4), 160, 80.0), (np.float16(0.75), np.uint16(160), np.float32(80.0)),
])
def test_mnasnet_reward_takes_any_real_number(acc, lat, target):
    assert mnasnet_reward(acc, lat, target, 0.0, np.float64(-1.0)) == pytest.approx(0.375)


@pytest.mark.parametrize("bad", [np.bool_(True), True, "160", np.float64("nan"), None])
def test_mnasnet_reward_still_refuses_non_numbers(bad):
    with pytest.raises(ValueError, match="latency must be a finite number"):
        mnasnet_reward(0.75, bad, 80.0, 0.0, -1.0)


def test_lookup_table_is_plain_data():
    lut = LookupTable({"nb201_stem:16,32": 0.1}, {"device": "cpu"}, "nasbench201")
    assert lut.to_dict()["units"] == {"nb201_stem:16,32": 0.1}
