"""The macro (stage-wise) search space around a base network: the base's skeleton (stem, strides,
exact-geometry layers, head) stays fixed, and every stage made of a searchable block chooses

    kind     the block, among MBConv (Sandler et al. 2018), the MobileNetV3 block (Howard et al.
             2019), the ShuffleNet V2 unit (Ma et al. 2018), ResNet's basic block and bottleneck
             (He et al. 2016); the base's own kind is always a choice
    kernel   the depthwise kernel (MBConv, MBConv-v3, ShuffleNet V2)
    expand   the expansion ratio (MBConv, MBConv-v3; a base v3 layer's listed width ``mid<n>``)
    se       squeeze-and-excitation on or off (0.25 of the input on MBConv, the hard-sigmoid gate
             on v3, 1/16 of the output on residual blocks as SE-ResNet, Hu et al. 2018)
    card     bottleneck cardinality x width per group (``1x64d`` ResNet, ``32x4d`` ResNeXt, Xie et al.)
    width    the base's channels x multiplier, rounded to multiples of 8
    repeats  the base's repeats + delta (never below 1)

as MnasNet's factorized hierarchical space does per stage (Tan et al. 2019). Choices a kind
ignores (a bottleneck's kernel) decode to their first value, so ``freeze(decisions(s)) == s``.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Sequence

from cells.counting import Cost
from search_spaces.base import Dimension, SearchSpace
from search_spaces.macro.plan import network_cost, plan
from search_spaces.macro.scaling import scale_network
from search_spaces.macro.spec import PREFIX, MacroSpec, Stage, parse_network
from search_spaces.scaling import check_multipliers, round_filters

KINDS = ("mbconv", "mbconv_v3", "shuffle_v2", "basic_block", "bottleneck")
FIELDS = ("kind", "kernel", "expand", "se", "card", "width", "repeats")
USES = {"kernel": ("mbconv", "mbconv_v3", "shuffle_v2"), "expand": ("mbconv", "mbconv_v3"),
        "se": ("mbconv", "mbconv_v3", "basic_block", "bottleneck"), "card": ("bottleneck",)}
ACTS = {"mbconv": ("relu", "relu6", "silu", "swish", "hswish"), "mbconv_v3": ("relu", "hswish")}


def _named(base: Any) -> MacroSpec:
    if isinstance(base, MacroSpec):
        return base
    from search_spaces.macro.archs_all import NAMED
    if isinstance(base, str) and base.strip().lower() in NAMED:
        return NAMED[base.strip().lower()]
    if isinstance(base, str) and base.strip().startswith(PREFIX):
        return parse_network(base)
    raise ValueError(f"macro space: base must be a macro spec, a 'macro:' string or one of "
                     f"{', '.join(sorted(NAMED))}; got {base!r}")


def _card(text: str) -> tuple[int, int]:
    groups, _, width = str(text).partition("x")
    if not (groups.isdigit() and width.endswith("d") and width[:-1].isdigit()):
        raise ValueError(f"macro space: cardinality must look like '32x4d' (groups x width per group), got {text!r}")
    return int(groups), int(width[:-1])


def generic(stage: Stage) -> dict[str, Any]:
    """A searchable stage's values per field (ignored fields absent)."""
    o, kind = dict(stage.options), stage.op
    out: dict[str, Any] = {"kind": kind}
    if kind in USES["kernel"]:
        out["kernel"] = o.get("kernel", 3)
    if kind == "mbconv":
        out["expand"], out["se"] = o.get("expand", 1), o.get("se_ratio", 0) > 0
    elif kind == "mbconv_v3":
        out["expand"] = f"mid{o['mid']}" if "mid" in o else o.get("expand", 4.0)
        out["se"] = o.get("se", False)
    elif kind in ("basic_block", "bottleneck"):
        out["se"] = o.get("se_ratio", 0) > 0
    if kind == "bottleneck":
        out["card"] = f"{o.get('groups', 1)}x{o.get('base_width', 64)}d"
    return out


def stage_options(kind: str, pick: dict[str, Any], base: dict[str, Any], in_chs: int) -> dict[str, Any]:
    """Registry options of a ``kind`` block for the picked values; the base stage's activation and
    shortcut carry over where the kind accepts them."""
    opts: dict[str, Any] = {}
    if kind in USES["kernel"]:
        opts["kernel"] = pick["kernel"]
    expand = pick["expand"]
    mid = int(expand[3:]) if isinstance(expand, str) else None
    if kind == "mbconv":
        opts.update(expand=max(1, round(mid / in_chs)) if mid else int(expand), se_ratio=0.25 if pick["se"] else 0.0)
    elif kind == "mbconv_v3":
        opts.update({"mid": mid} if mid else {"expand": float(expand)})
        opts["se"] = bool(pick["se"])
    elif kind in ("basic_block", "bottleneck"):
        opts["se_ratio"] = 0.0625 if pick["se"] else 0.0
    if kind == "bottleneck":
        opts["groups"], opts["base_width"] = _card(pick["card"])
    if base.get("act") in ACTS.get(kind, ()):
        opts["act"] = base["act"]
    if kind == "basic_block" and "shortcut" in base:  # the CIFAR ResNets' option A
        opts["shortcut"] = base["shortcut"]
    return opts


