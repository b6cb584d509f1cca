"""Which images a run trains and validates on: a frozen ``DataConfig`` and the loaders behind it.

The validation set is carved from the training split with a seeded, stratified split, so a
search never selects on the test set (the NAS papers' protocol: Zoph et al. 2018 held out 5,000
CIFAR-10 training images as the controller's reward set). Decoded sets go through the tensor
cache, so the second run with the same key reads one file instead of thousands of JPEGs.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from nas.data.archive import FolderSource, folder_content
from nas.data.cache import cached_tensors, resolve_cache_dir
from nas.data.cifar import CIFAR, load_cifar
from nas.data.folder import load_folder
from nas.data.tensors import ImageTensors, ProxyData, channel_stats, stratified_split
from nas.fields import from_known_fields


@dataclass(frozen=True)
class DataConfig:
    """``dataset``: 'cifar10', 'cifar100', or a path to an ImageNet-style folder set (directory
    or .tar.gz) with split folders. ``classes``: None, a count, or a tuple of class names.
    ``per_class``: at most this many training images per class (test: ``test_per_class``).
    ``val_fraction``: stratified share of the training images held out for validation; 0 means
    validate on the test split (final training only, never for a search)."""

    dataset: str = "cifar10"
    root: str = "~/.cache/cellnas/datasets"
    download: bool = False
    cache_dir: str | None = None
    classes: int | tuple[str, ...] | None = None
    per_class: int | None = None
    test_per_class: int | None = None
    resolution: int | None = None
    val_fraction: float = 0.1
    split_seed: int = 0
    train_split: str = "train"
    test_split: str | None = None  # None: 'test', else 'val' for folder sets
    load_test: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.classes, list):
            object.__setattr__(self, "classes", tuple(self.classes))
        for name in ("per_class", "test_per_class", "resolution"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 1):
                raise ValueError(f"data.{name} must be a positive integer or None, got {value!r}")
        if isinstance(self.split_seed, bool) or not isinstance(self.split_seed, int) or self.split_seed < 0:
            raise ValueError(f"data.split_seed must be an integer >= 0, got {self.split_seed!r}")
        # A count is checked here; a list of names once the dataset's classes are known.
        if isinstance(self.classes, int) and not isinstance(self.classes, bool) and self.classes < 2:
            raise ValueError(f"data.classes must select at least 2 classes (a classifier of one class "
                             f"scores 1.0), got {self.classes!r}")
        if not 0.0 <= self.val_fraction < 1.0:
            raise ValueError(f"data.val_fraction must be in [0, 1), got {self.val_fraction!r}")
        if self.val_fraction == 0.0 and not self.load_test:
            raise ValueError("data.val_fraction=0 validates on the test split, so it needs load_test=True")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "DataConfig":
        return from_known_fields(cls, data, "data")

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        if isinstance(self.classes, tuple):
            out["classes"] = list(self.classes)
        return out


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
