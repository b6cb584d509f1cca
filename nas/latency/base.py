"""One interface for latency on a named target, three tiers behind it (MnasNet, Tan et al. 2019:
latency measured on the target device; OFA, Cai et al. 2020: per-op lookup tables built on the
target; HELP, Lee et al. 2021: latency tables from other devices carried to the search).

``LatencyModel.estimate(spec, space)`` returns a ``LatencyEstimate``: milliseconds, the tier that
produced them (``measured``, ``lut`` or ``table``) and, for a measurement, its spread. Every
number a search records carries its tier (metrics ``latency_ms`` and ``latency_tier``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

TIERS = ("measured", "lut", "table")


@dataclass(frozen=True)
class LatencyEstimate:
    """Latency of one forward pass of one batch, in milliseconds, and where the number came from."""

    ms: float
    tier: str
    spread_ms: float | None = None   # a measurement's standard deviation over repeats
    source: str = ""                 # device, LUT or table file

    def metrics(self) -> dict[str, Any]:
        """The trial metrics this estimate contributes."""
        out: dict[str, Any] = {"latency_ms": float(self.ms), "latency_tier": self.tier}
        if self.spread_ms is not None:
            out["latency_std_ms"] = float(self.spread_ms)
        return out


@runtime_checkable
class LatencyModel(Protocol):
    """Latency of a spec on one target. ``estimate`` raises KeyError when the model has no number
    for the spec (an architecture missing from an imported table, an op shape missing from a LUT)."""

    tier: str

    def estimate(self, spec: Any, space: Any = None) -> LatencyEstimate: ...

    def describe(self) -> str: ...
