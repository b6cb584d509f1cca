"""Config loading: every float form Python accepts, duplicate YAML keys refused with the key and
line, cross-field checks (metric, selecting on the test split, split seed, one class), the
execution.device field and ``nas --version``."""
from __future__ import annotations

import subprocess

import pytest

from nas import cli
from nas.config import load_config
from nas.data.datasets import DataConfig
from reliability_helpers import ROOT, cli as nas_cli, env


@pytest.mark.parametrize("text, value", [("5e-2", 0.05), ("3e-4", 3e-4), ("1.0e12", 1e12), ("1E3", 1000.0),
                                         (".5", 0.5), ("1_000.5", 1000.5), ("+2.5e+1", 25.0), ("7", 7.0)])
def test_every_python_float_form_in_yaml_and_overrides(tmp_path, text, value):
    path = tmp_path / "exp.yaml"
    path.write_text(f"evaluation:\n  train:\n    lr: {text}\n")
    assert load_config(path).evaluation.train.lr == value
    config = load_config(None, [f"evaluation.train.weight_decay={text}", f"budget.time_s={text}"])
    assert config.evaluation.train.weight_decay == value and config.budget.time_s == value


def test_free_form_options_get_floats_too(tmp_path):
    path = tmp_path / "exp.yaml"
    path.write_text("strategy:\n  name: rnn\n  options: {lr: 3.5e-3}\n")
    assert load_config(path).strategy.options["lr"] == 0.0035


@pytest.mark.parametrize("bad", ["nan", "inf", "1e999", "'1e-3x'"])
def test_non_finite_or_non_numbers_still_refused(bad):
    with pytest.raises((TypeError, ValueError), match="evaluation.train.lr"):
        load_config(None, [f"evaluation.train.lr={bad}"])


def test_duplicate_yaml_key_names_key_and_line(tmp_path):
    path = tmp_path / "dup.yaml"
    path.write_text("name: a\nbudget:\n  trials: 4\n  trials: 8\n")
    with pytest.raises(ValueError) as err:
        load_config(path)
    text = str(err.value)
    assert str(path) in text and "line 4" in text and "duplicate key 'trials'" in text and "\n" not in text


@pytest.mark.parametrize("overrides, words", [
    (["evaluation.metric=accuracy"], ["evaluation.metric", "'accuracy'", "val_acc"]),
    (["evaluation.kind=tabular", "evaluation.metric=test_acc"], ["evaluation.metric", "val_acc"]),
    (["data.val_fraction=0", "data.load_test=true"], ["data.val_fraction", "test split"]),
    (["data.split_seed=-1"], ["data.split_seed", "-1"]),
    (["data.classes=1"], ["data.classes", "at least 2"]),
    (["execution.device=tpu"], ["execution.device", "'tpu'", "'auto'"]),
])
def test_cross_field_checks_name_the_key(overrides, words):
    with pytest.raises((TypeError, ValueError)) as err:
        load_config(None, overrides)
    assert all(w in str(err.value) for w in words), str(err.value)


def test_function_evaluators_keep_their_own_metric_and_final_training_may_use_test():
    assert load_config(None, ["evaluation.kind=function", "evaluation.function=m:f",
                              "evaluation.metric=my_score"]).evaluation.metric == "my_score"
    assert DataConfig(val_fraction=0.0, load_test=True).val_fraction == 0.0  # nas train's case
    assert load_config(None).execution.device == "auto"


def test_version_flag():
    out = subprocess.run(nas_cli("--version"), cwd=ROOT, env=env(), capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip().startswith("nas (cellnas) 0.")


def test_cli_exits_2_with_the_key(tmp_path, capsys):
    path = tmp_path / "exp.yaml"
    path.write_text("seed: 1\nseed: 2\n")
    assert cli.main(["search", "--allow-code", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "duplicate key 'seed'" in err[0] and "line 2" in err[0]
