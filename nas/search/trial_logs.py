"""Ray Tune's standard per-trial outputs, written by the driver for both backends, so the tools
Tune users know (TensorBoard, result.json readers) work on every run: ``RUN/trials/candidate-<id>/``
holds ``params.json``, ``result.json`` (one JSON object per epoch), ``progress.csv`` and
TensorBoard event files (tensorboardX)."""
from __future__ import annotations

import csv
import json
import math
import shutil
import time
from pathlib import Path
from typing import Any, Mapping

from nas.io import write_json


def _numbers(metrics: Mapping[str, Any]) -> dict[str, float]:
    return {str(k): float(v) for k, v in metrics.items()
            if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(float(v))}


class TrialLogs:
    """Ray Tune's per-trial outputs under ``RUN/trials/candidate-<id>/``: ``params.json``,
    ``result.json`` (one JSON object per epoch), ``progress.csv`` and TensorBoard event files
    (tensorboardX). Written by the driver for both backends; a re-run starts its folder afresh,
    as the store's epochs table replaces the lost run's rows."""

    def __init__(self, run_dir: Path) -> None:
        self.root = Path(run_dir) / "trials"
        self.writers: dict[int, Any] = {}
        self.started: dict[int, float] = {}

    def folder(self, candidate_id: int) -> Path:
        return self.root / f"candidate-{candidate_id}"

    def start(self, candidate_id: int, spec: str) -> None:
        folder = self.folder(candidate_id)
        self.close(candidate_id)
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        write_json(folder / "params.json", {"candidate": candidate_id, "spec": spec})
        self.started[candidate_id] = time.time()

    def epoch(self, candidate_id: int, epoch: int, metrics: Mapping[str, Any]) -> None:
        folder, now = self.folder(candidate_id), time.time()
        if not folder.is_dir():
            return
        row = {"candidate_id": candidate_id, "epoch": epoch, "training_iteration": epoch,
               "timestamp": now, "time_total_s": now - self.started.get(candidate_id, now),
               **{k: v for k, v in metrics.items() if k not in ("epoch",)}}
        with (folder / "result.json").open("a") as fh:
            fh.write(json.dumps(row, default=str) + "\n")
        csv_path = folder / "progress.csv"
        new = not csv_path.exists()
        with csv_path.open("a", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=_csv_fields(csv_path, row, new), extrasaction="ignore")
            if new:
                writer.writeheader()
            writer.writerow(row)
        if candidate_id not in self.writers:
            from tensorboardX import SummaryWriter
            self.writers[candidate_id] = SummaryWriter(logdir=str(folder), flush_secs=5)
        tb = self.writers[candidate_id]
        for key, value in _numbers(metrics).items():
            tb.add_scalar(key, value, global_step=epoch, walltime=now)
        tb.flush()

    def close(self, candidate_id: int) -> None:
        writer = self.writers.pop(candidate_id, None)
        if writer is not None:
            writer.close()


def _csv_fields(path: Path, row: dict, new: bool) -> list[str]:
    if new:
        return list(row)
    with path.open(newline="") as fh:
        return next(csv.reader(fh), list(row))
