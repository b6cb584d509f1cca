"""Decode an ImageNet-style folder split (directory or archive) into uint8 tensors.

Images are converted to RGB; at a target resolution they are resized on the shorter side and
center-cropped (the usual evaluation transform of the ImageNet papers), so non-square photos
and small CIFAR/Tiny-ImageNet images take the same path.
"""
from __future__ import annotations

import sys
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


def _decode_or_none(path: Path, resolution: int | None) -> np.ndarray | None:
    """None for a file PIL cannot read (corrupt, truncated, not an image)."""
    try:
        return _decode(path, resolution)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return None


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
    """uint8 (N, 3, H, W); PIL releases the GIL while decoding, so a small thread pool helps.
    An unreadable file raises a ValueError naming it (``decode_readable`` skips them instead)."""
    images, bad = decode_readable(paths, resolution, workers)
    if bad:
        raise ValueError(f"{paths[bad[0]]}: not a readable image (corrupt or truncated)")
    return images


def decode_readable(paths: Sequence[Path], resolution: int | None,
                    workers: int = 2) -> tuple[torch.Tensor, list[int]]:
    """The readable images as uint8 (N', 3, H, W) and the indexes of the unreadable ones."""
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        arrays = list(pool.map(lambda p: _decode_or_none(p, resolution), paths, chunksize=64))
    bad = [i for i, a in enumerate(arrays) if a is None]
    arrays = [a for a in arrays if a is not None]
    if not arrays:
        raise ValueError(f"{paths[0] if paths else 'the dataset'}: no readable image among "
                         f"{len(paths)} file(s)")
    shapes = {a.shape for a in arrays}
    if len(shapes) > 1:
        raise ValueError(f"images have different sizes ({sorted(shapes)[:3]}...); pass a resolution")
    return torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).contiguous(), bad


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
    images, bad = decode_readable([root / n for n in names], resolution)
    if bad:
        # One bad JPEG should not cost a search; many mean the wrong folder or a broken copy.
        first = ", ".join(names[i] for i in bad[:3])
        if len(bad) * 10 > len(names):
            raise ValueError(f"{source.path}: {len(bad)} of {len(names)} images in split {split!r} are "
                             f"unreadable (first: {first}); repair or re-copy the dataset")
        print(f"note: {source.path}: skipped {len(bad)} unreadable image(s) of {len(names)} in split "
              f"{split!r} (first: {first})", file=sys.stderr, flush=True)
        skip = set(bad)
        labels = [label for i, label in enumerate(labels) if i not in skip]
    return {"images": images, "labels": torch.tensor(labels, dtype=torch.int64), "classes": chosen}
