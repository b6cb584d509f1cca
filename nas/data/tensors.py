"""In-memory image sets for proxy training: uint8 NCHW tensors plus labels, picklable as plain data.

The proxy trainers of the NAS papers (Zoph et al. 2018 trained thousands of CIFAR-10 child
networks; Real et al. 2019 likewise) are dominated by input handling when images are decoded
per sample. Holding the decoded set as one uint8 tensor (4x smaller than float) lets a search
put it in the Ray object store once and move it to the GPU once; augmentation then runs batched
on the device (``nas.data.augment``).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np
import torch


@dataclass(frozen=True)
class ImageTensors:
    """``images``: uint8 (N, C, H, W); ``labels``: int64 (N,); ``classes``: names by label index;
    ``mean`` / ``std``: per-channel normalization in [0, 1] pixel units (the training set's)."""

    images: torch.Tensor
    labels: torch.Tensor
    classes: tuple[str, ...]
    mean: tuple[float, ...]
    std: tuple[float, ...]

    def __post_init__(self) -> None:
        if self.images.dtype != torch.uint8 or self.images.dim() != 4:
            raise TypeError(f"images must be a uint8 (N, C, H, W) tensor, got {self.images.dtype} "
                            f"{tuple(self.images.shape)}")
        if self.labels.dtype != torch.int64 or self.labels.shape != (self.images.shape[0],):
            raise TypeError(f"labels must be int64 of shape ({self.images.shape[0]},), got "
                            f"{self.labels.dtype} {tuple(self.labels.shape)}")
        if len(self.mean) != self.images.shape[1] or len(self.std) != self.images.shape[1]:
            raise ValueError(f"mean/std need {self.images.shape[1]} channels, got {self.mean}, {self.std}")

    def __len__(self) -> int:
        return int(self.images.shape[0])

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def resolution(self) -> int:
        return int(self.images.shape[-1])

    @property
    def device(self) -> torch.device:
        return self.images.device

    def to(self, device: torch.device | str) -> "ImageTensors":
        device = torch.device(device)
        if self.images.device == device:
            return self
        return replace(self, images=self.images.to(device), labels=self.labels.to(device))

    def take(self, index: torch.Tensor | Sequence[int]) -> "ImageTensors":
        index = torch.as_tensor(index, dtype=torch.int64, device=self.images.device)
        return replace(self, images=self.images[index], labels=self.labels[index])

    def with_stats(self, mean: Sequence[float], std: Sequence[float]) -> "ImageTensors":
        return replace(self, mean=tuple(float(m) for m in mean), std=tuple(float(s) for s in std))

    def class_counts(self) -> list[int]:
        return torch.bincount(self.labels.cpu(), minlength=self.num_classes).tolist()


def channel_stats(images: torch.Tensor, chunk: int = 4096) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Per-channel mean and std in [0, 1] units, in float64 chunks (exact enough, little memory)."""
    n, c = images.shape[:2]
    total = torch.zeros(c, dtype=torch.float64)
    total_sq = torch.zeros(c, dtype=torch.float64)
    for start in range(0, n, chunk):
        x = images[start:start + chunk].to(torch.float64).div_(255.0)
        total += x.sum(dim=(0, 2, 3)).cpu()
        total_sq += x.pow(2).sum(dim=(0, 2, 3)).cpu()
    count = n * images.shape[2] * images.shape[3]
    mean = total / count
    std = (total_sq / count - mean.pow(2)).clamp_min(1e-12).sqrt()
    return tuple(mean.tolist()), tuple(std.tolist())


def stratified_split(labels: torch.Tensor, val_fraction: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Indices (train, val): each class contributes round(val_fraction * its size) images to val,
    chosen by a generator seeded with ``seed`` alone, so the split never depends on call order."""
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction!r}")
    labels_np = labels.cpu().numpy()
    rng = np.random.default_rng(seed)
    train_idx, val_idx = [], []
    for cls in np.unique(labels_np):
        members = np.flatnonzero(labels_np == cls)
        members = members[rng.permutation(len(members))]
        n_val = int(round(val_fraction * len(members)))
        if n_val == 0 or n_val == len(members):
            raise ValueError(f"val_fraction {val_fraction} leaves class {int(cls)} ({len(members)} "
                             "images) with an empty train or validation part")
        val_idx.append(members[:n_val])
        train_idx.append(members[n_val:])
    return (torch.from_numpy(np.sort(np.concatenate(train_idx))),
            torch.from_numpy(np.sort(np.concatenate(val_idx))))


@dataclass(frozen=True)
class ProxyData:
    """What the trainer consumes: a training set and a held-out validation set (never the test
    set: a search must not select on it), plus an optional test set for final reporting."""

    name: str
    train: ImageTensors
    val: ImageTensors
    test: ImageTensors | None = None

    def __post_init__(self) -> None:
        for part_name in ("val", "test"):
            part = getattr(self, part_name)
            if part is None:
                continue
            if part.classes != self.train.classes:
                raise ValueError(f"{self.name}: {part_name} classes differ from train classes")
            if part.images.shape[1:] != self.train.images.shape[1:]:
                raise ValueError(f"{self.name}: {part_name} image shape {tuple(part.images.shape[1:])} "
                                 f"differs from train {tuple(self.train.images.shape[1:])}")

    @property
    def num_classes(self) -> int:
        return self.train.num_classes

    @property
    def resolution(self) -> int:
        return self.train.resolution

    def to(self, device: torch.device | str) -> "ProxyData":
        return replace(self, train=self.train.to(device), val=self.val.to(device),
                       test=None if self.test is None else self.test.to(device))

    def describe(self) -> str:
        parts = [f"train {len(self.train)}", f"val {len(self.val)}"]
        if self.test is not None:
            parts.append(f"test {len(self.test)}")
        return (f"{self.name}: {', '.join(parts)} images, {self.num_classes} classes, "
                f"{self.resolution}x{self.resolution}")
