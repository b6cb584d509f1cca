"""Block-space specs: a network as a stem, a list of stages and a head, written as readable block
strings in the spirit of the MnasNet TPU reference and timm (Tan et al. 2019, "MnasNet:
Platform-Aware Neural Architecture Search for Mobile"; Tan & Le 2019, "EfficientNet").

One stage is a block string such as ``ir_r2_k3_s2_e6_c24_se0.25``: an op type followed by
``_``-separated tokens, in any order on input and in one canonical order on output:

    op      ``cn`` regular conv, ``ds`` depthwise-separable conv, ``ir`` MBConv (inverted residual)
    r<int>  repeats (blocks in the stage; only the first one strides)
    k<int>  kernel size (odd, 1..9)
    s<int>  stride of the first block (1 or 2)
    e<int>  expansion ratio, ``ir`` only (``e1`` is also accepted on ``cn``/``ds``, as timm writes it)
    c<int>  output channels
    se<f>   squeeze-and-excitation ratio, relative to the block's input channels (default 0)
    noskip  no identity skip (default: skip whenever the stride is 1 and channels match)
    act     ``relu`` (default), ``silu`` (``swish`` is read as ``silu``) or ``hswish``

A whole network is ``blocks:`` followed by comma-separated parts:
``blocks:stem_c32,ds_r1_k3_s1_c16,...,head_c1280,classes1000,res224`` (``stem_c32_silu`` /
``head_c1280_silu`` carry their activation the same way). ``classes``/``res`` default to 1000/224
on input and are always written on output, so ``from_str(to_str(s)) == s`` holds for every spec.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

from search_spaces.base import check_choice

PREFIX = "blocks:"
OPS = ("cn", "ds", "ir")
OP_NAMES = {"cn": "regular conv", "ds": "depthwise-separable conv", "ir": "MBConv (inverted residual)"}
ACTS = ("relu", "silu", "hswish")
ACT_ALIASES = {"swish": "silu"}
KERNELS = (1, 3, 5, 7, 9)
STRIDES = (1, 2)
_INT_TOKENS = {"r": "repeats", "k": "kernel", "s": "stride", "e": "expand", "c": "out_chs"}
TOKEN_HELP = ("accepted tokens: r<int> repeats, k<1|3|5|7|9> kernel, s<1|2> stride, e<int> expansion "
              "(ir only), c<int> channels, se<float in [0, 1]> SE ratio, noskip, and an activation "
              f"({', '.join(ACTS)}, swish)")


def _check_int(owner: str, field: str, value: Any, *, low: int = 1, allowed: tuple | None = None) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"{owner}: {field} must be an int, got {value!r}")
    if allowed is not None and value not in allowed:
        raise ValueError(f"{owner}: {field} must be one of {allowed}, got {value!r}")
    if value < low:
        raise ValueError(f"{owner}: {field} must be >= {low}, got {value!r}")


def _check_act(owner: str, field: str, value: Any) -> None:
    check_choice(f"{owner}: {field}", value, ACTS)


@dataclass(frozen=True)
class StageSpec:
    """One stage: ``repeats`` blocks of one type; the first block strides and changes channels."""

    op: str
    repeats: int
    kernel: int
    stride: int
    out_chs: int
    expand: int = 1
    se_ratio: float = 0.0
    skip: bool = True
    act: str = "relu"

    def __post_init__(self) -> None:
        owner = "stage"
        if self.op not in OPS:
            raise ValueError(f"{owner}: op must be one of {OPS} ({', '.join(OP_NAMES.values())}), got {self.op!r}")
        _check_int(owner, "repeats", self.repeats)
        _check_int(owner, "kernel", self.kernel, allowed=KERNELS)
        _check_int(owner, "stride", self.stride, allowed=STRIDES)
        _check_int(owner, "out_chs", self.out_chs)
        _check_int(owner, "expand", self.expand)
        if self.op == "ir" and self.expand == 1:
            # MBConv without expansion is exactly the depthwise-separable conv (same layers, same
            # weights): one network, one spec, so the store and the strategies see it once.
            object.__setattr__(self, "op", "ds")
        if self.op != "ir" and self.expand != 1:
            raise ValueError(f"{owner}: expand applies to 'ir' stages only; {self.op!r} needs expand=1, "
                             f"got {self.expand!r}")
        se = self.se_ratio
        if isinstance(se, bool) or not isinstance(se, (int, float)) or not math.isfinite(se) or not 0 <= se <= 1:
            raise ValueError(f"{owner}: se_ratio must be a number in [0, 1], got {se!r}")
        object.__setattr__(self, "se_ratio", float(se))  # 0 and 0.0 must encode alike
        if not isinstance(self.skip, bool):
            raise ValueError(f"{owner}: skip must be true or false, got {self.skip!r}")
        _check_act(owner, "act", self.act)

    def to_str(self) -> str:
        parts = [self.op, f"r{self.repeats}", f"k{self.kernel}", f"s{self.stride}"]
        if self.op == "ir":
            parts.append(f"e{self.expand}")
        parts.append(f"c{self.out_chs}")
        if self.se_ratio:
            parts.append(f"se{self.se_ratio!r}")
        if not self.skip:
            parts.append("noskip")
        if self.act != "relu":
            parts.append(self.act)
        return "_".join(parts)

    @classmethod
    def from_str(cls, text: str) -> "StageSpec":
        return parse_stage(text)

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: Any, where: str = "stage") -> "StageSpec":
        if isinstance(data, str):
            return parse_stage(data, where)
        if not isinstance(data, dict):
            raise ValueError(f"{where}: expected a block string or an object, got {type(data).__name__}")
        return _from_mapping(cls, data, where, required=("op", "repeats", "kernel", "stride", "out_chs"))


def parse_stage(text: str, where: str = "stage") -> StageSpec:
    """Decode one block string; errors name the offending token and list the accepted ones."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"{where}: expected a block string like 'ir_r2_k3_s2_e6_c24', got {text!r}")
    op, *tokens = text.strip().split("_")
    if op not in OPS:
        raise ValueError(f"{where} {text!r}: unknown op {op!r}; accepted: "
                         + ", ".join(f"{k} ({v})" for k, v in OP_NAMES.items()))
    values: dict[str, Any] = {"op": op}
    source: dict[str, str] = {}  # field -> the token that set it, for error messages
    for tok in tokens:
        field, value = _parse_token(tok, f"{where} {text!r}")
        if field in values:
            raise ValueError(f"{where} {text!r}: token {tok!r} sets {field} a second time")
        values[field], source[field] = value, tok
    missing = [f"{k}<int> ({v})" for k, v in _INT_TOKENS.items()
               if v not in values and (v != "expand" or op == "ir")]
    if missing:
        raise ValueError(f"{where} {text!r}: missing {', '.join(missing)}")
    try:
        return StageSpec(**values)
    except ValueError as err:
        reason = str(err).removeprefix("stage: ")
        tok = source.get(reason.split(" ", 1)[0])
        raise ValueError(f"{where} {text!r}: " + (f"token {tok!r}: " if tok else "") + reason) from None


