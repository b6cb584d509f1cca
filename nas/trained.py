"""A trained network back from disk: the spec and weights ``nas train`` leaves in its output
directory (``config.json`` + ``checkpoint.pt``), or weights from a checkpoint file beside any
spec. The auxiliary head (NASNet's training aid) is never part of the loaded model."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn


def checkpoint_state(path: str | Path) -> dict[str, torch.Tensor]:
    """The model weights in ``path``: a ``nas train`` checkpoint or a plain state dict."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {str(path)!r} does not exist")
    data = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(data, dict) and isinstance(data.get("run"), dict) and "model" in data["run"]:
        data = data["run"]["model"]
    if not isinstance(data, dict) or not all(isinstance(v, torch.Tensor) for v in data.values()):
        raise ValueError(f"{path}: neither a `nas train` checkpoint nor a state dict of tensors")
    return {k: v for k, v in data.items() if not k.startswith("auxiliary_head.")}


def build_with_weights(spec: Any, checkpoint: str | Path | None = None) -> nn.Module:
    """The module of ``spec`` (no auxiliary head, eval mode) with the checkpoint's weights, or a
    seeded initialisation when there is none (so an untrained export is reproducible)."""
    from search_spaces.catalog import space_for

    space = space_for(spec)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = space.build(spec)
    if checkpoint is not None:
        state = checkpoint_state(checkpoint)
        try:
            model.load_state_dict(state)
        except RuntimeError as err:
            first = str(err).strip().splitlines()[0]
            raise ValueError(f"checkpoint {str(checkpoint)!r} does not fit {spec.to_str()[:80]}...: {first}") from None
    return model.eval()
