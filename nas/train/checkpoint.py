"""Per-epoch training checkpoints that a killed run resumes from exactly.

A checkpoint holds everything the next epoch depends on: weights and buffers, optimizer
momentum, the AMP scaler, the data generator's state and the torch RNG state (dropout, drop
path), the history so far and the config it was written with. Writes are atomic (temporary file
plus ``os.replace``), so a kill during a save leaves the previous checkpoint intact.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from nas.io import atomic_write

# Fields that may differ between the run that wrote a checkpoint and the one resuming it.
RESUMABLE_DIFFERENCES = frozenset({"device", "check_every", "eval_batch_size"})


class Checkpointer:
    """Reads and writes one checkpoint file (the latest epoch)."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    def exists(self) -> bool:
        return self.path.is_file()

    def load(self) -> dict[str, Any] | None:
        if not self.path.is_file():
            return None
        try:
            state = torch.load(self.path, map_location="cpu", weights_only=True)
        except Exception as err:  # noqa: BLE001 -- torch raises many types for a bad file
            # A truncated file, another program's pickle (refused by weights_only), a wrong format.
            reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise ValueError(f"{self.path}: checkpoint rejected ({reason[:200]}); restore it or start "
                             "a new --out") from None
        if not isinstance(state, dict):
            raise ValueError(f"{self.path}: checkpoint rejected (holds a {type(state).__name__}, not a "
                             "dict); restore it or start a new --out")
        return state

    def save(self, state: dict[str, Any]) -> None:
        atomic_write(self.path, lambda tmp: torch.save(state, tmp))


def check_compatible(saved: dict[str, Any], current: dict[str, Any]) -> None:
    """Raise ValueError naming the fields whose change would make the resumed run differ."""
    changed = sorted(k for k in set(saved) | set(current)
                     if k not in RESUMABLE_DIFFERENCES and saved.get(k) != current.get(k))
    if changed:
        detail = ", ".join(f"{k}: {saved.get(k)!r} -> {current.get(k)!r}" for k in changed)
        raise ValueError(f"cannot resume: the checkpoint was written with a different training "
                         f"config ({detail}); start a new output directory or restore the options")
