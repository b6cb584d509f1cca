"""Latency on a named target, three tiers behind one interface (``LatencyModel``): measured
(MnasNet, Tan et al. 2019), a per-op lookup table built on the target (OFA, Cai et al. 2020),
and an imported per-architecture table (HELP, Lee et al. 2021). ``make_model`` turns the
``evaluation.latency`` config section into one; every estimate is tagged with its tier.

Prediction (LUT, table) is pure Python; measuring and profiling import torch when called.
"""
from __future__ import annotations

from typing import Any

from nas.latency.base import TIERS, LatencyEstimate, LatencyModel
from nas.latency.imported import ImportedTable, load_table
from nas.latency.lut import Fit, LookupTable, load_lut
from nas.latency.measured import MeasuredLatency
from nas.latency.ranking import Objective, objective_from_config

__all__ = ["TIERS", "LatencyEstimate", "LatencyModel", "ImportedTable", "LookupTable", "Fit",
           "MeasuredLatency", "Objective", "load_table", "load_lut", "make_model", "measurer",
           "objective_from_config"]


def measurer(target: Any) -> MeasuredLatency:
    """The measured tier on ``target`` (a ``nas.evaluate.LatencyTarget``)."""
    return MeasuredLatency(target.device, target.batch_size, target.warmup, target.repeats,
                           target.runtime, target.threads, target.clock)


def make_model(target: Any, space: Any = None) -> LatencyModel:
    """The tier ``target`` names, its files read and checked now (before any trial runs)."""
    from nas.search.evaluators import _find
    if target.table:
        return load_table(_find(target.table, "evaluation.latency.table"), target.column)
    if target.lut:
        lut = load_lut(_find(target.lut, "evaluation.latency.lut"))
        name = getattr(space, "name", None)
        if lut.space and name and lut.space != name and name != "compound":
            raise ValueError(f"config key 'evaluation.latency.lut': {lut.path} was profiled for space "
                             f"{lut.space!r}, the search uses {name!r}; accepted: a LUT of this space")
        return lut
    return measurer(target)
