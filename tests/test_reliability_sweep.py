"""The bad-input sweep: over a hundred bad configs, overrides, specs and files across ``nas search``,
``nas train``, ``nas report`` and ``nas eval``. Each must exit non-zero with a last stderr line that
names the field or file, print no traceback, and change no file (a refused command writes nothing).

In-process (``cli.main``) so the sweep stays fast; a raised exception would fail the test just as a
traceback would, and argparse's own exits are taken as the process would see them."""
from __future__ import annotations

import contextlib
import io
import json
import sqlite3
from pathlib import Path

import pytest
import yaml

from nas import cli
from reliability_helpers import image_folder, snapshot

TOY = {"name": "toy", "seed": 7, "space": {"name": "search_toys:ToySpace"},
       "strategy": {"name": "search_toys:ToyHillClimb"},
       "evaluation": {"kind": "function", "function": "search_toys:score"},
       "data": {"dataset": "none"}, "execution": {"backend": "local"}, "budget": {"trials": 2},
       "output": "runs"}

# (override(s), what the last line must name)
OVERRIDES = [
    ("budget.trials=0", "budget.trials"), ("budget.trials=abc", "budget.trials"),
    ("budget.trials=1.5", "budget.trials"), ("budget.trials=-3", "budget.trials"),
    ("budget.time_s=0", "budget.time_s"), ("budget.time_s=-1e3", "budget.time_s"),
    ("budget.time_s=nan", "budget.time_s"), ("budget.bogus=1", "budget.bogus"),
    ("seed=-1", "seed"), ("seed=1.5", "seed"), ("seed=[1]", "seed"), ("name=[a,b]", "name"),
    ("bogus=1", "bogus"), ("space=3", "space"), ("space.bogus=1", "space.bogus"),
    ("space.name=nope", "space.name"), ("space.name=os:nope", "space.name"),
    ("strategy.name=nope", "strategy.name"), ("strategy.seed=x", "strategy.seed"),
    ("strategy.options.bogus=1", "strategy.options.bogus"),
    ("evaluation.kind=magic", "evaluation.kind"),
    ("evaluation.kind=proxy evaluation.metric=acc", "evaluation.metric"),
    ("evaluation.kind=tabular evaluation.metric=test_acc", "evaluation.metric"),
    ("evaluation.kind=function evaluation.function=", "evaluation.function"),
    ("evaluation.function=nocolon", "evaluation.function"),
    ("evaluation.function=no_such_module:f", "evaluation.function"),
    ("evaluation.train.lr=0", "lr"), ("evaluation.train.lr=-5e-2", "lr"),
    ("evaluation.train.lr=fast", "evaluation.train.lr"),
    ("evaluation.train.epochs=0", "epochs"), ("evaluation.train.batch_size=1e3", "evaluation.train.batch_size"),
    ("evaluation.train.label_smoothing=1.5", "label_smoothing"),
    ("evaluation.train.bogus=1", "evaluation.train.bogus"),
    ("evaluation.train.device=tpu", "device"),
    ("evaluation.latency.device=x evaluation.latency.bogus=1", "evaluation.latency"),
    ("data.val_fraction=0 data.load_test=true evaluation.kind=proxy", "data.val_fraction"),
    ("data.val_fraction=1", "val_fraction"), ("data.val_fraction=-0.1", "val_fraction"),
    ("data.split_seed=-1", "data.split_seed"), ("data.split_seed=x", "data.split_seed"),
    ("data.classes=1", "data.classes"), ("data.classes=0", "data.classes"), ("data.per_class=0", "per_class"),
    ("data.resolution=-8", "resolution"), ("data.bogus=1", "data.bogus"),
    ("execution.backend=gpu", "execution.backend"), ("execution.device=tpu", "execution.device"),
    ("execution.cpus_per_trial=0", "execution.cpus_per_trial"),
    ("execution.gpus_per_trial=-1", "execution.gpus_per_trial"),
    ("execution.max_concurrent=0", "execution.max_concurrent"),
    ("execution.scheduler=hyperband", "execution.scheduler"),
    ("execution.asha.reduction_factor=1", "execution.asha.reduction_factor"),
    ("execution.num_cpus=0", "execution.num_cpus"),
    ("execution.backend=ray execution.cpus_per_trial=512", "execution.cpus_per_trial"),
    ("execution.backend=ray execution.device=gpu execution.num_gpus=0 execution.gpus_per_trial=1",
     "execution.device"),
    ("budget=[1,2]", "budget"), ("budget.trials", "budget.trials"), ("=3", "override"),
    ("budget.trials=[1", "override"), ("a..b=1", "override"),
]

