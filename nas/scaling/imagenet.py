"""ImageNet transfer of a found architecture.

Cell specs follow NASNet (Zoph et al. 2018, section 4): the cells found on CIFAR-10 are stacked
behind the ImageNet stem (a stride-2 conv and two reduction cells for NASNet wiring; DARTS's
three stride-2 convs for DARTS wiring, Liu et al. 2019) with a chosen N (normal cells per stage)
and F (first-stage filters). The papers name that size differently: NASNet writes "N @ P" with P
the filters of the penultimate layer (NASNet-A mobile "4 @ 1056" is N=4, F=44), DARTS writes
"L cells @ F" with L = 3N + 2 ("14 @ 48" is N=4, F=48); ``describe`` prints both.

Block specs (MnasNet, EfficientNet) and macro specs (the classic networks) are sized by
multipliers: they go to 224 px (or the given side) and 1000 classes through their space's
width/depth scaling (``search_spaces.scaling`` rounding: filters to multiples of 8, repeats up).

Without an explicit size, a cell spec gets the papers' *mobile setting*: N = 4 and the largest F
(in steps of 4) with at most 600M multiply-adds, which reproduces NASNet-A's 4 @ 1056 and
DARTS's 14 @ 48. A budget (``max_macs``/``max_params``) picks the largest N/F that fits, as
``nas.scaling.budget`` defines it.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Sequence

from cells.counting import Cost
from nas.scaling.budget import Fit, largest_fit, step_grid
from search_spaces.blocks.spec import BlockSpec
from search_spaces.catalog import space_for
from search_spaces.cell.spec import CellSpec
from search_spaces.macro.spec import MacroSpec
from search_spaces.scaling import scale

MOBILE_MACS = 600_000_000      # the ImageNet mobile setting of NASNet, AmoebaNet, DARTS
MOBILE_CELLS = 4
FILTER_STEP = 4                # keeps NASNet's F/4 and F/2 stem cells and DARTS's F/2 stem exact
MAX_FILTERS = 1024
WIDTH_STEP = 0.05
MAX_WIDTH = 4.0


@dataclass(frozen=True)
class Transfer:
    """The ImageNet spec, its cost, and how its size was chosen (``fit`` None: given directly)."""

    spec: Any
    cost: Cost
    fit: Fit | None
    budget: dict

    def to_dict(self) -> dict:
        out = {"spec": self.spec.to_dict(), "spec_string": self.spec.to_str(), "params": self.cost.params,
               "macs": self.cost.macs, "size": describe(self.spec)}
        if self.budget:
            out["budget"] = dict(self.budget)
        if self.fit is not None:
            out["fit"] = {"outer": self.fit.outer, "inner": self.fit.inner, "costs_evaluated": self.fit.evaluated}
        return out


def describe(spec: Any) -> dict:
    """The size of a network in the papers' notations."""
    if isinstance(spec, CellSpec):
        from search_spaces.cell.plan import plan_network
        penultimate = plan_network(spec).features.chs
        return {"kind": "cell", "N": spec.n, "F": spec.filters, "penultimate_filters": penultimate,
                "layers": 3 * spec.n + 2, "stem": spec.stem, "resolution": spec.resolution,
                "nasnet_notation": f"{spec.n} @ {penultimate}",
                "darts_notation": f"{3 * spec.n + 2} cells @ {spec.filters}"}
    if isinstance(spec, BlockSpec):
        return {"kind": "blocks", "stem": spec.stem, "head": spec.head, "resolution": spec.resolution,
                "stages": [f"{s.repeats}x{s.out_chs}" for s in spec.stages],
                "layers": sum(s.repeats for s in spec.stages)}
    if isinstance(spec, MacroSpec):
        return {"kind": "macro", "resolution": spec.resolution,
                "stages": [f"{s.op} {s.repeats}x{s.out_chs or '-'}" for s in spec.stages],
                "layers": sum(s.repeats for s in spec.stages)}
    return {"kind": type(spec).__name__}


def _positive_int(name: str, value: Any) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


def cell_imagenet(spec: CellSpec, *, cells: int, filters: int, resolution: int = 224, num_classes: int = 1000,
                  stem_multiplier: int | None = None) -> CellSpec:
    """The genotype of ``spec`` behind the ImageNet stem at N = ``cells``, F = ``filters``.
    ``stem_multiplier`` defaults to the spec's own on an ImageNet spec, else 1 (NASNet mobile's 32
    stem filters; NASNet-A large uses 3)."""
    for name, value in (("cells", cells), ("filters", filters), ("resolution", resolution),
                        ("num_classes", num_classes), ("stem_multiplier", stem_multiplier)):
        _positive_int(name, value)
    if stem_multiplier is None:
        stem_multiplier = spec.stem_multiplier if spec.stem == "imagenet" else 1
    return dataclasses.replace(spec, stem="imagenet", n=cells, filters=filters, resolution=resolution,
                               num_classes=num_classes, stem_multiplier=stem_multiplier)


