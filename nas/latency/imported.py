"""The imported-table tier: latencies measured elsewhere, read from a CSV (HELP, Lee et al. 2021,
and HW-NAS-Bench publish such per-device tables for NAS-Bench-201), looked up by spec.

CSV format (UTF-8)::

    # free-form provenance lines start with '#': device, runtime, batch size, how measured
    arch,latency_ms,pixel3_ms
    |nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|,5.21,13.0

* the key column is ``arch`` (or ``arch_str`` or ``spec``): any spec string the catalog resolves
  (a NAS-Bench-201 ``arch_str``, a ``blocks:...`` or cell spec string) or a named architecture;
* ``column`` (``evaluation.latency.column``, default ``latency_ms``) names the latency in
  milliseconds; other columns are ignored, so one file can carry several devices.

A spec is looked up by its canonical string (``space.to_str``), so both written forms of one
architecture meet. A spec not in the table is a ``KeyError`` naming it (the evaluators turn it
into a failed trial); a file without the columns fails at load time, before any search starts.
"""
from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from nas.latency.base import LatencyEstimate

KEY_COLUMNS = ("arch", "arch_str", "spec")


@dataclass(frozen=True)
class ImportedTable:
    """``estimate(spec)``: the table's latency of ``spec`` (tier ``table``)."""

    rows: Mapping[str, float]
    column: str = "latency_ms"
    path: str = ""
    header: tuple[str, ...] = field(default=())   # the file's '#' provenance lines
    tier: str = "table"

    def describe(self) -> str:
        note = f"; {self.header[0]}" if self.header else ""
        return f"table {self.path} column {self.column!r}: {len(self.rows)} architectures{note}"

    def estimate(self, spec: Any, space: Any = None) -> LatencyEstimate:
        key = canonical(spec, space)
        try:
            return LatencyEstimate(self.rows[key], self.tier, None, f"{self.path}:{self.column}")
        except KeyError:
            raise KeyError(f"latency table {Path(self.path).name} (column {self.column!r}) has no row for "
                           f"{key!r}") from None

    def __len__(self) -> int:
        return len(self.rows)


def canonical(spec: Any, space: Any = None) -> str:
    if space is None:
        from search_spaces.catalog import space_for
        space = space_for(spec)
    return space.to_str(spec)


def load_table(path: str | Path, column: str = "latency_ms", key: str = "evaluation.latency.table") -> ImportedTable:
    """Read and check the whole file; one ValueError naming ``key``, the file, line and problem."""
    from search_spaces import catalog
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(f"config key {key!r}: latency table {str(path)!r} does not exist") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ValueError(f"config key {key!r}: cannot read latency table {path} ({err})") from None
    lines = text.splitlines()
    header = tuple(line.lstrip("#").strip() for line in lines if line.startswith("#"))
    body = [line for line in lines if not line.startswith("#")]
    reader = csv.DictReader(io.StringIO("\n".join(body)))
    names = reader.fieldnames or []
    arch_col = next((c for c in KEY_COLUMNS if c in names), None)
    if arch_col is None or column not in names:
        missing = [] if arch_col else [" or ".join(KEY_COLUMNS)]
        missing += [] if column in names else [repr(column)]
        raise ValueError(f"config key {'evaluation.latency.column' if arch_col else key!r}: latency table {path} "
                         f"lacks column(s) {', '.join(missing)}; it has {', '.join(map(repr, names)) or 'none'}; "
                         f"accepted: a key column ({', '.join(KEY_COLUMNS)}) and the latency column named by "
                         "evaluation.latency.column")
    rows: dict[str, float] = {}
    for number, row in enumerate(reader, start=2):
        where = f"{path}: row {number} (after comments)"
        try:
            value = float(row[column])
            spec = catalog.resolve(row[arch_col])
        except (TypeError, ValueError) as err:
            raise ValueError(f"config key {key!r}: {where}: {err}") from None
        if not math.isfinite(value) or value <= 0:
            raise ValueError(f"config key {key!r}: {where}: latency {row[column]!r} is not a number > 0 (ms)")
        name = canonical(spec)
        if name in rows:
            raise ValueError(f"config key {key!r}: {where}: architecture {row[arch_col]!r} appears twice")
        rows[name] = value
    if not rows:
        raise ValueError(f"config key {key!r}: latency table {path} has no rows")
    return ImportedTable(rows, column, str(path), header)
