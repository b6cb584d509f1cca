"""The NASNet search space (Zoph et al. 2018, "Learning Transferable Architectures for Scalable
Image Recognition"): a normal and a reduction cell of B blocks, each block choosing two inputs, two
operations and a combiner, stacked into a network with fixed macro settings ("N @ F").

The decision sequence is NASNet's controller order: per cell type, per block, input 1, input 2,
op 1, op 2, combiner. The operation list is configurable; the default is NASNet's 13 operations
plus the card's blocks. The macro settings of the space (small N and F for the proxy) go into
every frozen spec; ``retarget`` and ``scale_network`` change them for the real network.

Module exports for ``search_spaces.catalog``: ``NAMED``, ``parse``, ``parse_dict``, ``space_for``.
"""
from __future__ import annotations

import math
from dataclasses import replace
from typing import Any, Sequence

import cells
from cells.counting import Cost
from search_spaces.base import Dimension, SearchSpace
from search_spaces.cell.archs import NAMED
from search_spaces.cell.graph import cost as _cost, to_graph as _to_graph
from search_spaces.cell.spec import (COMBINERS, PREFIX, STEMS, WIRINGS, Block, Cell, CellSpec,
                                     layers_to_n)

NASNET_OPS = ("identity", "conv_1x3_3x1", "conv_1x7_7x1", "dil_conv_3x3", "avg_pool_3x3", "max_pool_3x3",
              "max_pool_5x5", "max_pool_7x7", "conv_1x1", "conv_3x3", "sep_conv_3x3", "sep_conv_5x5",
              "sep_conv_7x7")
CARD_BLOCKS = ("inception_v1", "basic_block", "bottleneck", "se", "mbconv_e3_k3", "mbconv_e6_k5")
DEFAULT_OPS = NASNET_OPS + CARD_BLOCKS
_FIELDS = ("input1", "input2", "op1", "op2", "combiner")

__all__ = ["CellSpace", "CellSpec", "Cell", "Block", "NAMED", "NASNET_OPS", "CARD_BLOCKS", "DEFAULT_OPS",
           "COMBINERS", "STEMS", "WIRINGS", "parse", "parse_dict", "space_for", "scale_network", "scale_filters",
           "layers_to_n"]


class CellSpace(SearchSpace):
    """NASNet's cell search space over a configurable op list, with fixed macro settings."""

    name = "cell"

    def __init__(self, ops: Sequence[str] = DEFAULT_OPS, *, blocks: int = 5,
                 combiners: Sequence[str] = COMBINERS, n: int = 2, filters: int = 16, stem: str = "cifar",
                 wiring: str = "nasnet", num_classes: int = 10, resolution: int = 32, stem_multiplier: int = 3):
        ops, combiners = tuple(ops), tuple(combiners)
        if not ops or len(set(ops)) != len(ops):
            raise ValueError(f"ops must be a non-empty list of distinct op names, got {ops!r}")
        unknown = [o for o in ops if o not in cells.OPS]
        if unknown:
            raise ValueError(f"ops: unknown op(s) {unknown}; accepted: {', '.join(sorted(cells.OPS))}")
        if not combiners or any(c not in COMBINERS for c in combiners) or len(set(combiners)) != len(combiners):
            raise ValueError(f"combiners={combiners!r}; accepted: distinct values among {', '.join(COMBINERS)}")
        if isinstance(blocks, bool) or not isinstance(blocks, int) or blocks < 1:
            raise ValueError(f"blocks must be a positive int, got {blocks!r}")
        self.ops, self.blocks, self.combiners = ops, blocks, combiners
        # Checks the macro settings once, through the spec's own validation.
        self._template = CellSpec(self._any_cell(), self._any_cell(), n=n, filters=filters, stem=stem,
                                  wiring=wiring, num_classes=num_classes, resolution=resolution,
                                  stem_multiplier=stem_multiplier)
        self._dims = tuple(Dimension(f"{t}.b{b}.{field}", choices)
                           for t in ("normal", "reduce") for b in range(blocks)
                           for field, choices in zip(_FIELDS, (tuple(range(b + 2)), tuple(range(b + 2)),
                                                               ops, ops, combiners)))

    def _any_cell(self) -> Cell:
        return Cell(tuple(Block(0, 1, self.ops[0], self.ops[0], self.combiners[0]) for _ in range(self.blocks)))

    def __repr__(self) -> str:
        t = self._template
        return (f"CellSpace(ops={len(self.ops)}, blocks={self.blocks}, combiners={self.combiners}, "
                f"N={t.n}, F={t.filters}, stem={t.stem}, wiring={t.wiring}, res={t.resolution})")

    def dimensions(self) -> tuple[Dimension, ...]:
        return self._dims

    def freeze(self, decisions: Sequence[int]) -> CellSpec:
        idx = iter(self.check_decisions(decisions))
        dims = iter(self._dims)
        built = {}
        for t in ("normal", "reduce"):
            blocks = []
            for _ in range(self.blocks):
                values = [next(dims).choices[next(idx)] for _ in _FIELDS]
                blocks.append(Block(*values))
            built[t] = Cell(tuple(blocks))
        return replace(self._template, **built)

    def decisions(self, spec: CellSpec) -> tuple[int, ...]:
        self.validate(spec)
        out = []
        for t in ("normal", "reduce"):
            for block in getattr(spec, t).blocks:
                out += [block.input1, block.input2, self.ops.index(block.op1), self.ops.index(block.op2),
                        self.combiners.index(block.combiner)]
        return tuple(out)

    def validate(self, spec: Any) -> None:
        """The spec's genotype must be expressible in this space (B blocks, listed ops and
        combiners, outputs by the wiring's rule); its macro settings may differ."""
        if not isinstance(spec, CellSpec):
            raise TypeError(f"cell space expects a CellSpec, got {type(spec).__name__}")
        for t in ("normal", "reduce"):
            cell = getattr(spec, t)
            if cell.num_blocks != self.blocks:
                raise ValueError(f"{t}.blocks: {cell.num_blocks} blocks; this space has {self.blocks}")
            if cell.concat is not None:
                raise ValueError(f"{t}_concat={cell.concat}: an explicit output list is not a decision of this "
                                 f"space; accepted: the '{spec.wiring}' wiring's own rule")
            for b, block in enumerate(cell.blocks):
                for field in ("op1", "op2"):
                    if getattr(block, field) not in self.ops:
                        raise ValueError(f"{t}.blocks[{b}].{field}: {getattr(block, field)!r} is not in this "
                                         f"space's op list; accepted: {', '.join(self.ops)}")
                if block.combiner not in self.combiners:
                    raise ValueError(f"{t}.blocks[{b}].combiner: {block.combiner!r}; accepted: "
                                     f"{', '.join(self.combiners)}")

    def cost(self, spec: CellSpec, **kwargs) -> Cost:
        if kwargs:
            raise TypeError(f"cell space cost takes no options (the spec holds resolution and classes), "
                            f"got {sorted(kwargs)}")
        return _cost(spec)

    def to_graph(self, spec: CellSpec, view: str = "network"):
        return _to_graph(spec, view)

    def build(self, spec: CellSpec, **kwargs):
        from search_spaces.cell.build import build_network  # torch only when building
        return build_network(spec, **kwargs)

    def retarget(self, spec: CellSpec, *, num_classes: int | None = None,
                 resolution: int | None = None) -> CellSpec:
        changes = {k: v for k, v in (("num_classes", num_classes), ("resolution", resolution)) if v is not None}
        return replace(spec, **changes)

    def scale(self, spec: CellSpec, *, width: float = 1.0, depth: float = 1.0,
              resolution: float = 1.0) -> CellSpec:
        # scale_network takes the new input side in pixels (None keeps it).
        side = None if resolution == 1 else max(1, int(round(spec.resolution * resolution)))
        return scale_network(spec, width=width, depth=depth, resolution=side)

    def from_str(self, text: str) -> CellSpec:
        return CellSpec.from_str(text)

    def from_dict(self, data: dict) -> CellSpec:
        return CellSpec.from_dict(data)


