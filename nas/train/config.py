"""The training recipe as one frozen record (STYLE.md practice 7: config is frozen dataclasses).

Defaults follow the proxy recipes of the NAS papers on CIFAR: SGD with Nesterov momentum 0.9,
cosine learning-rate decay (Loshchilov & Hutter 2017) after a short linear warm-up (Goyal et al.
2017), weight decay 3e-4 and gradient clipping at 5 (DARTS), label smoothing 0.1 (Szegedy et al.
2016), NASNet's ScheduledDropPath (the drop rate ramps linearly from 0 over training) and an
auxiliary head weighted 0.4 when enabled.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from nas.data.augment import Augment
from nas.fields import from_known_fields


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 10
    batch_size: int = 128
    eval_batch_size: int = 512
    lr: float = 0.05
    min_lr: float = 0.0
    warmup_epochs: float = 0.0
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 3e-4
    label_smoothing: float = 0.0
    drop_path: float = 0.0          # the build's drop-path rate (a build option, not the spec's)
    drop_path_ramp: bool = True      # ScheduledDropPath: scale the rate by progress through training
    aux_weight: float = 0.0          # > 0 builds the auxiliary head and adds its weighted loss
    grad_clip: float | None = 5.0
    crop_padding: int = 4
    flip: bool = True
    cutout: int = 0
    amp: bool = True                 # CUDA only (bfloat16 where supported, else float16 + scaler)
    channels_last: bool = True       # CUDA only
    seed: int = 0
    device: str = "auto"             # 'auto': CUDA when available, else CPU
    check_every: int = 25            # steps between finiteness checks of the loss (GPU syncs)

    def __post_init__(self) -> None:
        positive = ("epochs", "batch_size", "eval_batch_size", "check_every")
        for name in positive:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"train.{name} must be a positive integer, got {value!r}")
        nonneg = ("lr", "min_lr", "warmup_epochs", "momentum", "weight_decay", "aux_weight")
        for name in nonneg:
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value) or value < 0:
                raise ValueError(f"train.{name} must be a finite number >= 0, got {value!r}")
        if self.lr <= 0:
            raise ValueError(f"train.lr must be > 0, got {self.lr!r}")
        if self.warmup_epochs >= self.epochs and self.warmup_epochs > 0:
            raise ValueError(f"train.warmup_epochs ({self.warmup_epochs}) must be below epochs ({self.epochs})")
        for name in ("label_smoothing", "drop_path"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ValueError(f"train.{name} must be in [0, 1), got {getattr(self, name)!r}")
        if self.grad_clip is not None and not self.grad_clip > 0:
            raise ValueError(f"train.grad_clip must be > 0 or None, got {self.grad_clip!r}")
        if not (self.device == "auto" or self.device == "cpu" or self.device.startswith(("cuda", "mps"))):
            raise ValueError(f"train.device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {self.device!r}")
        self.augment  # validates crop_padding / cutout

    @property
    def augment(self) -> Augment:
        return Augment(crop_padding=self.crop_padding, flip=self.flip, cutout=self.cutout)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TrainConfig":
        return from_known_fields(cls, data, "train")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def lr_at(config: TrainConfig, step: int, steps_per_epoch: int) -> float:
    """Learning rate at optimizer step ``step`` (0-based): linear warm-up, then cosine to min_lr.
    A pure function of the step, so a resumed run needs no scheduler state."""
    total = config.epochs * steps_per_epoch
    warmup = int(round(config.warmup_epochs * steps_per_epoch))
    if step < warmup:
        return config.lr * (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return config.min_lr + 0.5 * (config.lr - config.min_lr) * (1.0 + math.cos(math.pi * min(1.0, progress)))