def scaled_width(chs: int, multiplier: float) -> int:
    """The base's width at 1.0 (ShuffleNet's 116 stays 116), else rounded to a multiple of 8."""
    return chs if multiplier == 1 else max(8, round_filters(chs, multiplier))


class MacroSpace(SearchSpace):
    name = "macro"

    def __init__(self, base: Any = "mobilenet_v2", *, kinds: Sequence[str] = KINDS,
                 kernels: Sequence[int] = (3, 5, 7), expands: Sequence[Any] = (1, 3, 4, 6),
                 se: Sequence[bool] = (False, True), cards: Sequence[str] = ("1x64d", "32x4d"),
                 widths: Sequence[float] = (0.75, 1.0, 1.25), repeat_deltas: Sequence[int] = (-1, 0, 1)):
        self.base = _named(base)
        self.validate(self.base)
        for kind in kinds:
            if kind not in KINDS:
                raise ValueError(f"macro space: kinds must be among {', '.join(KINDS)}, got {kind!r}")
        for c in cards:
            _card(c)
        for name, values in (("kinds", kinds), ("kernels", kernels), ("expands", expands), ("se", se),
                             ("cards", cards), ("widths", widths), ("repeat_deltas", repeat_deltas)):
            if len(values) == 0 or len(set(values)) != len(values):
                raise ValueError(f"macro space: {name} must be non-empty and without repeats, got {values!r}")
        for w in widths:
            if isinstance(w, bool) or not isinstance(w, (int, float)) or not w > 0:
                raise ValueError(f"macro space: widths must be positive numbers, got {w!r}")
        self.options = {"kind": tuple(kinds), "kernel": tuple(kernels), "expand": tuple(expands),
                        "se": tuple(bool(s) for s in se), "card": tuple(cards), "width": tuple(widths),
                        "repeats": tuple(repeat_deltas)}
        parts = plan(self.base)
        self.searchable = [i for i, s in enumerate(self.base.stages) if s.op in KINDS]
        self.in_chs = {i: next(p.in_chs for p in parts if p.stage == i + 1) for i in self.searchable}
        self._dims = tuple(Dimension(f"stage{i + 1}.{f}", c) for i in self.searchable
                           for f, c in self._choices(self.base.stages[i]).items())
        self.freeze([0] * len(self._dims))  # every choice must make a valid network: fail here
        self.freeze([len(d.choices) - 1 for d in self._dims])

    def _choices(self, stage: Stage) -> dict[str, tuple]:
        own = generic(stage)
        out = {}
        for field_ in FIELDS:
            choices = self.options[field_]
            if field_ in own and own[field_] not in choices:
                choices = choices + (own[field_],)
            out[field_] = choices
        return out

    def dimensions(self) -> tuple[Dimension, ...]:
        return self._dims

    def _stage(self, i: int, pick: dict[str, Any]) -> Stage:
        base = self.base.stages[i]
        out = scaled_width(base.out_chs, pick["width"])
        opts = stage_options(pick["kind"], pick, dict(base.options), self.in_chs[i])
        return Stage(pick["kind"], max(1, base.repeats + pick["repeats"]), base.stride, out, tuple(opts.items()))

    def freeze(self, decisions: Sequence[int]) -> MacroSpec:
        idx = iter(self.check_decisions(decisions))
        stages = list(self.base.stages)
        for i in self.searchable:
            stages[i] = self._stage(i, {f: c[next(idx)] for f, c in self._choices(self.base.stages[i]).items()})
        return dataclasses.replace(self.base, stages=tuple(stages))

    def decisions(self, spec: MacroSpec) -> tuple[int, ...]:
        """Indices reproducing ``spec``; ValueError naming the first field outside the space.
        ``num_classes`` and ``resolution`` are the task's, not decisions, and may differ."""
        self.validate(spec)
        task = dict(num_classes=self.base.num_classes, resolution=self.base.resolution)
        if len(spec.stages) != len(self.base.stages):
            raise ValueError(f"macro space: needs {len(self.base.stages)} stages, got {len(spec.stages)}")
        fixed = [i for i in range(len(spec.stages)) if i not in self.searchable]
        for i in fixed:
            if spec.stages[i] != self.base.stages[i]:
                raise ValueError(f"macro space: stage{i + 1} is fixed at {self.base.stages[i].to_str()!r}, "
                                 f"got {spec.stages[i].to_str()!r}")
        if dataclasses.replace(spec, stages=self.base.stages, **task) != self.base:
            raise ValueError("macro space: the head, pool, classifier and dropout are fixed at the base's "
                             f"({self.base.to_str()})")
        out: list[int] = []
        for i in self.searchable:
            out += self._stage_decisions(i, spec.stages[i])
        return tuple(out)

    def _stage_decisions(self, i: int, stage: Stage) -> list[int]:
        base, choices = self.base.stages[i], self._choices(self.base.stages[i])
        values = generic(stage) if stage.op in KINDS else {"kind": stage.op}
        values["repeats"] = stage.repeats - base.repeats
        widths = [w for w in choices["width"] if scaled_width(base.out_chs, w) == stage.out_chs]
        values["width"] = widths[0] if widths else f"c{stage.out_chs}"
        idx: list[int | None] = []
        for field_, options in choices.items():
            if field_ not in values and field_ in USES and stage.op not in USES[field_]:
                idx.append(0)
            else:
                idx.append(options.index(values[field_]) if values.get(field_) in options else None)
        for k, (field_, options) in enumerate(choices.items()):
            if idx[k] is None:  # e.g. an MBConv expansion derived from a v3 layer's listed width
                idx[k] = next((j for j in range(len(options)) if self._stage(i, {
                    f: c[j if n == k else (idx[n] or 0)] for n, (f, c) in enumerate(choices.items())}) == stage), None)
            if idx[k] is None:
                raise ValueError(f"macro space: stage{i + 1}.{field_} = {values.get(field_)!r} is not a choice; "
                                 f"accepted: {options}")
        rebuilt = self._stage(i, {f: c[j] for (f, c), j in zip(choices.items(), idx)})
        if rebuilt != stage:
            raise ValueError(f"macro space: stage{i + 1} {stage.to_str()!r} is not reachable from the base "
                             f"stage {base.to_str()!r} (the nearest is {rebuilt.to_str()!r})")
        return idx

    def validate(self, spec: Any) -> None:
        if not isinstance(spec, MacroSpec):
            raise TypeError(f"macro space: expected a MacroSpec, got {type(spec).__name__}")
        plan(spec)  # every op, option and shape is checked here, naming the stage

    def cost(self, spec: MacroSpec, **kwargs) -> Cost:
        if kwargs:
            raise TypeError(f"macro space: cost takes no options, got {sorted(kwargs)}")
        self.validate(spec)
        return network_cost(spec)

    def to_graph(self, spec: MacroSpec, view: str = "network"):
        from search_spaces.macro.graph import to_graph
        self.validate(spec)
        return to_graph(spec, view)

    def build(self, spec: MacroSpec, *, drop_path: float = 0.0, auxiliary: bool = False):
        """The module (logits out). ``drop_path`` and ``auxiliary`` exist for a uniform trainer call;
        the classic networks have neither, so they must be off."""
        self.validate(spec)
        if auxiliary or drop_path:
            raise ValueError("macro space: drop_path and auxiliary heads are not available for macro networks; "
                             "accepted: drop_path=0, auxiliary=False")
        from search_spaces.macro.build import build
        return build(spec)

    def retarget(self, spec: MacroSpec, *, num_classes: int | None = None,
                 resolution: int | None = None) -> MacroSpec:
        self.validate(spec)
        changes = {k: v for k, v in (("num_classes", num_classes), ("resolution", resolution)) if v is not None}
        return dataclasses.replace(spec, **changes)

    def scale(self, spec: MacroSpec, *, width: float = 1.0, depth: float = 1.0,
              resolution: float = 1.0) -> MacroSpec:
        """Widths through ``round_filters``, registry stages' repeats through ``round_repeats``, the
        input side by ``resolution``; the blocks' own width options follow (``macro.scaling``)."""
        self.validate(spec)
        check_multipliers(width, depth, resolution)
        return scale_network(spec, width, depth, resolution)

    def from_str(self, text: str) -> MacroSpec:
        return parse_network(text)

    def from_dict(self, data: dict) -> MacroSpec:
        return MacroSpec.from_dict(data)


def parse(text: str) -> MacroSpec | None:
    """A spec from a ``macro:`` string (checked through its plan); None for other spaces' strings."""
    if not isinstance(text, str) or not text.strip().startswith(PREFIX):
        return None
    spec = parse_network(text)
    plan(spec)
    return spec


def parse_dict(data: Any) -> MacroSpec | None:
    if isinstance(data, str):
        return parse(data)
    if not isinstance(data, dict) or data.get("space") != "macro":
        return None
    spec = MacroSpec.from_dict(data)
    plan(spec)
    return spec


def space_for(spec: Any) -> MacroSpace | None:
    """The space around ``spec`` itself (its own stages as the base)."""
    return MacroSpace(spec) if isinstance(spec, MacroSpec) else None
