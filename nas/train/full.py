"""Full training of one spec into an output directory (what ``nas train`` runs).

The directory holds ``config.json`` (spec, data and training config), ``checkpoint.pt`` (the
latest epoch, written atomically), ``log.csv`` (one row per epoch, rewritten from the
checkpoint's history so a killed run never leaves rows the checkpoint does not have) and, at the
end, ``results.json`` with the test accuracy. Resuming reads the saved config and continues from
the checkpoint's epoch with its RNG states.
"""
from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import Any, TextIO

import torch

from nas.io import atomic_write, write_json
from nas.data.datasets import DataConfig, load_proxy_data
from nas.evaluate import build_options, prepare
from nas.metrics import cross_check_cost
from nas.train.checkpoint import Checkpointer
from nas.train.config import TrainConfig
from nas.train.trainer import evaluate_model, resolve_device, train

LOG_FIELDS = ("epoch", "lr", "train_loss", "train_acc", "val_loss", "val_acc", "drop_path_scale", "epoch_time_s")


def write_log(path: Path, history: list[dict]) -> None:
    def write(tmp: Path) -> None:
        with tmp.open("w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=LOG_FIELDS, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(history)
    atomic_write(path, write)


class Progress:
    """One line per epoch; on a terminal also a ``rich`` live display (epochs and steps, elapsed
    and ETA, redrawn on a timer) below those lines."""

    def __init__(self, epochs: int, stream: TextIO | None = None, first_epoch: int = 0):
        self.epochs, self.stream = epochs, stream or sys.stdout
        self.live = self.stream.isatty()
        self.bar = None
        if self.live:
            from rich.console import Console
            from rich.progress import (BarColumn, MofNCompleteColumn, Progress as RichProgress, TextColumn,
                                       TimeElapsedColumn, TimeRemainingColumn)
            self.bar = RichProgress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                    TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(),
                                    console=Console(file=self.stream, force_terminal=True),
                                    refresh_per_second=2, redirect_stdout=True, redirect_stderr=True)
            self.bar.start()
            self.all = self.bar.add_task("epochs", total=epochs, completed=first_epoch)
            self.steps = self.bar.add_task("steps", total=None)

    def step(self, epoch: int, step: int, steps: int) -> None:
        if self.bar is not None:
            if step == 1:
                self.bar.reset(self.steps, total=steps, completed=1, description=f"epoch {epoch}/{self.epochs}")
            else:
                self.bar.update(self.steps, completed=step)

    def epoch(self, m: dict) -> None:
        line = (f"epoch {m['epoch']}/{self.epochs}  lr {m['lr']:.4g}  "
                f"train loss {m['train_loss']:.4f} acc {100 * m['train_acc']:.2f}%  "
                f"val loss {m['val_loss']:.4f} acc {100 * m['val_acc']:.2f}%  {m['epoch_time_s']:.1f}s")
        if self.bar is not None:
            self.bar.console.print(line, markup=False, highlight=False)
            self.bar.update(self.all, completed=m["epoch"])
            return
        self.stream.write(line + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None


def preprocessing(data: Any, spec: Any) -> dict[str, Any]:
    """What a deployed copy must do to an image before the network sees it (``nas export`` puts
    it inside the ONNX file and beside the TorchScript one): resize to the spec's side (no crop:
    the trainer sees whole images), scale to [0, 1], normalize with the training set's statistics."""
    return {"resolution": spec.resolution, "crop": None, "scale": "pixels / 255",
            "mean": list(data.train.mean), "std": list(data.train.std), "classes": list(data.train.classes)}


def run_config(spec_str: str, data: DataConfig, config: TrainConfig) -> dict[str, Any]:
    return {"spec": spec_str, "data": data.to_dict(), "train": config.to_dict()}


def train_full(spec: Any, data_config: DataConfig, config: TrainConfig, out: Path, *,
               resume: bool = False, stream: TextIO | None = None) -> dict[str, Any]:
    """Train ``spec`` to completion (or resume it) in ``out``; returns the results record."""
    stream = stream or sys.stdout
    checkpointer = Checkpointer(out / "checkpoint.pt")
    if checkpointer.exists() and not resume:
        raise ValueError(f"{out} already holds a checkpoint; pass --resume to continue it or choose "
                         "another --out")
    from nas.search.progress import task
    with task("preparing data", stream=stream):
        data = load_proxy_data(data_config)
    space, spec = prepare(spec, data)
    cost = space.cost(spec)
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "config.json", {**run_config(spec.to_str(), data_config, config),
                                      "preprocessing": preprocessing(data, spec)})
    stream.write(f"{data.describe()}\n{spec.to_str()}\n{cost.params:,} params, {cost.macs:,} MACs, "
                 f"device {resolve_device(config.device)}\n")
    saved = checkpointer.load() if resume else None
    logged: list[dict] = list(saved["history"]) if saved else []
    resumed_from = len(logged)
    if saved is not None:
        stream.write(f"resuming after epoch {resumed_from} of {config.epochs}\n")
    write_log(out / "log.csv", logged)
    progress = Progress(config.epochs, stream, first_epoch=resumed_from)

    def callback(epoch: int, metrics: dict) -> None:
        logged.append(metrics)
        progress.epoch(metrics)
        write_log(out / "log.csv", logged)

    options = build_options(config)
    try:
        result = train(lambda: space.build(spec, **options), data, config, callback,
                       checkpointer=checkpointer, resume=resume, progress=progress.step)
    finally:
        progress.close()
    record: dict[str, Any] = {"spec": spec.to_str(), "data": data.describe(), "params": cost.params,
                              "macs": cost.macs, "resumed_from_epoch": resumed_from, **result.to_dict()}
    if result.ok:
        with torch.random.fork_rng(devices=[]):
            check = cross_check_cost(space, spec)
        record["measured_params"], record["measured_macs"] = check.measured_params, check.measured_macs
    if result.ok and data.test is not None:
        record["test_loss"], record["test_acc"] = evaluate_model(result.model, data.test,
                                                                 config.eval_batch_size, config)
        stream.write(f"test loss {record['test_loss']:.4f} acc {100 * record['test_acc']:.2f}%\n")
    write_log(out / "log.csv", result.history)
    write_json(out / "results.json", record)
    return record
