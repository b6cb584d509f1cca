"""A slow evaluator for NAS-Bench-201 specs (a real catalog space, so the dashboard can draw its
cells): per-epoch reports with a pause between them, and an exact, seed-free 'accuracy' per cell,
so a test can watch a search that is still running."""
from __future__ import annotations

import hashlib
import time

from nas.strategies.base import Result


def cell_score(spec) -> float:
    digest = hashlib.sha256(spec.to_str().encode()).digest()
    return round(0.5 + digest[0] / 1000, 4)


def slow_cell(spec, *, report, seed, epochs=3, sleep=0.5):
    for epoch in range(1, epochs + 1):
        time.sleep(sleep / epochs)
        report(epoch, {"val_acc": cell_score(spec) * epoch / epochs, "train_loss": 2.0 / epoch})
    return Result(cell_score(spec), {"val_acc": cell_score(spec), "params": 1000 + int(cell_score(spec) * 1e4),
                                     "macs": 5000 + len(spec.to_str()) * 100})
