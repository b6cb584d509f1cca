"""The MnasNet factorized hierarchical search space (Tan et al. 2019, "MnasNet: Platform-Aware
Neural Architecture Search for Mobile", section 4.1).

The network is split into stages around a base architecture (by default MnasNet-B1's skeleton:
its stem, strides, activations and head stay fixed). Each stage searches its own block, repeated
through the stage, so layers differ across the network while the space stays small:

    op       regular conv (cn), depthwise-separable conv (ds), MBConv with expansion 1, 3 or 6
    kernel   3 or 5
    se       squeeze-and-excitation ratio 0 or 0.25
    skip     identity skip or none
    filters  the base's output channels x 0.75 / 1.0 / 1.25, rounded to multiples of 8
    layers   the base's repeats -1 / 0 / +1 (never below 1)

Multipliers that round to the same width, or deltas that clamp to the same depth, are merged, so
each dimension's choices are distinct values and ``freeze``/``decisions`` are inverse bijections
(a mutation always changes the network). Specs, their string and JSON forms live in
``block_spec``; cost, graph and module in ``block_cost``, ``block_graph``, ``block_network``.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Sequence

from cells.counting import Cost
from search_spaces.blocks import archs as block_archs
from search_spaces.base import Dimension, SearchSpace
from search_spaces.blocks.plan import network_cost, scale_blocks
from search_spaces.blocks.graph import to_graph as _to_graph
from search_spaces.blocks.spec import PREFIX, BlockSpec, StageSpec, parse_network
from search_spaces.scaling import round_filters

NAMED = block_archs.NAMED
OP_CHOICES = ("cn", "ds", "ir_e3", "ir_e6")


def _op_choice(stage: StageSpec) -> str:
    return f"ir_e{stage.expand}" if stage.op == "ir" else stage.op


def _parse_op_choice(choice: str) -> tuple[str, int]:
    if choice in ("cn", "ds"):
        return choice, 1
    if choice == "ir_e1":
        raise ValueError("block space: op choice 'ir_e1' builds the same network as 'ds' (MBConv without "
                         "expansion is the depthwise-separable conv); use 'ds'")
    if choice.startswith("ir_e") and choice[4:].isdigit() and int(choice[4:]) >= 2:
        return "ir", int(choice[4:])
    raise ValueError(f"block space: op choice {choice!r} not understood; accepted: cn, ds, ir_e<int >= 2>")


class BlockSpace(SearchSpace):
    name = "blocks"

    def __init__(self, base: BlockSpec | None = None, *, ops: Sequence[str] = OP_CHOICES,
                 kernels: Sequence[int] = (3, 5), se_ratios: Sequence[float] = (0.0, 0.25),
                 skips: Sequence[bool] = (True, False), widths: Sequence[float] = (0.75, 1.0, 1.25),
                 layer_deltas: Sequence[int] = (-1, 0, 1)):
        self.base = block_archs.MNASNET_B1 if base is None else base
        self.validate(self.base)
        for op in ops:
            _parse_op_choice(op)
        for name, values in (("ops", ops), ("kernels", kernels), ("se_ratios", se_ratios), ("skips", skips),
                             ("widths", widths), ("layer_deltas", layer_deltas)):
            if len(values) == 0 or len(set(values)) != len(values):
                raise ValueError(f"block space: {name} must be non-empty and without repeats, got {values!r}")
        for w in widths:
            if isinstance(w, bool) or not isinstance(w, (int, float)) or not w > 0:
                raise ValueError(f"block space: widths must be positive numbers, got {w!r}")
        self.ops, self.kernels, self.skips = tuple(ops), tuple(kernels), tuple(skips)
        self.se_ratios = tuple(float(s) for s in se_ratios)
        self.widths, self.layer_deltas = tuple(widths), tuple(layer_deltas)
        self._dims = self._make_dimensions()
        # Every choice must make a valid stage; fail here, not on the thousandth sample.
        self.freeze([0] * len(self._dims))
        self.freeze([len(d.choices) - 1 for d in self._dims])

    def _stage_choices(self, stage: StageSpec) -> dict[str, tuple]:
        filters = tuple(dict.fromkeys(round_filters(stage.out_chs, w) for w in sorted(self.widths)))
        layers = tuple(dict.fromkeys(max(1, stage.repeats + d) for d in sorted(self.layer_deltas)))
        return {"op": self.ops, "kernel": self.kernels, "se": self.se_ratios, "skip": self.skips,
                "filters": filters, "layers": layers}

    def _make_dimensions(self) -> tuple[Dimension, ...]:
        dims = []
        for i, stage in enumerate(self.base.stages, start=1):
            for field, choices in self._stage_choices(stage).items():
                dims.append(Dimension(f"stage{i}.{field}", choices))
        return tuple(dims)

    def dimensions(self) -> tuple[Dimension, ...]:
        return self._dims

    def freeze(self, decisions: Sequence[int]) -> BlockSpec:
        idx = iter(self.check_decisions(decisions))
        stages = []
        for base_stage in self.base.stages:
            pick = {f: choices[next(idx)] for f, choices in self._stage_choices(base_stage).items()}
            op, expand = _parse_op_choice(pick["op"])
            stages.append(dataclasses.replace(base_stage, op=op, expand=expand, kernel=pick["kernel"],
                                              se_ratio=pick["se"], skip=pick["skip"],
                                              out_chs=pick["filters"], repeats=pick["layers"]))
        return dataclasses.replace(self.base, stages=tuple(stages))

    def decisions(self, spec: BlockSpec) -> tuple[int, ...]:
        """Indices reproducing ``spec``; ValueError naming the first field outside the space.
        The task fields (``num_classes``, ``resolution``) are not decisions and may differ."""
        self.validate(spec)
        for field in ("stem", "head", "stem_act", "head_act"):
            if getattr(spec, field) != getattr(self.base, field):
                raise ValueError(f"block space: {field} is fixed at {getattr(self.base, field)!r}, "
                                 f"got {getattr(spec, field)!r}")
        if len(spec.stages) != len(self.base.stages):
            raise ValueError(f"block space: needs {len(self.base.stages)} stages, got {len(spec.stages)}")
        out = []
        for i, (stage, base_stage) in enumerate(zip(spec.stages, self.base.stages), start=1):
            for field in ("stride", "act"):
                if getattr(stage, field) != getattr(base_stage, field):
                    raise ValueError(f"block space: stage{i}.{field} is fixed at {getattr(base_stage, field)!r}, "
                                     f"got {getattr(stage, field)!r}")
            values = {"op": _op_choice(stage), "kernel": stage.kernel, "se": stage.se_ratio, "skip": stage.skip,
                      "filters": stage.out_chs, "layers": stage.repeats}
            for field, choices in self._stage_choices(base_stage).items():
                if values[field] not in choices:
                    raise ValueError(f"block space: stage{i}.{field} = {values[field]!r} is not a choice; "
                                     f"accepted: {choices}")
                out.append(choices.index(values[field]))
        return tuple(out)

    def contains(self, spec: Any) -> bool:
        try:
            self.decisions(spec)
        except (TypeError, ValueError):
            return False
        return True

    def validate(self, spec: Any) -> None:
        if not isinstance(spec, BlockSpec):
            raise TypeError(f"block space: expected a BlockSpec, got {type(spec).__name__}")
        BlockSpec.from_dict(spec.to_dict())  # re-runs every field check, also on hand-built specs

    def cost(self, spec: BlockSpec, **kwargs) -> Cost:
        if kwargs:
            raise TypeError(f"block space: cost takes no options (the spec holds resolution and classes), "
                            f"got {sorted(kwargs)}")
        self.validate(spec)
        return network_cost(spec)

    def to_graph(self, spec: BlockSpec, view: str = "network"):
        self.validate(spec)
        return _to_graph(spec, view)

    def build(self, spec: BlockSpec, *, drop_path: float = 0.0, auxiliary: bool = False):
        """Module with logits out (the spec's own dropout before the classifier); ``drop_path`` is
        the training recipe's; ``auxiliary`` exists for a uniform trainer call and must be off."""
        self.validate(spec)
        if auxiliary:
            raise ValueError("block space: auxiliary=True is not available; block networks have no auxiliary head")
        from search_spaces.blocks.build import build  # torch stays out of the rest of the space
        return build(spec, drop_path=drop_path)

    def retarget(self, spec: BlockSpec, *, num_classes: int | None = None, resolution: int | None = None) -> BlockSpec:
        self.validate(spec)
        changes = {k: v for k, v in (("num_classes", num_classes), ("resolution", resolution)) if v is not None}
        return dataclasses.replace(spec, **changes)

    def scale(self, spec: BlockSpec, *, width: float = 1.0, depth: float = 1.0,
              resolution: float = 1.0) -> BlockSpec:
        self.validate(spec)
        return scale_blocks(spec, width, depth, resolution)

    def from_str(self, text: str) -> BlockSpec:
        return parse_network(text)

    def from_dict(self, data: dict) -> BlockSpec:
        return BlockSpec.from_dict(data)


def parse(text: str) -> BlockSpec | None:
    """A spec from a ``blocks:`` string; None for other spaces' strings."""
    if not isinstance(text, str) or not text.strip().startswith(PREFIX):
        return None
    return parse_network(text)


def parse_dict(data: Any) -> BlockSpec | None:
    """A spec from the JSON form (``"space": "blocks"``, or a ``blocks:`` string); None otherwise."""
    if isinstance(data, str):
        return parse(data)
    if not isinstance(data, dict):
        return None
    if data.get("space") == "blocks" or ("space" not in data and "stem" in data and "stages" in data):
        return BlockSpec.from_dict(data)
    return None


def space_for(spec: Any) -> BlockSpace | None:
    return BlockSpace() if isinstance(spec, BlockSpec) else None
