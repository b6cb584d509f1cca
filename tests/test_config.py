"""Experiment config: YAML + dotted overrides into frozen dataclasses; every bad key or value is
refused before anything runs, naming the key, the value and what is accepted."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml

from nas.config import ExperimentConfig, apply_overrides, build, dump_config, load_config, to_dict

ROOT = Path(__file__).resolve().parents[1]


def write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_yaml_and_overrides_build_frozen_config(tmp_path):
    path = write(tmp_path, {"name": "demo", "budget": {"trials": 8},
                            "strategy": {"name": "evolution", "options": {"population": 10}},
                            "execution": {"gpus_per_trial": 0.25}})
    config = load_config(path, ["strategy.seed=3", "budget.trials=64", "execution.scheduler=asha",
                                "strategy.options.sample_size=5", "data.root=/x/cifar.tar.gz"])
    assert config.name == "demo"
    assert config.strategy.seed == 3 and config.budget.trials == 64
    assert config.execution.scheduler == "asha" and config.execution.gpus_per_trial == 0.25
    assert dict(config.strategy.options) == {"population": 10, "sample_size": 5}
    assert config.data.root == "/x/cifar.tar.gz"
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.budget.trials = 1
    with pytest.raises(TypeError):
        config.strategy.options["population"] = 1  # options are read-only too


def test_dump_round_trips():
    config = load_config(None, ["execution.cpus_per_trial=0.5", "space.options.ops=[a, b]"])
    data = yaml.safe_load(dump_config(config))
    assert data["space"]["options"]["ops"] == ["a", "b"]
    assert data["execution"]["cpus_per_trial"] == 0.5
    again = build(ExperimentConfig, data)
    assert to_dict(again) == to_dict(config)
    assert again.execution == config.execution


@pytest.mark.parametrize("override, words", [
    ("budget.trial=3", ["budget.trial", "trials", "time_s"]),
    ("bugdet.trials=3", ["bugdet", "budget", "execution"]),
    ("budget.trials=0", ["budget.trials", "0", ">= 1"]),
    ("budget.trials=2.5", ["budget.trials", "2.5", "integer"]),
    ("budget.trials=true", ["budget.trials", "True", "integer"]),
    ("execution.backend=gpu", ["execution.backend", "gpu", "'ray', 'local'"]),
    ("execution.scheduler=hyperband", ["execution.scheduler", "hyperband", "'none', 'asha'"]),
    ("execution.cpus_per_trial=0", ["execution.cpus_per_trial", "0", "> 0"]),
    ("execution.gpus_per_trial=-1", ["execution.gpus_per_trial", "-1", ">= 0"]),
    ("execution.asha.reduction_factor=1", ["execution.asha.reduction_factor", "1", "> 1"]),
    ("data.per_class=0", ["data", "per_class", "0", "positive integer"]),
    ("data.classes=[1, 2]", ["data.classes", "[1, 2]", "integer or a list of a string"]),
    ("evaluation.train.epochs=0", ["evaluation.train", "epochs", "0", "positive integer"]),
    ("evaluation.train.optimizer=adam", ["evaluation.train.optimizer", "lr", "epochs"]),
    ("evaluation.kind=nas", ["evaluation.kind", "nas", "'proxy', 'tabular', 'function'"]),
    ("budget=4", ["budget", "4", "trials"]),
    ("strategy.options=3", ["strategy.options", "3", "mapping"]),
    ("budget.trials", ["budget.trials", "KEY.SUB=VALUE"]),
])
def test_bad_keys_and_values_name_key_value_and_accepted(override, words):
    with pytest.raises((ValueError, TypeError)) as info:
        load_config(None, [override])
    for word in words:
        assert word in str(info.value), (word, str(info.value))


def test_bad_file_inputs(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.yaml"):
        load_config(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("- a\n- b\n")
    with pytest.raises(TypeError, match="mapping"):
        load_config(bad)


def test_overrides_do_not_touch_the_input():
    data = {"budget": {"trials": 4}}
    out = apply_overrides(data, ["budget.trials=5", "execution.asha.max_t=9"])
    assert data == {"budget": {"trials": 4}}
    assert out == {"budget": {"trials": 5}, "execution": {"asha": {"max_t": 9}}}


@pytest.mark.parametrize("path", sorted((ROOT / "experiments").glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_experiments_load_and_plan(path, tmp_path):
    """Every shipped experiment parses, and its space and strategy build (no data is loaded)."""
    from nas.search.plan import make_space, make_strategy
    config = load_config(path)
    assert config.budget.trials >= 1
    assert path.read_text().lstrip().startswith("#"), "each experiment opens with a comment header"
    space = make_space(config)
    strategy = make_strategy(config, space, 0, tmp_path)
    (candidate,) = strategy.ask(1)
    space.validate(candidate.spec)
    assert space.from_str(space.to_str(candidate.spec)) == candidate.spec
