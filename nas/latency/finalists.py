"""Measured finalists: at the end of a search whose latency was predicted (LUT, Cai et al. 2020;
imported table, Lee et al. 2021), the best architectures are built and timed on the target where
this machine reaches it (MnasNet, Tan et al. 2019, trusted only the device), so the report can
show predicted against measured for the architectures a user will actually pick."""
from __future__ import annotations

from typing import Any, Mapping, Sequence


def measure_finalists(config: Mapping[str, Any] | None, space: Any, ranked: Sequence[Any]) -> list[dict] | None:
    """Rows ``{candidate_id, spec, predicted_ms, tier, measured_ms, spread_ms, on, note}`` for the
    first ``evaluation.latency.finalists`` of ``ranked`` (best first); None when the run's
    latency is measured already, absent, or no finalist is asked for."""
    from nas.config import build
    from nas.evaluate import LatencyTarget
    from nas.latency import measurer
    section = ((config or {}).get("evaluation") or {}).get("latency")
    if not section:
        return None
    target = build(LatencyTarget, section, "evaluation.latency")
    if target.tier == "measured" or target.finalists == 0:
        return None
    model = measurer(target)
    reason = model.reachable()
    rows = []
    for record in list(ranked)[:target.finalists]:
        row = {"candidate_id": record.candidate_id, "spec": record.spec,
               "predicted_ms": record.metrics.get("latency_ms"), "tier": record.metrics.get("latency_tier"),
               "measured_ms": None, "spread_ms": None, "on": model.describe(), "note": reason or ""}
        if reason is None:
            try:
                estimate = model.estimate(space.from_str(record.spec), space)
                row.update(measured_ms=estimate.ms, spread_ms=estimate.spread_ms)
            except Exception as err:  # noqa: BLE001 - a finalist that cannot be built or timed is noted
                row["note"] = f"not measured: {type(err).__name__}: {err}"
        rows.append(row)
    return rows
