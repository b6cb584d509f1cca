"""Per-trial records: every epoch in the run store, Ray Tune's per-trial files (result.json,
progress.csv, TensorBoard events read back with TensorBoard's own reader) and the trials export
(CSV and pandas), on the local backend and on Ray."""
from __future__ import annotations

import csv
import json
import sqlite3
from pathlib import Path

import pytest

from nas import runs
from nas.config import load_config
from nas.search import search
from nas.search.progress import Progress
from search_toys import ToySpace, toy_score
from test_search_local import toy_config


def _run(tmp_path: Path, *overrides: str) -> Path:
    config = load_config(toy_config(tmp_path), ["budget.trials=6", *overrides])
    return search(config, tmp_path / "run", progress=Progress(enabled=False), allow_code=True).run_dir


def _scalars(folder: Path) -> dict[str, list[tuple[int, float]]]:
    from tensorboard.backend.event_processing import event_accumulator
    acc = event_accumulator.EventAccumulator(str(folder))
    acc.Reload()
    return {tag: [(e.step, round(e.value, 5)) for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}


def _check_records(run_dir: Path, epochs: int) -> None:
    space = ToySpace()
    with sqlite3.connect(run_dir / "trials.sqlite") as conn:
        trials = conn.execute("SELECT candidate_id, spec FROM trials WHERE status = 'done'").fetchall()
        stored = conn.execute("SELECT candidate_id, epoch, metrics FROM epochs").fetchall()
    assert len(trials) == 6 and len(stored) == 6 * epochs
    for cid, spec in trials:
        final = toy_score(space.from_str(spec))
        want = [(e, round(final * e / epochs, 5)) for e in range(1, epochs + 1)]
        got = sorted((e, round(json.loads(m)["val_acc"], 5)) for c, e, m in stored if c == cid)
        assert got == want
        folder = run_dir / "trials" / f"candidate-{cid}"
        assert json.loads((folder / "params.json").read_text())["spec"] == spec
        lines = [json.loads(line) for line in (folder / "result.json").read_text().splitlines()]
        assert [(r["training_iteration"], round(r["val_acc"], 5)) for r in lines] == want
        with (folder / "progress.csv").open() as fh:
            rows = list(csv.DictReader(fh))
        assert [(int(r["epoch"]), round(float(r["val_acc"]), 5)) for r in rows] == want
        assert _scalars(folder)["val_acc"] == want  # what `tensorboard --logdir RUN` shows


def test_local_search_keeps_every_epoch_in_store_files_and_tensorboard(tmp_path):
    run_dir = _run(tmp_path, "evaluation.options.epochs=3")
    _check_records(run_dir, epochs=3)


@pytest.mark.slow
def test_ray_search_keeps_every_epoch_in_store_files_and_tensorboard(tmp_path, monkeypatch):
    tests = Path(__file__).resolve().parent  # Ray workers import the toy modules through PYTHONPATH
    monkeypatch.setenv("PYTHONPATH", f"{tests.parent}:{tests}")
    run_dir = _run(tmp_path, "execution.backend=ray", "execution.num_cpus=2",
                   "execution.max_concurrent=2", "evaluation.options.epochs=2")
    _check_records(run_dir, epochs=2)


def test_trials_export_csv_and_frame_fold_repeats(tmp_path):
    spec_a, spec_b = "toy:w32-d3-swish", "toy:w8-d1-relu"
    config = load_config(toy_config(tmp_path), [
        "budget.trials=5", "strategy.name=search_toys:FixedList",
        f"strategy.options.specs=[{spec_a}, {spec_b}, {spec_a}]"])
    run_dir = search(config, tmp_path / "run", progress=Progress(enabled=False), allow_code=True).run_dir
    frame = runs.trials_frame(run_dir)
    assert list(frame["spec"]) == [spec_a, spec_b, spec_a, spec_a, spec_b]
    assert list(frame["metric.params"]) == [32 * 32 * 3, 8 * 8, 32 * 32 * 3, 32 * 32 * 3, 8 * 8]
    assert list(frame["decision.d0"]) == [2, 0, 2, 2, 0]
    folded = runs.trials_frame(run_dir, distinct=True)
    assert list(folded["spec"]) == [spec_a, spec_b] and list(folded["repeats"]) == [3, 2]
    assert list(folded.index) == [1, 2]  # the earliest of equal rewards, like nas.runs.top
    assert [r.spec for r in runs.top(run_dir)] == [spec_a, spec_b]
    path = runs.export_trials_csv(run_dir, tmp_path / "trials.csv")
    with path.open() as fh:
        rows = list(csv.DictReader(fh))
    assert [r["spec"] for r in rows] == list(frame["spec"]) and rows[0]["reward"] == str(toy_score(
        ToySpace().from_str(spec_a)))
    epochs = runs.epochs_frame(run_dir)
    assert len(epochs) == 10 and set(epochs["epoch"]) == {1, 2}