def _parse_token(tok: str, where: str) -> tuple[str, Any]:
    if tok in ACTS or tok in ACT_ALIASES:
        return "act", ACT_ALIASES.get(tok, tok)
    if tok in ("noskip", "skip"):
        return "skip", tok == "skip"
    if tok.startswith("se"):
        try:
            ratio = float(tok[2:])
        except ValueError:
            raise ValueError(f"{where}: token {tok!r}: se needs a number, e.g. se0.25; {TOKEN_HELP}") from None
        return "se_ratio", ratio
    key, digits = tok[:1], tok[1:]
    if key in _INT_TOKENS and digits.isdigit():
        return _INT_TOKENS[key], int(digits)
    raise ValueError(f"{where}: unknown token {tok!r}; {TOKEN_HELP}")


@dataclass(frozen=True)
class BlockSpec:
    """A whole network: conv stem (3x3, stride 2), stages, 1x1 conv head, pooling, classifier."""

    stem: int
    stages: tuple[StageSpec, ...]
    head: int
    num_classes: int = 1000
    resolution: int = 224
    stem_act: str = "relu"
    head_act: str = "relu"
    dropout: float = 0.2  # before the classifier: part of the published network (B7 uses 0.5)

    def __post_init__(self) -> None:
        owner = "blocks spec"
        if isinstance(self.stages, list):
            object.__setattr__(self, "stages", tuple(self.stages))
        if not isinstance(self.stages, tuple) or not self.stages:
            raise ValueError(f"{owner}: stages must be a non-empty sequence of StageSpec, got {self.stages!r}")
        for i, stage in enumerate(self.stages):
            if not isinstance(stage, StageSpec):
                raise ValueError(f"{owner}: stages[{i}] must be a StageSpec, got {type(stage).__name__}")
        for field in ("stem", "head", "num_classes", "resolution"):
            _check_int(owner, field, getattr(self, field))
        _check_act(owner, "stem_act", self.stem_act)
        _check_act(owner, "head_act", self.head_act)
        p = self.dropout
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p < 1:
            raise ValueError(f"{owner}: dropout must be a number in [0, 1), got {p!r}")
        object.__setattr__(self, "dropout", float(p))

    def to_str(self) -> str:
        parts = [_edge_token("stem", self.stem, self.stem_act)]
        parts += [stage.to_str() for stage in self.stages]
        parts.append(_edge_token("head", self.head, self.head_act))
        parts += [f"classes{self.num_classes}", f"res{self.resolution}"]
        if self.dropout != 0.2:
            parts.append(f"drop{self.dropout!r}")
        return PREFIX + ",".join(parts)

    @classmethod
    def from_str(cls, text: str) -> "BlockSpec":
        return parse_network(text)

    def to_dict(self) -> dict:
        return {"space": "blocks", "stem": self.stem, "stem_act": self.stem_act,
                "stages": [s.to_dict() for s in self.stages], "head": self.head, "head_act": self.head_act,
                "num_classes": self.num_classes, "resolution": self.resolution, "dropout": self.dropout}

    @classmethod
    def from_dict(cls, data: Any) -> "BlockSpec":
        if not isinstance(data, dict):
            raise ValueError(f"blocks spec: expected a JSON object, got {type(data).__name__}")
        data = dict(data)
        space = data.pop("space", "blocks")
        if space != "blocks":
            raise ValueError(f"blocks spec: 'space' must be 'blocks', got {space!r}")
        stages = data.get("stages")
        if not isinstance(stages, (list, tuple)):
            raise ValueError(f"blocks spec: 'stages' must be a list of stage objects or block strings, got {stages!r}")
        data["stages"] = tuple(StageSpec.from_dict(s, f"stages[{i}]") for i, s in enumerate(stages))
        return _from_mapping(cls, data, "blocks spec", required=("stem", "stages", "head"))


