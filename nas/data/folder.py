"""Decode an ImageNet-style folder split (directory or archive) into uint8 tensors.

Images are converted to RGB; at a target resolution they are resized on the shorter side and
center-cropped (the usual evaluation transform of the ImageNet papers), so non-square photos
and small CIFAR/Tiny-ImageNet images take the same path.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from PIL import Image

from nas.data.archive import FolderSource


def select_classes(available: Sequence[str], classes: int | Sequence[str] | None) -> list[str]:
    """``None``: all; an int k: the first k (in the source's order); names: those, in the source's
    order. Unknown names and out-of-range counts raise, naming what exists."""
    available = list(available)
    if classes is None:
        return available
    if isinstance(classes, int) and not isinstance(classes, bool):
        if not 1 <= classes <= len(available):
            raise ValueError(f"classes={classes} but the dataset has {len(available)} classes")
        return available[:classes]
    wanted = [str(c) for c in classes]
    unknown = [c for c in wanted if c not in available]
    if unknown or not wanted:
        raise ValueError(f"unknown classes {unknown or wanted}; available: {', '.join(available)}")
    return [c for c in available if c in set(wanted)]


def _decode(path: Path, resolution: int | None) -> np.ndarray:
    with Image.open(path) as img:
        img = img.convert("RGB")
        if resolution is not None and img.size != (resolution, resolution):
            w, h = img.size
            scale = resolution / min(w, h)
            size = (max(resolution, round(w * scale)), max(resolution, round(h * scale)))
            img = img.resize(size, Image.BILINEAR)
            left, top = (size[0] - resolution) // 2, (size[1] - resolution) // 2
            img = img.crop((left, top, left + resolution, top + resolution))
        return np.asarray(img, dtype=np.uint8)


def decode_images(paths: Sequence[Path], resolution: int | None, workers: int = 2) -> torch.Tensor:
    """uint8 (N, 3, H, W); PIL releases the GIL while decoding, so a small thread pool helps."""
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        arrays = list(pool.map(lambda p: _decode(p, resolution), paths, chunksize=64))
    shapes = {a.shape for a in arrays}
    if len(shapes) > 1:
        raise ValueError(f"images have different sizes ({sorted(shapes)[:3]}...); pass a resolution")
    return torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).contiguous()


def load_folder(source: FolderSource, split: str, classes: int | Sequence[str] | None,
                per_class: int | None, resolution: int | None) -> dict:
    """{'images', 'labels', 'classes'} for the first ``per_class`` images (sorted by file name)
    of each selected class; labels index the selected classes."""
    by_class = source.files(split)
    chosen = select_classes(list(by_class), classes)
    names, labels = [], []
    for label, cls in enumerate(chosen):
        files = by_class[cls][:per_class] if per_class is not None else by_class[cls]
        names.extend(files)
        labels.extend([label] * len(files))
    root = source.materialize(names)
    images = decode_images([root / n for n in names], resolution)
    return {"images": images, "labels": torch.tensor(labels, dtype=torch.int64), "classes": chosen}