def parse(text: str) -> CellSpec | None:
    """A spec from its ``cell:`` string; None for another space's string."""
    return CellSpec.from_str(text) if text.strip().startswith(PREFIX) else None


def parse_dict(data: Any) -> CellSpec | None:
    """A spec from its JSON form; None for another space's JSON."""
    if not isinstance(data, dict):
        return None
    if data.get("space") == "cell" or ("space" not in data and {"normal", "reduce"} <= set(data)):
        return CellSpec.from_dict(data)
    return None


def spec_ops(spec: CellSpec) -> set[str]:
    return {op for cell in (spec.normal, spec.reduce) for block in cell.blocks for op in (block.op1, block.op2)}


def cell_ops() -> tuple[str, ...]:
    """The registry entries a cell can use: those mapping C channels to C at stride 1 and 2 (a
    DenseNet layer, which must grow its channels, cannot sit on a cell edge)."""
    usable = []
    for name in sorted(cells.OPS):
        try:
            for stride in (1, 2):
                cells.cost(name, 16, 16, stride, 8)
        except (ValueError, TypeError):
            continue
        usable.append(name)
    return tuple(usable)


def space_for(spec: Any) -> CellSpace | None:
    """A space that can cost, draw and build ``spec`` (every op a cell can use, the spec's macro)."""
    if not isinstance(spec, CellSpec):
        return None
    ops = tuple(sorted(set(cell_ops()) | spec_ops(spec)))
    return CellSpace(ops, blocks=spec.normal.num_blocks, n=spec.n, filters=spec.filters, stem=spec.stem,
                     wiring=spec.wiring, num_classes=spec.num_classes, resolution=spec.resolution,
                     stem_multiplier=spec.stem_multiplier)


def scale_filters(filters: int, width: float, divisor: int = 4) -> int:
    """F under width multiplier ``width``: the nearest multiple of ``divisor`` (4 keeps NASNet's F/4
    stem cells and DARTS's F/2 stem exact), one step up where that falls more than 10% below the
    target (EfficientNet's rule); width 1 keeps F as it is."""
    if width == 1:
        return filters
    target = filters * width
    rounded = max(divisor, int(target + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * target else rounded


def scale_network(spec: CellSpec, *, width: float = 1.0, depth: float = 1.0,
                  resolution: int | None = None) -> CellSpec:
    """Compound scaling of a cell network (Tan & Le 2019 applied to "N @ F"): N becomes
    ceil(N * depth), F becomes ``scale_filters(F, width)``, ``resolution`` (an input side in
    pixels) replaces the spec's when given."""
    if not isinstance(spec, CellSpec):
        raise TypeError(f"scale_network expects a CellSpec, got {type(spec).__name__}")
    for name, value in (("width", width), ("depth", depth)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise ValueError(f"scale_network: {name} must be a positive multiplier, got {value!r}")
    if resolution is not None and (isinstance(resolution, bool) or not isinstance(resolution, int)
                                   or resolution < 1):
        raise ValueError(f"scale_network: resolution must be an input side in pixels (positive int) or None, "
                         f"got {resolution!r}")
    return replace(spec, n=math.ceil(round(spec.n * depth, 9)), filters=scale_filters(spec.filters, width),
                   resolution=spec.resolution if resolution is None else resolution)