# (file text, what the last line must name: the file)
YAML_FILES = [
    "name: a\nname: b\n", "budget:\n  trials: 1\n  trials: 2\n", "- 1\n- 2\n", "just a string\n",
    "name: [unclosed\n", "name: a\n\tseed: 1\n", "space: {name: cell, name: block}\n", "a: b: c\n",
    "name: 'open\n", "? [a, b]\n: 1\n", "budget: *nope\n", "%YAML 9.9\n---\nname: a\n",
]


@pytest.fixture
def world(tmp_path, monkeypatch):
    """A working folder with a valid toy config, a finished search run, a finished-looking train
    run and a small image set; the tensor cache lives outside it."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CELLNAS_CACHE", str(tmp_path.parent / f"{tmp_path.name}-cache"))
    (tmp_path / "toy.yaml").write_text(yaml.safe_dump(TOY))
    images = image_folder(tmp_path / "images", per_class=3)
    run = tmp_path / "run"
    assert call("search", "toy.yaml", "--run-dir", str(run), "--quiet")[0] == 0
    train = tmp_path / "trained"
    train.mkdir()
    (train / "config.json").write_text(json.dumps({"spec": "darts_v2", "data": {"dataset": str(images)},
                                                   "train": {"epochs": 1}}))
    (train / "checkpoint.pt").write_bytes(b"\x80\x04 not a checkpoint")
    return tmp_path


def call(*argv: str) -> tuple[int, str]:
    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        try:
            extra = ["--allow-code"] if argv[:1] == ("search",) else []  # the toy space is test code
            rc = cli.main([*argv[:1], *extra, *argv[1:]])
        except SystemExit as exit_:  # argparse's usage errors
            rc = exit_.code
    return rc, out.getvalue() + err.getvalue()


def check(world: Path, argv: list[str], names: str, setup=None) -> None:
    if setup is not None:
        setup(world)
    before = snapshot(world)
    rc, text = call(*argv)
    assert rc not in (0, None), text
    assert "Traceback" not in text, text
    last = text.strip().splitlines()[-1]
    assert names in last, f"{names!r} not in the last line: {last}"
    after = snapshot(world)
    changed = sorted(k for k in before if after.get(k) != before[k])
    assert changed == [] or all(k.startswith("run/") and k.endswith(("-shm", "-wal", "driver.lock"))
                                for k in changed), changed
    assert not (world / "runs").exists()  # no new run was started


@pytest.mark.parametrize("override, names", OVERRIDES, ids=[o for o, _ in OVERRIDES])
def test_search_bad_overrides(world, override, names):
    check(world, ["search", "toy.yaml", *override.split(" ")], names)


@pytest.mark.parametrize("text", YAML_FILES, ids=range(len(YAML_FILES)))
def test_search_bad_yaml_files(world, text):
    (world / "bad.yaml").write_text(text)
    check(world, ["search", "bad.yaml"], "bad.yaml")


def _corrupt_store(world):
    (world / "run" / "trials.sqlite").write_bytes(b"SQLite format 3\x00" + b"\x00" * 100)


def _stale_best(world):
    best = json.loads((world / "run" / "best.json").read_text())
    best[0]["reward"] = 0.123
    (world / "run" / "best.json").write_text(json.dumps(best))


def _bad_run_config(world):
    (world / "run" / "config.yaml").write_text("name: a\nname: b\n")


def _lost_rows(world):
    conn = sqlite3.connect(world / "run" / "trials.sqlite")
    with conn:
        conn.execute("DELETE FROM trials")
    conn.close()  # the last connection folds the WAL into the main file: a store that lost rows


SEARCH_FILES = [
    (["search", "missing.yaml"], "missing.yaml", None),
    (["search"], "EXPERIMENT.yaml", None),
    (["search", "toy.yaml", "toy.yaml"], "EXPERIMENT.yaml", None),
    (["search", "images"], "images", None),
    (["search", "toy.yaml", "--run-dir", "images"], "images", None),
    (["search", "toy.yaml", "--run-dir", "toy.yaml"], "toy.yaml", None),
    (["search", "toy.yaml", "--run-dir", "run"], "run", None),
    (["search", "--resume", "images"], "images", None),
    (["search", "--resume", "nowhere"], "nowhere", None),
    (["search", "--resume", "run", "toy.yaml"], "toy.yaml", None),
    (["search", "--resume", "run"], "trials.sqlite", _corrupt_store),
    (["search", "--resume", "run", "budget.trials=4"], "trials.sqlite", _stale_best),
    (["search", "--resume", "run", "budget.trials=4"], "trials.sqlite", _lost_rows),
    (["search", "--resume", "run"], "config.yaml", _bad_run_config),
    (["search", "--resume", "run", "budget.trials=x"], "budget.trials", None),
    (["search", "--backend", "gpu", "toy.yaml"], "--backend", None),
]

TRAIN = [
    (["train", "no_such_arch", "--out", "t1"], "no_such_arch", None),
    (["train", "darts_v2", "--epochs", "0", "--out", "t2"], "train.epochs", None),
    (["train", "darts_v2", "--lr", "-1", "--out", "t3"], "train.lr", None),
    (["train", "darts_v2", "--lr", "fast", "--out", "t4"], "--lr", None),
    (["train", "darts_v2", "--batch-size", "1e3"], "--batch-size", None),
    (["train", "darts_v2", "--label-smoothing", "1.5", "--out", "t5"], "label_smoothing", None),
    (["train", "darts_v2", "--device", "tpu", "--out", "t6"], "train.device", None),
    (["train", "darts_v2", "--dataset", "nowhere", "--out", "t7"], "nowhere", None),
    (["train", "darts_v2", "--dataset", "images", "--classes", "1", "--out", "t8"], "data.classes", None),
    (["train", "darts_v2", "--dataset", "images", "--val-fraction", "1.5", "--out", "t9"], "val_fraction", None),
    (["train", "darts_v2", "--dataset", "images", "--per-class", "0", "--out", "t10"], "per_class", None),
    (["train", "darts_v2", "--fixres-epochs", "2", "--out", "t11"], "--test-resolution", None),
    (["train", "--resume", "--out", "missing"], "missing", None),
    (["train", "--resume"], "SPEC", None),
    (["train"], "SPEC", None),
    (["train", "darts_v2", "--resume", "--out", "images"], "images", None),
    (["train", "--resume", "--out", "trained"], "checkpoint.pt", None),
    (["train", "trunc.json", "--out", "t12"], "trunc.json",
     lambda w: (w / "trunc.json").write_text('{"space": "cell", "normal": [')),
    (["train", "list.json", "--out", "t13"], "list.json", lambda w: (w / "list.json").write_text("[1, 2]")),
    (["train", "--resume", "--out", "badcfg"], "config.json", lambda w: _train_dir(w, "badcfg", "{not json")),
    (["train", "--resume", "--out", "halfcfg"], "config.json", lambda w: _train_dir(w, "halfcfg", '{"spec": "x"}')),
]

EVAL = [
    (["eval", "missing"], "missing", None),
    (["eval", "images"], "config.json", None),
    (["eval", "trained"], "checkpoint.pt", None),
    (["eval", "run"], "config.json", None),
    (["eval", "badcfg"], "config.json", lambda w: _train_dir(w, "badcfg", "[]")),
    (["eval", "nockpt"], "checkpoint.pt", lambda w: _train_dir(w, "nockpt", None)),
    (["eval", "trained", "--fixres-epochs", "2"], "--test-resolution", None),
    (["eval", "trained", "--test-resolution", "x"], "--test-resolution", None),
]

REPORT = [
    (["report", "missing"], "missing", None),
    (["report", "images"], "images", None),
    (["report", "run"], "trials.sqlite", _corrupt_store),
    (["report", "run"], "config.yaml", _bad_run_config),
    (["report", "run", "--top", "0"], "--top", None),
    (["report", "run", "--top", "many"], "--top", None),
    (["report", "run"], "trials.sqlite", lambda w: (w / "run" / "trials.sqlite").write_bytes(b"")),
    (["report"], "RUN_DIR", None),
]


def _train_dir(world: Path, name: str, config_text: str | None) -> None:
    folder = world / name
    folder.mkdir()
    good = json.dumps({"spec": "darts_v2", "data": {"dataset": "images"}, "train": {"epochs": 1}})
    (folder / "config.json").write_text(config_text if config_text is not None else good)
    if config_text is not None:
        (folder / "checkpoint.pt").write_bytes(b"junk")


CASES = SEARCH_FILES + TRAIN + EVAL + REPORT


@pytest.mark.parametrize("argv, names, setup", CASES, ids=[" ".join(a) for a, _, _ in CASES])
def test_verbs_bad_files_and_flags(world, argv, names, setup):
    check(world, argv, names, setup)


def test_the_sweep_is_at_least_a_hundred_cases():
    assert len(OVERRIDES) + len(YAML_FILES) + len(CASES) >= 100
