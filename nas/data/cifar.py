"""CIFAR-10 and CIFAR-100 (Krizhevsky 2009) through torchvision's readers.

torchvision downloads and verifies the official python-version archives; offline, a missing
archive becomes one FileNotFoundError that says where the files go and what else to pass.
"""
from __future__ import annotations

import urllib.error
from pathlib import Path
from typing import Sequence

import torch
import torch.nn.functional as F

from nas.data.folder import select_classes

CIFAR = {"cifar10": "cifar-10-batches-py", "cifar100": "cifar-100-python"}


def _dataset(name: str, root: Path, train: bool, download: bool):
    from torchvision import datasets

    cls = datasets.CIFAR10 if name == "cifar10" else datasets.CIFAR100
    hint = (f"{name}: the dataset is not under {root} (expected {root / CIFAR[name]}/). Pass "
            f"download=True (nas train --download) to fetch it, copy the extracted python-version "
            f"archive there, or point the dataset at a JPEG folder/.tar.gz export "
            f"(e.g. shared/data/cifar10-jpeg.tar.gz)")
    try:
        return cls(str(root), train=train, download=download)
    except (urllib.error.URLError, OSError) as err:
        raise FileNotFoundError(f"{hint}; download failed: {err}") from None
    except RuntimeError as err:
        if "not found" in str(err).lower() or "corrupted" in str(err).lower():
            raise FileNotFoundError(hint) from None
        raise


def resize_uint8(images: torch.Tensor, resolution: int) -> torch.Tensor:
    """Antialiased bilinear resize of a uint8 NCHW batch, rounded back to uint8."""
    if images.shape[-1] == resolution and images.shape[-2] == resolution:
        return images
    out = F.interpolate(images.float(), size=(resolution, resolution), mode="bilinear",
                        antialias=True, align_corners=False)
    return out.round_().clamp_(0, 255).to(torch.uint8)


def load_cifar(name: str, root: str | Path, split: str, classes: int | Sequence[str] | None,
               per_class: int | None, resolution: int | None, download: bool = False) -> dict:
    """{'images', 'labels', 'classes'}: the first ``per_class`` images of each selected class in
    the official order; labels re-indexed over the selected classes."""
    if name not in CIFAR:
        raise ValueError(f"unknown CIFAR dataset {name!r}; expected one of {sorted(CIFAR)}")
    if split not in ("train", "test"):
        raise ValueError(f"{name} split must be 'train' or 'test', got {split!r}")
    ds = _dataset(name, Path(root).expanduser(), split == "train", download)
    chosen = select_classes(ds.classes, classes)
    targets = torch.tensor(ds.targets, dtype=torch.int64)
    keep = []
    for cls in chosen:
        members = torch.nonzero(targets == ds.classes.index(cls)).flatten()
        keep.append(members[:per_class] if per_class is not None else members)
    index = torch.sort(torch.cat(keep)).values
    images = torch.from_numpy(ds.data[index.numpy()]).permute(0, 3, 1, 2).contiguous()
    remap = {ds.classes.index(c): i for i, c in enumerate(chosen)}
    labels = torch.tensor([remap[int(t)] for t in targets[index]], dtype=torch.int64)
    if resolution is not None:
        images = resize_uint8(images, resolution)
    return {"images": images, "labels": labels, "classes": chosen}
