"""``nas train`` end to end on the 10-class Tiny-ImageNet folder set: it learns above chance, and
a run killed with SIGKILL after its first checkpoint continues from the saved epoch on --resume."""
from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nas.cli import main

ROOT = Path(__file__).resolve().parents[1]
SPEC = ("cell:normal=conv_3x3@0+skip_connect@1,conv_3x3@1+skip_connect@2;"
        "reduce=max_pool_3x3@0+conv_3x3@1,skip_connect@2+max_pool_3x3@1;N=1;F=8;stem=cifar;"
        "wiring=darts;classes=10;res=32;stem_mult=3")
EPOCHS = 4


def nas_train(*args: str) -> list[str]:
    return [sys.executable, "-m", "nas.cli", "train", *args]


@pytest.mark.slow
def test_train_learns_tiny_imagenet_and_resumes_after_sigkill(shared_data, tmp_path):
    out = tmp_path / "run"
    common = [SPEC, "--dataset", str(shared_data / "tiny-imagenet-10cls.tar.gz"), "--resolution", "32",
              "--epochs", str(EPOCHS), "--batch-size", "32", "--lr", "0.1", "--cache-dir", str(tmp_path / "cache"),
              "--out", str(out)]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    first = subprocess.Popen(nas_train(*common), cwd=ROOT, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 240
    while not (out / "checkpoint.pt").exists():
        assert first.poll() is None, first.stdout.read()
        assert time.monotonic() < deadline, "no checkpoint within 240 s"
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)
    first.wait()
    first_log = first.stdout.read()
    with (out / "log.csv").open() as fh:
        done = [int(row["epoch"]) for row in csv.DictReader(fh)]
    assert first.returncode == -signal.SIGKILL and "epoch 1/4" in first_log
    # the log is written just after each checkpoint, so it may lag the checkpoint by one epoch
    assert done == list(range(1, len(done) + 1)) and len(done) < EPOCHS

    second = subprocess.run(nas_train(*common, "--resume"), cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=300)
    assert second.returncode == 0, second.stdout + second.stderr
    results = json.loads((out / "results.json").read_text())
    saved = results["resumed_from_epoch"]
    assert 1 <= saved < EPOCHS and saved in (len(done), len(done) + 1)
    assert f"resuming after epoch {saved} of {EPOCHS}" in second.stdout
    assert f"epoch {saved}/{EPOCHS}" not in second.stdout and f"epoch {saved + 1}/{EPOCHS}" in second.stdout
    assert [h["epoch"] for h in results["history"]] == list(range(1, EPOCHS + 1))
    with (out / "log.csv").open() as fh:
        assert [int(row["epoch"]) for row in csv.DictReader(fh)] == list(range(1, EPOCHS + 1))
    # learns: well above the 10% chance level on the 500 held-out test images
    assert results["failure"] is None and results["test_acc"] > 0.18
    assert results["measured_params"] == results["params"] and results["measured_macs"] == results["macs"]


def test_train_cli_errors_are_one_line(tmp_path, capsys):
    assert main(["train", "no_such_arch", "--out", str(tmp_path / "x")]) == 2
    assert "neither a named architecture" in capsys.readouterr().err
    assert main(["train", "darts_v2", "--dataset", str(tmp_path / "nope"), "--out", str(tmp_path / "y")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["train", "darts_v2", "--epochs", "0", "--out", str(tmp_path / "z")]) == 2
    assert "train.epochs" in capsys.readouterr().err
