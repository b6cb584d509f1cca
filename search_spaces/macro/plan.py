"""Analytic layout and cost of a macro-space network, with no module built.

``plan(spec)`` walks the network once and lists every block with its input and output shape, its
registry name (or layer kind) and options, and its parameters and MACs; cost, graph and builder
all read that walk, so they cannot disagree about shapes. Registry entries are priced by
``cells.cost``; the layers with the papers' exact geometry (``conv``, ``maxpool``, ``avgpool``,
``lrn``, ``bn``, and the head's ``fc``) are priced here, with torch's output-size formulas
(floor, or ceil mode for pools), because AlexNet's stride-4 11x11 or GoogLeNet's ceil-mode pools
fall outside the registry's ceil(H / stride) contract.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cells
from cells import counting as C
from cells.checks import ACTIVATION_NAMES
from search_spaces.macro.spec import LAYERS, MacroSpec, Stage

IN_CHANNELS = 3
HEAD_LAYER = LAYERS["fc"]
# Entries whose output is their input plus new channels: a stage of r of them grows by (c - in) / r.
GROWING = ("dense_layer",)
# Entries whose blocks after the first add their ``growth`` option (DPN's dense path, after a first
# block that projects): a stage of r of them ends at c, its first block at c - (r - 1) * growth.
STEPPED = ("dual_path_block",)


@dataclass(frozen=True)
class Part:
    """One block: ``chs``/``h``/``w`` are its output shape."""

    name: str
    op: str
    stage: int
    in_chs: int
    chs: int
    h: int
    w: int
    stride: int
    options: tuple
    cost: C.Cost

    def option_dict(self) -> dict:
        return dict(self.options)


def known_ops() -> tuple[str, ...]:
    return tuple(sorted(k for k in LAYERS if k != "fc")) + tuple(sorted(cells.OPS))


def layer_options(where: str, stage: Stage, defaults: dict[str, Any]) -> dict[str, Any]:
    """The stage's options over ``defaults``; unknown names and wrong types raise, naming them."""
    given = dict(stage.options)
    unknown = sorted(set(given) - set(defaults))
    if unknown:
        raise ValueError(f"{where}: unknown option(s) {', '.join(unknown)} for {stage.op}; "
                         f"accepted: {', '.join(defaults)}")
    out = {**defaults, **given}
    for key, value in given.items():
        default = defaults[key]
        kind = type(default) if default is not None else int
        ok = isinstance(value, kind) and (kind is not int or not isinstance(value, bool))
        if kind is float:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not ok:
            raise ValueError(f"{where}: {stage.op} option {key} must be a {kind.__name__}, got {value!r}")
    if "act" in out and out["act"] not in ACTIVATION_NAMES:
        raise ValueError(f"{where}: act must be one of {', '.join(ACTIVATION_NAMES)}, got {out['act']!r}")
    for key in ("kernel", "groups", "size"):
        if key in out and out[key] < 1:
            raise ValueError(f"{where}: {key} must be >= 1, got {out[key]!r}")
    if out.get("padding") is not None and out["padding"] < 0:
        raise ValueError(f"{where}: padding must be >= 0, got {out['padding']!r}")
    if "drop" in out and not 0 <= out["drop"] < 1:
        raise ValueError(f"{where}: drop must be in [0, 1), got {out['drop']!r}")
    return out


