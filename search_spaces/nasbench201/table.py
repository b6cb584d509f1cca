"""Tabular evaluation on NAS-Bench-201 (Dong & Yang 2020): accuracies looked up, not trained.

Reads a CSV of the benchmark's cells (columns ``index, arch_str`` and one column per metric,
e.g. ``cifar10_valid``) such as the 12-epoch table in ``shared/data/nasbench201-12epoch.csv``,
so strategies can be compared exactly and in milliseconds.
"""
from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Union

from search_spaces.nasbench201.spec import NB201Spec, parse_cell

METRICS = ("cifar10_test", "cifar10_valid", "cifar100_test", "cifar100_valid",
           "imagenet16_120_test", "imagenet16_120_valid")
COLUMNS = ("index", "arch_str") + METRICS


class NB201Table:
    """``query(spec_or_arch_str, metric)`` -> the table's value (accuracy in percent)."""

    metrics = METRICS

    def __init__(self, path: Union[str, Path]):
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"NAS-Bench-201 table {str(self.path)!r} does not exist")
        self._rows: dict[tuple[str, ...], dict[str, float]] = {}
        self._index: dict[tuple[str, ...], int] = {}
        with self.path.open(newline="") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in COLUMNS if c not in (reader.fieldnames or ())]
            if missing:
                raise ValueError(f"{self.path}: missing column(s) {missing}; expected {list(COLUMNS)}")
            for line, row in enumerate(reader, start=2):
                self._add(row, line)

    def _add(self, row: dict, line: int) -> None:
        try:
            ops = parse_cell(row["arch_str"])
            values = {m: float(row[m]) for m in METRICS}
            index = int(row["index"])
        except (TypeError, ValueError) as err:
            raise ValueError(f"{self.path}:{line}: {err}") from None
        if ops in self._rows:
            raise ValueError(f"{self.path}:{line}: arch {row['arch_str']!r} appears twice")
        self._rows[ops] = values
        self._index[ops] = index

    def __len__(self) -> int:
        return len(self._rows)

    def arch_strings(self) -> list[str]:
        """All cells in table order (by benchmark index)."""
        specs = sorted(self._rows, key=self._index.__getitem__)
        return [NB201Spec(ops).cell_str() for ops in specs]

    def _key(self, spec_or_str: Union[NB201Spec, str]) -> tuple[str, ...]:
        if isinstance(spec_or_str, NB201Spec):
            ops = spec_or_str.ops
        elif isinstance(spec_or_str, str):
            ops = NB201Spec.from_str(spec_or_str).ops
        else:
            raise TypeError(f"query takes an NB201Spec or an arch string, got {type(spec_or_str).__name__}")
        if ops not in self._rows:
            raise KeyError(f"arch {NB201Spec(ops).cell_str()!r} is not in {self.path.name}")
        return ops

    def index(self, spec_or_str: Union[NB201Spec, str]) -> int:
        """The benchmark index of a cell."""
        return self._index[self._key(spec_or_str)]

    def query(self, spec_or_str: Union[NB201Spec, str], metric: str = "cifar10_valid") -> float:
        """The table's ``metric`` for the cell (the spec's num_classes/resolution play no part)."""
        if metric not in METRICS:
            raise ValueError(f"unknown metric {metric!r}; accepted: {', '.join(METRICS)}")
        value = self._rows[self._key(spec_or_str)][metric]
        if math.isnan(value):
            raise ValueError(f"{self.path.name} holds no {metric} for {spec_or_str!r}")
        return value