def block_imagenet(spec: BlockSpec | MacroSpec, *, width: float = 1.0, depth: float = 1.0, resolution: int = 224,
                   num_classes: int = 1000) -> BlockSpec | MacroSpec:
    """``spec`` under width/depth multipliers, at ``resolution`` px and ``num_classes`` classes."""
    _positive_int("resolution", resolution)
    _positive_int("num_classes", num_classes)
    scaled = (scale(spec, width=width, depth=depth) if isinstance(spec, BlockSpec)
              else space_for(spec).scale(spec, width=width, depth=depth))
    return dataclasses.replace(scaled, resolution=resolution, num_classes=num_classes)


def to_imagenet(spec: Any, *, cells: int | Sequence[int] | None = None, filters: int | None = None,
                width: float | None = None, depth: float = 1.0, max_macs: float | None = None,
                max_params: float | None = None, resolution: int = 224, num_classes: int = 1000,
                stem_multiplier: int | None = None) -> Transfer:
    """The ImageNet network of ``spec`` (see the module docstring for how the size is chosen).

    Cell specs: ``cells`` is N or a sequence of N values to choose from (default 4), ``filters``
    is F (default: fitted). Block specs: ``width``/``depth`` multipliers (width fitted when a
    budget is given and ``width`` is None)."""
    if isinstance(spec, CellSpec):
        if width is not None or depth != 1.0:
            raise ValueError("width/depth multipliers apply to block specs; a cell network is sized by "
                             "cells (N) and filters (F)")
        return _cells(spec, cells, filters, max_macs, max_params, resolution, num_classes, stem_multiplier)
    if isinstance(spec, (BlockSpec, MacroSpec)):
        if cells is not None or filters is not None or stem_multiplier is not None:
            raise ValueError("cells/filters/stem_multiplier apply to cell specs; block and macro specs are sized "
                             "by width and depth multipliers")
        return _blocks(spec, width, depth, max_macs, max_params, resolution, num_classes)
    raise TypeError(f"no ImageNet transfer for a {type(spec).__name__}; accepted: cell-space specs (cell:...) "
                    "block-space specs (blocks:...) and macro specs (named classic networks, macro:...)")


def _cost(spec: Any) -> Cost:
    return space_for(spec).cost(spec)


def _cells(spec, cells, filters, max_macs, max_params, resolution, num_classes, stem_multiplier) -> Transfer:
    ns = [MOBILE_CELLS] if cells is None else ([cells] if isinstance(cells, int) else list(cells))
    for n in ns:
        _positive_int("cells", n)
    _positive_int("filters", filters)
    make = lambda n, f: cell_imagenet(spec, cells=n, filters=f, resolution=resolution,  # noqa: E731
                                      num_classes=num_classes, stem_multiplier=stem_multiplier)
    budget = {k: v for k, v in (("max_macs", max_macs), ("max_params", max_params)) if v is not None}
    if filters is not None and len(ns) == 1:
        out = make(ns[0], filters)
        cost = _cost(out)
        if budget and not (cost.macs <= (max_macs or cost.macs) and cost.params <= (max_params or cost.params)):
            raise ValueError(f"N={ns[0]}, F={filters} has {cost.params:,} params and {cost.macs:,} MACs, over the "
                             f"budget {budget}; drop --cells/--filters to fit them")
        return Transfer(out, cost, None, budget)
    if not budget:
        budget = {"max_macs": MOBILE_MACS}
    inner = [filters] if filters is not None else step_grid(FILTER_STEP, MAX_FILTERS)
    fit = largest_fit(make, _cost, ns, inner, **budget)
    return Transfer(fit.spec, fit.cost, fit, budget)


def _blocks(spec, width, depth, max_macs, max_params, resolution, num_classes) -> Transfer:
    budget = {k: v for k, v in (("max_macs", max_macs), ("max_params", max_params)) if v is not None}
    make = lambda d, w: block_imagenet(spec, width=w, depth=d, resolution=resolution,  # noqa: E731
                                       num_classes=num_classes)
    if width is not None or not budget:
        out = make(depth, 1.0 if width is None else width)
        return Transfer(out, _cost(out), None, budget)
    fit = largest_fit(make, _cost, [depth], step_grid(WIDTH_STEP, MAX_WIDTH), **budget)
    return Transfer(fit.spec, fit.cost, fit, budget)
