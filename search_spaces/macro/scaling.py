"""Width and depth multipliers on a macro-space network, the EfficientNet way (Tan & Le 2019:
filters rounded to multiples of 8, repeats rounded up), extended to the classic networks' blocks.

A plain stage scales its width; what else scales depends on the block, because several entries
carry widths of their own:

* branch widths (GoogLeNet's and Inception-v3's ``ch3x3``, ``pool_proj``, ...): every width option
  scales with the stage and the 1x1 branch takes the remainder, so the branches still concatenate
  to the stage's width;
* DenseNet's growing layer scales its growth rate, DPN's dual-path stage its residual width,
  growth and bottleneck (the dense part stays ``k`` growths wide);
* grouped blocks (ShuffleNet v1) round to a multiple of 4 x groups as well as of 8;
* stages whose block cannot repeat at one width (a reduction whose max-pool branch passes its
  input through, a stem block) keep their repeats, as do the exact-geometry layers.
Everything here is pure: a candidate stage is checked with the registry's analytic cost.
"""
from __future__ import annotations

import dataclasses
import math

import cells
from search_spaces.macro.plan import GROWING, STEPPED
from search_spaces.macro.spec import LAYERS, MacroSpec, Stage, option_defaults
from search_spaces.scaling import round_filters, round_repeats

# Option names that are channel widths, and the one that takes the remainder of the stage's width.
BRANCH_WIDTHS = frozenset({"ch1x1", "ch3x3red", "ch3x3", "ch5x5red", "ch5x5", "ch7x7red", "ch7x7", "dblred",
                           "dbl", "pool_proj", "squeeze", "expand1x1"})
REMAINDER = "ch1x1"
DUAL_PATH_WIDTHS = ("residual_chs", "growth", "bottleneck")
# Blocks whose max-pool branch passes the input through: (width options, those concatenated to it).
PASS_THROUGH = {"inception_v4_reduce_a": (("k", "l", "m", "n"), ("m", "n"))}
CHECK_SIZE = 64  # a side large enough for every unpadded reduction when checking a candidate stage


def _valid(op: str, in_chs: int, out_chs: int, stride: int, options: dict) -> bool:
    try:
        cells.cost(op, in_chs, out_chs, stride, CHECK_SIZE, **options)
    except (TypeError, ValueError):
        return False
    return True


def _divisor(stage: Stage) -> int:
    groups = stage.option("groups")
    if stage.op == "shuffle_v1" and isinstance(groups, int) and groups > 1:
        return math.lcm(8, 4 * groups)
    return 8


def _repeats(stage: Stage, out: int | None, depth: float) -> int:
    """Repeats under ``depth``; a block that cannot map its width to itself keeps its count."""
    if stage.op in LAYERS or depth == 1:
        return stage.repeats
    repeats = round_repeats(stage.repeats, depth)
    # ``out`` is None for a growing stage, whose blocks add channels by design
    if repeats > stage.repeats and out is not None and not _valid(stage.op, out, out, 1, dict(stage.options)):
        return stage.repeats
    return repeats


def _width_options(stage: Stage, width: float) -> dict:
    options = dict(stage.options)
    for key in BRANCH_WIDTHS & set(options):
        if isinstance(options[key], int) and not isinstance(options[key], bool):
            options[key] = max(1, round(options[key] * width))
    options.pop(REMAINDER, None)
    return options


def scale_stage(stage: Stage, in_chs: int, base_in: int, width: float, depth: float) -> Stage:
    """``stage`` (whose base network fed it ``base_in`` channels) under the multipliers, fed ``in_chs``."""
    if stage.out_chs is None:
        return dataclasses.replace(stage, repeats=_repeats(stage, in_chs, depth))
    if stage.op in GROWING:
        repeats = _repeats(stage, None, depth)
        growth = (stage.out_chs - base_in) // stage.repeats
        return dataclasses.replace(stage, repeats=repeats, out_chs=in_chs + repeats * max(1, round(growth * width)))
    if stage.op in STEPPED:
        return _dual_path(stage, width, depth)
    if stage.op in PASS_THROUGH and width != 1 and PASS_THROUGH[stage.op][0][0] in dict(stage.options):
        return _pass_through(stage, in_chs, width, depth)
    out = round_filters(stage.out_chs, width, _divisor(stage)) if width != 1 else stage.out_chs
    scaled = dataclasses.replace(stage, out_chs=out)
    if width != 1 and BRANCH_WIDTHS & {k for k, _ in stage.options}:
        scaled = dataclasses.replace(scaled, options=tuple(sorted(_width_options(stage, width).items())))
    return dataclasses.replace(scaled, repeats=_repeats(scaled, out, depth))


def _pass_through(stage: Stage, in_chs: int, width: float, depth: float) -> Stage:
    """Inception-v4 Reduction-A with explicit k, l, m, n: they scale, the output is the input plus m + n."""
    names, concatenated = PASS_THROUGH[stage.op]
    options = dict(stage.options)
    for key in names:
        options[key] = max(1, round(options[key] * width))
    out = in_chs + sum(options[key] for key in concatenated)
    return dataclasses.replace(stage, out_chs=out, options=tuple(sorted(options.items())))


def _dual_path(stage: Stage, width: float, depth: float) -> Stage:
    """DPN: the residual path, growth and bottleneck scale; the stage ends ``k`` growths past the
    residual width, ``k`` growing by one per added block."""
    options = dict(stage.options)
    residual, growth = options.get("residual_chs"), options.get("growth")
    if not (isinstance(residual, int) and isinstance(growth, int)):
        raise ValueError(f"{stage.op}: scaling needs residual_chs and growth options, got {options}")
    k = (stage.out_chs - residual) // growth
    groups = options.get("groups", option_defaults(stage.op).get("groups", 1))
    divisors = {"residual_chs": 8, "growth": 4, "bottleneck": math.lcm(8, groups if isinstance(groups, int) else 1)}
    for key in DUAL_PATH_WIDTHS:
        if isinstance(options.get(key), int):
            options[key] = round_filters(options[key], width, divisors[key])
    repeats = round_repeats(stage.repeats, depth)
    out = options["residual_chs"] + (k + repeats - stage.repeats) * options["growth"]
    return dataclasses.replace(stage, repeats=repeats, out_chs=out, options=tuple(sorted(options.items())))


def scale_network(spec: MacroSpec, width: float, depth: float, resolution: float) -> MacroSpec:
    chs, base_chs, stages = 3, 3, []
    for stage in spec.stages:
        scaled = scale_stage(stage, chs, base_chs, width, depth)
        stages.append(scaled)
        base_chs, chs = stage.out_chs or base_chs, scaled.out_chs or chs
    head = tuple(dataclasses.replace(s, out_chs=round_filters(s.out_chs, width)) for s in spec.head)
    return dataclasses.replace(spec, stages=tuple(stages), head=head,
                               resolution=max(1, int(round(spec.resolution * resolution))))
