"""``nas calibrate`` on real CIFAR-10 images and the shared NB201 12-epoch table, at tiny size:
files written, correlations finite and in range, the table columns in the NB201 space only, bad
inputs refused before any work with the option named, and the same seed giving the same numbers."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from nas.calibrate import parse_fidelity, plan_calibration, run_calibration
from nas.calibrate_report import seed_noise, top_recall
from nas.cli import main
from nas.config import load_config

ROOT = Path(__file__).resolve().parents[1]
NB201 = str(ROOT / "experiments" / "nasbench201_ladder.yaml")


@pytest.fixture(scope="module")
def data_overrides(shared_data, tmp_path_factory) -> list[str]:
    cache = tmp_path_factory.mktemp("calib-cache")
    return [f"data.dataset={shared_data / 'cifar10-jpeg.tar.gz'}", f"data.cache_dir={cache}",
            f"evaluation.tabular.table={shared_data / 'nasbench201-12epoch.csv'}"]


@pytest.fixture(scope="module")
def nb201_run(data_overrides, tmp_path_factory) -> tuple[int, dict, Path]:
    out = tmp_path_factory.mktemp("calib-nb201")
    rc = main(["calibrate", NB201, *data_overrides, "--n", "4", "--proxies", "params,naswot", "--fidelity",
               "epochs=1,per_class=10,val_fraction=0.5", "--seeds", "2", "--out", str(out), "--quiet"])
    return rc, json.loads((out / "calibration.json").read_text()), out


def test_nb201_writes_table_json_png(nb201_run):
    rc, result, out = nb201_run
    assert rc == 0
    assert (out / "calibration.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = (out / "calibration.md").read_text()
    assert "nb201_12ep_cifar10_valid" in text and "| train[epochs=1,per_class=10,val_fraction=0.5] | 2 |" in text
    names = ["params", "naswot", "train[epochs=1,per_class=10,val_fraction=0.5]",
             "train[epochs=1,per_class=10,val_fraction=0.5]:val_loss",
             "nb201_12ep_cifar10_valid", "nb201_12ep_cifar10_test"]
    assert list(result["columns"]) == names
    assert result["reference"] == "nb201_12ep_cifar10_valid" and result["n"] == 4
    for a in names:
        for b in names:
            for stat in ("spearman", "kendall"):
                value = result[stat][a][b]
                assert math.isfinite(value) and -1.0 <= value <= 1.0, (stat, a, b, value)
    # params and MACs order NB201 cells alike; the two table columns are the benchmark's own
    assert result["columns"]["params"]["values"][0] > 1e5
    assert all(50.0 < v < 100.0 for v in result["columns"]["nb201_12ep_cifar10_test"]["values"])
    assert len(result["nb201_index"]) == 4 and all(0 <= i < 15625 for i in result["nb201_index"])
    noise = result["seed_noise"]["train[epochs=1,per_class=10,val_fraction=0.5]"]
    assert noise["seeds"] == 2 and 0.0 <= noise["mean_abs_delta_acc"] < 1.0
    accs = result["per_seed"]["train[epochs=1,per_class=10,val_fraction=0.5]"]
    assert len(accs) == 2 and all(0.0 <= a <= 1.0 for a in accs[0] + accs[1])
    assert result["columns"]["train[epochs=1,per_class=10,val_fraction=0.5]"]["images"] == 50
    # the loss column (what `reward: val_loss` ranks by): a negated cross-entropy near ln(10) at chance
    losses = result["columns"]["train[epochs=1,per_class=10,val_fraction=0.5]:val_loss"]["values"]
    assert len(losses) == 4 and all(-10.0 < v < -0.5 for v in losses)


def test_same_seed_same_numbers_other_seed_other_cells(data_overrides, nb201_run):
    _, first, _ = nb201_run
    fid = [parse_fidelity("epochs=1,per_class=10,val_fraction=0.5")]
    config = load_config(NB201, data_overrides)
    again = run_calibration(plan_calibration(config, n=4, proxies=["params", "naswot"], fidelities=fid, seeds=2),
                            progress=None)
    assert again["candidates"] == first["candidates"]
    for name in ("naswot", "train[epochs=1,per_class=10,val_fraction=0.5]"):
        assert again["columns"][name]["values"] == first["columns"][name]["values"]
    other = plan_calibration(load_config(NB201, [*data_overrides, "seed=1"]), n=4, proxies=["params"], fidelities=[])
    assert [s.to_str() for s in other.specs] != first["candidates"]


def test_cell_space_has_no_table_column(data_overrides, tmp_path):
    rc = main(["calibrate", str(ROOT / "experiments" / "quickstart.yaml"), *data_overrides[:2], "--n", "3",
               "--proxies", "params", "--fidelity", "epochs=1,per_class=6,val_fraction=0.5,batch_size=16",
               "--seeds", "1", "--out", str(tmp_path), "--quiet"])
    result = json.loads((tmp_path / "calibration.json").read_text())
    assert rc == 0 and not any(k.startswith("nb201") for k in result["columns"])
    assert result["reference"] == "train[epochs=1,per_class=6,val_fraction=0.5,batch_size=16]"
    assert result["nb201_index"] is None and result["seed_noise"] == {"train[epochs=1,per_class=6,val_fraction=0.5,"
                                                                      "batch_size=16]": {}}


@pytest.mark.parametrize("args, words", [
    (["--n", "2"], ["--n", "2", "accepted: an integer >= 3"]),
    (["--proxies", "naswot,bogus"], ["--proxies", "'bogus'", "accepted", "jacob_cov"]),
    (["--fidelity", "epochs=1,widht=2"], ["--fidelity", "'widht'", "accepted keys", "per_class"]),
    (["--fidelity", "epochs=0"], ["--fidelity", "'epochs=0'", "train.epochs must be a positive integer"]),
    (["--fidelity", "epochs"], ["--fidelity", "'epochs'", "KEY=VALUE"]),
    (["--seeds", "0"], ["--seeds", "0", "accepted"]),
])
def test_bad_input_fails_before_work(args, words, tmp_path, capsys):
    rc = main(["calibrate", NB201, *args, "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and len(err.splitlines()) == 1
    assert all(w in err for w in words), err
    assert not (tmp_path / "out").exists()


def test_top_recall_and_seed_noise_values():
    ref = [float(i) for i in range(20)]                      # the best two are indices 19, 18
    assert top_recall(ref, ref, 0.1) == 1.0
    assert top_recall([-x for x in ref], ref, 0.5) == 0.0
    assert top_recall([0.0] * 18 + [5.0, float("nan")], ref, 0.1) == 0.5  # NaN (a failure) ranks last
    noise = seed_noise([[0.1, 0.2, 0.3], [0.1, 0.3, 0.2]])
    assert noise["seeds"] == 2 and noise["spearman"] == pytest.approx(0.5)
    assert noise["mean_abs_delta_acc"] == pytest.approx(0.2 / 3)


def test_ladder_experiment_calibrates_its_training_rung_by_default(data_overrides):
    plan = plan_calibration(load_config(NB201, data_overrides), n=3, proxies=["params"], seeds=1)
    # the first training rung trains the experiment's recipe, the second the same for 5 epochs
    assert [f.name for f in plan.fidelities] == ["experiment", "epochs=5"]
    assert plan.train_configs[0].epochs == 3 and plan.train_configs[0].lr == 0.1
    assert plan.train_configs[1].epochs == 5 and plan.train_configs[1].lr == 0.1
    assert plan.table is not None and len(plan.specs) == 3
