"""The lookup-table tier (OFA, Cai et al. 2020: per-op latency tables built on the target): a
network's latency is predicted as ``scale * sum(unit latencies) + offset_ms``, the units read from
its space's plan (``nas.latency.units``) and the two constants fitted on a few networks measured
whole on the same target (what isolated profiling misses: the framework's per-forward overhead,
caches warm across ops). Prediction is pure Python: no torch on the search machine.

File format (JSON, written by ``nas latency profile``, carried from the device to the search)::

    {"format": "cellnas-latency-lut", "version": 1,
     "space": "nasbench201",
     "target": {"device": "cpu", "runtime": "torch", "batch_size": 1, "threads": 1,
                "clock": "cpu", "host": "...", "torch": "2.14.1"},
     "units": {"op:conv_3x3,16,16,1,32,False": 0.081, ...},     # median ms per unit
     "fit": {"scale": 1.04, "offset_ms": 0.21, "networks": 6}}
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from nas.latency.base import LatencyEstimate
from nas.latency.units import units

FORMAT = "cellnas-latency-lut"
VERSION = 1


@dataclass(frozen=True)
class Fit:
    """``measured ~= scale * lut_sum + offset_ms`` (relative least squares over ``networks``)."""

    scale: float = 1.0
    offset_ms: float = 0.0
    networks: int = 0


def fit_constants(sums: Sequence[float], measured: Sequence[float]) -> Fit:
    """Minimise the squared *relative* error of ``scale * sum + offset`` (what MdAPE judges).
    The offset is per-forward overhead, so never negative: a negative solution refits the scale
    alone. Fewer than 5 networks (too few for two constants), or a non-positive scale, fit the
    offset alone (scale 1, the median residual)."""
    if len(sums) != len(measured) or not sums:
        raise ValueError(f"fit needs matching, non-empty sums and measurements, got {len(sums)} and {len(measured)}")
    if len(sums) >= 5:
        # weighted normal equations, weights 1/m^2
        w = [1.0 / (m * m) for m in measured]
        sw, sx, sxx = sum(w), sum(wi * s for wi, s in zip(w, sums)), sum(wi * s * s for wi, s in zip(w, sums))
        sy, sxy = sum(wi * m for wi, m in zip(w, measured)), sum(wi * s * m for wi, s, m in zip(w, sums, measured))
        det = sw * sxx - sx * sx
        if det > 0:
            scale = (sw * sxy - sx * sy) / det
            offset = (sy - scale * sx) / sw
            if scale > 0 and offset >= 0:
                return Fit(scale, offset, len(sums))
            if sxx > 0 and sxy > 0:
                return Fit(sxy / sxx, 0.0, len(sums))
    residuals = sorted(m - s for s, m in zip(sums, measured))
    return Fit(1.0, residuals[len(residuals) // 2], len(sums))


@dataclass(frozen=True)
class LookupTable:
    """A LUT for one target; ``estimate(spec, space)`` is its prediction (tier ``lut``)."""

    entries: Mapping[str, float]
    target: Mapping[str, Any] = field(default_factory=dict)
    space: str = ""
    fit: Fit = Fit()
    path: str = ""
    tier: str = "lut"

    def describe(self) -> str:
        t = self.target
        return (f"LUT {self.path or '(in memory)'}: {len(self.entries)} units, {self.space} space, "
                f"{t.get('device', '?')} {t.get('runtime', '?')} batch {t.get('batch_size', '?')}")

    def unit_sum(self, spec: Any, space: Any = None) -> float:
        """Sum of the profiled latencies of ``spec``'s units; KeyError naming the first missing."""
        total = 0.0
        for unit in units(spec, space):
            try:
                total += self.entries[unit.key]
            except KeyError:
                raise KeyError(f"LUT {self.path or '(in memory)'} has no entry for unit {unit.key!r} of "
                               f"{getattr(spec, 'to_str', lambda: spec)()!r}; profile the space again "
                               "(nas latency profile) to cover it") from None
        return total

    def predict_ms(self, spec: Any, space: Any = None) -> float:
        return max(0.0, self.fit.scale * self.unit_sum(spec, space) + self.fit.offset_ms)

    def estimate(self, spec: Any, space: Any = None) -> LatencyEstimate:
        return LatencyEstimate(self.predict_ms(spec, space), self.tier, None, self.path)

    def with_fit(self, fit: Fit) -> "LookupTable":
        return LookupTable(self.entries, self.target, self.space, fit, self.path)

    def to_dict(self) -> dict:
        return {"format": FORMAT, "version": VERSION, "space": self.space, "target": dict(self.target),
                "units": dict(sorted(self.entries.items())),
                "fit": {"scale": self.fit.scale, "offset_ms": self.fit.offset_ms, "networks": self.fit.networks}}

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(json.dumps(self.to_dict(), indent=1) + "\n")
        return path


def load_lut(path: str | Path, key: str = "evaluation.latency.lut") -> LookupTable:
    """Read a LUT file; one ValueError naming ``key``, the file and what is wrong."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise FileNotFoundError(f"config key {key!r}: LUT file {str(path)!r} does not exist") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"config key {key!r}: {path} is not a readable JSON LUT ({err})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("version") != VERSION:
        raise ValueError(f"config key {key!r}: {path} is not a {FORMAT} v{VERSION} file; accepted: the "
                         "output of `nas latency profile`")
    entries = data.get("units")
    if not isinstance(entries, dict) or not all(
            isinstance(v, (int, float)) and math.isfinite(v) and v >= 0 for v in entries.values()):
        raise ValueError(f"config key {key!r}: {path}: 'units' must map unit keys to latencies >= 0 (ms)")
    fit = data.get("fit") or {}
    try:
        fit = Fit(float(fit.get("scale", 1.0)), float(fit.get("offset_ms", 0.0)), int(fit.get("networks", 0)))
    except (TypeError, ValueError, AttributeError):
        raise ValueError(f"config key {key!r}: {path}: 'fit' must hold numbers scale, offset_ms, networks") from None
    return LookupTable({str(k): float(v) for k, v in entries.items()}, dict(data.get("target") or {}),
                       str(data.get("space", "")), fit, str(path))