def _from_mapping(cls, data: dict, where: str, required: tuple[str, ...]):
    names = [f.name for f in fields(cls)]
    unknown = sorted(set(data) - set(names))
    if unknown:
        raise ValueError(f"{where}: unknown field(s) {unknown}; accepted: {names}")
    missing = [name for name in required if name not in data]
    if missing:
        raise ValueError(f"{where}: missing field(s) {missing}")
    try:
        return cls(**data)
    except ValueError as err:
        raise ValueError(f"{where}: {str(err).split(': ', 1)[-1]}") from None


def _edge_token(name: str, chs: int, act: str) -> str:
    return f"{name}_c{chs}" + ("" if act == "relu" else f"_{act}")


def _parse_edge(name: str, text: str) -> tuple[int, str]:
    """``stem_c32`` / ``head_c1280_silu`` -> (channels, activation)."""
    head, *tokens = text.split("_")
    if head != name:
        raise ValueError(f"blocks spec: expected a {name} part like '{name}_c32' here, got {text!r}")
    chs, act = None, "relu"
    for tok in tokens:
        if tok.startswith("c") and tok[1:].isdigit() and chs is None:
            chs = int(tok[1:])
        elif (tok in ACTS or tok in ACT_ALIASES) and act == "relu":
            act = ACT_ALIASES.get(tok, tok)
        else:
            raise ValueError(f"blocks spec {name} {text!r}: unexpected token {tok!r}; accepted: c<int> "
                             f"channels and one activation ({', '.join(ACTS)}, swish)")
    if chs is None:
        raise ValueError(f"blocks spec {name} {text!r}: missing c<int> (channels)")
    return chs, act


def parse_network(text: str) -> BlockSpec:
    """Decode a ``blocks:`` string; errors name the part and the offending token."""
    if not isinstance(text, str) or not text.strip().startswith(PREFIX):
        raise ValueError(f"blocks spec must start with {PREFIX!r}, got {text!r}")
    parts = [p.strip() for p in text.strip()[len(PREFIX):].split(",")]
    tail: dict[str, float] = {}
    while parts and parts[-1].startswith(("classes", "res", "drop")):
        tok = parts.pop()
        key = next(k for k in ("classes", "res", "drop") if tok.startswith(k))
        tail[key] = _tail_value(tok, key, tail)
    if len(parts) < 3:
        raise ValueError("blocks spec: needs a stem, at least one stage and a head, e.g. "
                         f"'{PREFIX}stem_c32,ir_r1_k3_s1_e1_c16,head_c1280'; got {text!r}")
    stem, stem_act = _parse_edge("stem", parts[0])
    head, head_act = _parse_edge("head", parts[-1])
    stages = tuple(parse_stage(p, f"stage {i + 1}") for i, p in enumerate(parts[1:-1]))
    try:
        return BlockSpec(stem, stages, head, tail.get("classes", 1000), tail.get("res", 224), stem_act, head_act,
                         tail.get("drop", 0.2))
    except ValueError as err:
        raise ValueError(f"{err} (in {text!r})") from None


def _tail_value(tok: str, key: str, seen: dict) -> float:
    """``classes<int>``, ``res<int>``, ``drop<float>``: each once, at the end of the string."""
    raw = tok[len(key):]
    ok = raw.isdigit() if key != "drop" else raw.replace(".", "", 1).isdigit()
    if not ok or key in seen:
        raise ValueError(f"blocks spec: bad part {tok!r}; accepted at the end: classes<int>, res<int>, "
                         "drop<float>, once each")
    return float(raw) if key == "drop" else int(raw)
