"""Which images a run trains and validates on: the frozen ``DataConfig`` (pure: a config loads and
validates without torch; the loaders are in ``nas.data.datasets``).

The validation set is carved from the training split with a seeded, stratified split, so a
search never selects on the test set (the NAS papers' protocol: Zoph et al. 2018 held out 5,000
CIFAR-10 training images as the controller's reward set).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

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
