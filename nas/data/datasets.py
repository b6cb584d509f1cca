"""Which images a run trains and validates on: a frozen ``DataConfig`` and the loaders behind it.

The validation set is carved from the training split with a seeded, stratified split, so a
search never selects on the test set (the NAS papers' protocol: Zoph et al. 2018 held out 5,000
CIFAR-10 training images as the controller's reward set). Decoded sets go through the tensor
cache, so the second run with the same key reads one file instead of thousands of JPEGs.
"""
from __future__ import annotations

from pathlib import Path

from nas.data.archive import FolderSource, folder_content
from nas.data.cache import cached_tensors, resolve_cache_dir
from nas.data.cifar import CIFAR, load_cifar
from nas.data.folder import load_folder
from nas.data.tensors import ImageTensors, ProxyData, channel_stats, stratified_split
from nas.data.config import DataConfig


def load_split(config: DataConfig, split: str, per_class: int | None) -> dict:
    """{'images', 'labels', 'classes'} of one split, decoded once and cached."""
    cache_dir = resolve_cache_dir(config.cache_dir)
    if config.dataset in CIFAR:
        root = Path(config.root).expanduser()
        key = {"dataset": config.dataset, "root": str(root.resolve()), "split": split,
               "classes": config.classes, "per_class": per_class, "resolution": config.resolution}
        make = lambda: load_cifar(config.dataset, root, split, config.classes, per_class,
                                  config.resolution, config.download)
        label, content = config.dataset, folder_content(root / CIFAR[config.dataset])
    else:
        source = FolderSource(config.dataset, cache_dir)
        key = {"dataset": str(source.path), "split": split, "classes": config.classes,
               "per_class": per_class, "resolution": config.resolution}
        make = lambda: load_folder(source, split, config.classes, per_class, config.resolution)
        label, content = source.path.name.split(".")[0], source.content()
    return cached_tensors(cache_dir, f"{label}-{split}-{config.resolution or 'native'}", key, make,
                          content=content)


def _test_split(config: DataConfig) -> str:
    if config.test_split is not None:
        return config.test_split
    if config.dataset in CIFAR:
        return "test"
    splits = FolderSource(config.dataset, resolve_cache_dir(config.cache_dir)).splits()
    for name in ("test", "val"):
        if any(s == name or s.endswith("/" + name) for s in splits):
            return name
    raise ValueError(f"{config.dataset}: no 'test' or 'val' split (splits: {', '.join(splits)}); "
                     "set data.test_split")


def _tensors(raw: dict, mean, std) -> ImageTensors:
    return ImageTensors(raw["images"], raw["labels"], tuple(raw["classes"]), tuple(mean), tuple(std))


def load_proxy_data(config: DataConfig) -> ProxyData:
    """Train / validation (/ test) tensors on the CPU, normalized with the training part's stats."""
    raw = load_split(config, config.train_split, config.per_class)
    test = None
    if config.load_test:
        test_raw = load_split(config, _test_split(config), config.test_per_class)
        if list(test_raw["classes"]) != list(raw["classes"]):
            raise ValueError(f"{config.dataset}: test classes differ from train classes")
    if len(raw["classes"]) < 2:
        raise ValueError(f"data.dataset {config.dataset!r}: split {config.train_split!r} has "
                         f"{len(raw['classes'])} class(es) {list(raw['classes'])}; a classifier needs "
                         "at least 2 class folders")
    if config.val_fraction > 0:
        train_idx, val_idx = stratified_split(raw["labels"], config.val_fraction, config.split_seed)
        mean, std = channel_stats(raw["images"][train_idx])
        full = _tensors(raw, mean, std)
        train, val = full.take(train_idx), full.take(val_idx)
    else:
        mean, std = channel_stats(raw["images"])
        train = _tensors(raw, mean, std)
        val = None
    if config.load_test:
        test = _tensors(test_raw, mean, std)
        val = test if val is None else val
    name = config.dataset if config.dataset in CIFAR else Path(config.dataset).name.split(".")[0]
    return ProxyData(name=name, train=train, val=val, test=test)
