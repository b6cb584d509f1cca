"""The macro search experiment end to end on real CIFAR-10 images (local backend, a tiny budget),
evolution seeded with named networks, and a CIFAR ResNet trained by ``nas train``."""
from __future__ import annotations

import json
import math
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from nas.config import load_config
from nas.search import search
from nas.search.progress import Progress
from nas.strategies.evolution import RegularizedEvolution
from search_spaces.macro import NAMED, MacroSpace

ROOT = Path(__file__).resolve().parents[1]


def test_evolution_starts_from_the_named_networks_then_samples():
    space = MacroSpace("mobilenet_v2")
    strategy = RegularizedEvolution(space, 0, population_size=4, sample_size=2, initial=["MobileNet_V2"])
    first, second = strategy.ask(2)
    assert first.spec == NAMED["mobilenet_v2"] and first.decisions == space.decisions(NAMED["mobilenet_v2"])
    assert second.spec != first.spec
    state = strategy.state_dict()
    again = RegularizedEvolution(space, 0, population_size=4, sample_size=2, initial=["MobileNet_V2"])
    again.load_state_dict(state)
    assert again.seeded == 1 and again.ask(1)[0].spec == strategy.ask(1)[0].spec


@pytest.mark.parametrize("initial,match", [("mobilenet_v2", "must be a list"),
                                           (["resnet_9000"], "initial: 'resnet_9000'"),
                                           (["resnet50"], "initial: 'resnet50' cannot seed")])
def test_bad_seeds_name_the_entry(initial, match):
    with pytest.raises(ValueError, match=match):
        RegularizedEvolution(MacroSpace("mobilenet_v2"), 0, population_size=4, sample_size=2, initial=initial)


def test_macro_experiment_runs_end_to_end_on_real_cifar10(tmp_path, shared_data):
    overrides = ["execution.backend=local", "budget.trials=2", "data.per_class=30", "data.download=false",
                 f"data.dataset={shared_data / 'cifar10-jpeg.tar.gz'}", f"data.cache_dir={tmp_path / 'cache'}",
                 "evaluation.train.epochs=1", "evaluation.train.batch_size=32",
                 "strategy.options.population_size=2", "strategy.options.sample_size=1", f"output={tmp_path}"]
    config = load_config(ROOT / "experiments" / "cifar10_macro_mobilenetv2.yaml", overrides)
    summary = search(config, tmp_path / "run", progress=Progress(enabled=False))
    with sqlite3.connect(summary.run_dir / "trials.sqlite") as conn:
        rows = conn.execute("SELECT spec, status, reward, metrics FROM trials ORDER BY seq").fetchall()
    assert [r[1] for r in rows] == ["done", "done"]
    assert all(math.isfinite(r[2]) and 0 <= r[2] <= 1 for r in rows)
    assert rows[0][0] == NAMED["mobilenet_v2"].to_str()  # the seed: the store keeps the proposed spec
    assert json.loads(rows[0][3])["params"] > 2_000_000 and rows[1][0] != rows[0][0]


@pytest.mark.slow
def test_nas_train_resnet20_beats_chance_on_5000_real_images(tmp_path, shared_data):
    out = tmp_path / "train"
    subprocess.run([sys.executable, "-m", "nas.cli", "train", "resnet20", "--dataset",
                    str(shared_data / "cifar10-jpeg.tar.gz"), "--per-class", "500", "--epochs", "3",
                    "--test-per-class", "100", "--cache-dir", str(tmp_path / "cache"), "--out", str(out)],
                   check=True, capture_output=True, text=True, cwd=ROOT)
    results = json.loads((out / "results.json").read_text())
    assert results["params"] == 269_722  # He et al.'s 0.27M, option A shortcuts
    assert results["test_acc"] > 0.3, results