def pool_out(size: int, kernel: int, stride: int, padding: int, ceil: bool) -> int:
    """torch's pooling output size, floor or ceil mode (a last window must start inside the input)."""
    span = size + 2 * padding - kernel
    if span < 0:
        return 0
    if not ceil:
        return span // stride + 1
    out = -(-span // stride) + 1
    return out - 1 if (out - 1) * stride >= size + padding else out


def _layer(where: str, stage: Stage, in_chs: int, stride: int, h: int, w: int) -> tuple[C.Cost, int, int, int, dict]:
    """Cost, output channels and size of one exact-geometry layer, and its resolved options."""
    o = layer_options(where, stage, LAYERS[stage.op])
    if stage.op == "conv":
        if stage.out_chs is None:
            raise ValueError(f"{where}: conv needs c<int> (output channels)")
        k, g = o["kernel"], o["groups"]
        if in_chs % g or stage.out_chs % g:
            raise ValueError(f"{where}: groups={g} must divide in_chs {in_chs} and c {stage.out_chs}")
        pad = k // 2 if o["padding"] is None else o["padding"]
        cost, ho, wo = C.conv(in_chs, stage.out_chs, k, stride, h, w, groups=g, padding=pad, bias=o["bias"])
        return (cost + C.bn(stage.out_chs) if o["bn"] else cost), stage.out_chs, ho, wo, {**o, "padding": pad}
    if stage.out_chs is not None and stage.out_chs != in_chs:
        raise ValueError(f"{where}: {stage.op} keeps the width ({in_chs}); drop c{stage.out_chs}")
    if stage.op in ("maxpool", "avgpool"):
        args = (o["kernel"], stride, o["padding"], o["ceil"])
        return C.ZERO, in_chs, pool_out(h, *args), pool_out(w, *args), o
    if stride != 1:
        raise ValueError(f"{where}: {stage.op} cannot stride; got s{stride}")
    return (C.bn(in_chs) if stage.op == "bn" else C.ZERO), in_chs, h, w, o


def _widths(where: str, stage: Stage, in_chs: int) -> list[int]:
    """Output width of each block of a registry stage."""
    if stage.out_chs is None:
        if not cells.get(stage.op).same_chs:
            raise ValueError(f"{where}: {stage.op} needs c<int> (output channels)")
        return [in_chs] * stage.repeats
    if stage.op in GROWING:
        growth, rest = divmod(stage.out_chs - in_chs, stage.repeats)
        if growth < 1 or rest:
            raise ValueError(f"{where}: c{stage.out_chs} - input {in_chs} must be a positive multiple of "
                             f"r{stage.repeats} (each {stage.op} adds the same growth)")
        return [in_chs + growth * (i + 1) for i in range(stage.repeats)]
    if stage.op in STEPPED and stage.repeats > 1:
        step = stage.option("growth")
        ok = isinstance(step, int) and not isinstance(step, bool) and step >= 1
        first = stage.out_chs - (stage.repeats - 1) * step if ok else 0
        if first < 1:
            raise ValueError(f"{where}: r{stage.repeats} {stage.op} blocks need growth=<int >= 1> with "
                             f"c{stage.out_chs} > (r - 1) x growth (each block after the first adds growth)")
        return [first + step * i for i in range(stage.repeats)]
    return [stage.out_chs] * stage.repeats


def _stage_parts(index: int, stage: Stage, chs: int, h: int, w: int) -> list[Part]:
    where = f"stage {index} ({stage.op})"
    parts = []
    if stage.op == "fc":
        raise ValueError(f"{where}: fc layers belong after pool<n>")
    if stage.op in LAYERS:
        for b in range(1, stage.repeats + 1):
            stride = stage.stride if b == 1 else 1
            cost, out, ho, wo, opts = _layer(where, stage, chs, stride, h, w)
            if ho < 1 or wo < 1:
                raise ValueError(f"{where}: the input is {h}x{w}, too small for this layer; raise res")
            parts.append(Part(f"s{index}.b{b}", stage.op, index, chs, out, ho, wo, stride, tuple(opts.items()), cost))
            chs, h, w = out, ho, wo
        return parts
    if stage.stride not in (1, 2):
        raise ValueError(f"{where}: registry blocks stride 1 or 2, got s{stage.stride}")
    try:
        cells.get(stage.op)
    except KeyError:
        raise ValueError(f"{where}: unknown op {stage.op!r}; accepted: {', '.join(known_ops())}") from None
    for b, out in enumerate(_widths(where, stage, chs), start=1):
        stride = stage.stride if b == 1 else 1
        try:
            cost = cells.cost(stage.op, chs, out, stride, h, w, **dict(stage.options))
        except (TypeError, ValueError) as err:
            raise ValueError(f"{where}: {err}") from None
        h, w = cells.out_size(stage.op, h, w, stride, **dict(stage.options))
        if h < 1 or w < 1:
            raise ValueError(f"{where}: the input is too small for this block; raise res")
        parts.append(Part(f"s{index}.b{b}", stage.op, index, chs, out, h, w, stride, stage.options, cost))
        chs = out
    return parts


def plan(spec: MacroSpec) -> list[Part]:
    """Every block in forward order, then the head layers and the classifier (stage 0)."""
    chs, h, w = IN_CHANNELS, spec.resolution, spec.resolution
    parts: list[Part] = []
    for i, stage in enumerate(spec.stages, start=1):
        block_parts = _stage_parts(i, stage, chs, h, w)
        parts += block_parts
        last = block_parts[-1]
        chs, h, w = last.chs, last.h, last.w
    if spec.classifier == "conv":
        cost, _, _ = C.conv(chs, spec.num_classes, 1, 1, h, w, bias=True)
        return parts + [Part("classifier", "classifier", 0, chs, spec.num_classes, 1, 1, 1, (), cost)]
    features = chs * spec.pool * spec.pool
    for j, stage in enumerate(spec.head, start=1):
        opts = layer_options(f"head {j}", stage, HEAD_LAYER)
        for b in range(1, stage.repeats + 1):
            parts.append(Part(f"fc{j}.b{b}", "fc", 0, features, stage.out_chs, 1, 1, 1, tuple(opts.items()),
                              C.linear(features, stage.out_chs)))
            features = stage.out_chs
    return parts + [Part("classifier", "classifier", 0, features, spec.num_classes, 1, 1, 1, (),
                         C.linear(features, spec.num_classes))]


def network_cost(spec: MacroSpec) -> C.Cost:
    return sum((p.cost for p in plan(spec)), C.ZERO)
