"""Macro-space specs: a whole network as a readable list of stages, the way the classic papers'
tables write it (LeCun et al. 1998; Krizhevsky et al. 2012; Simonyan & Zisserman 2015, Table 1;
He et al. 2016, Table 1; Sandler et al. 2018, Table 2; Howard et al. 2019, Tables 1-2).

A stage is an op followed by space-separated tokens; stages are separated by commas::

    macro:conv r1 s2 c64 kernel=7, maxpool s2 kernel=3 padding=1, bottleneck r3 c256,
          bottleneck r4 s2 c512, bottleneck r6 s2 c1024, bottleneck r3 s2 c2048, pool1,
          classes1000 res224

    op       a ``cells`` registry entry (``bottleneck``, ``mbconv``, ``dense_layer``, ``fire``,
             ``shuffle_v2``, ...) or a layer with the papers' exact geometry: ``conv`` (any kernel,
             stride, padding; bias / BN / activation as options), ``maxpool`` / ``avgpool``,
             ``lrn`` (local response normalisation), ``bn`` (batch norm + activation)
    r<int>   repeats (default 1); only the first block strides and changes width
    s<int>   stride of the first block (default 1; registry entries accept 1 or 2)
    c<int>   output channels (absent on pools, LRN and BN, which keep the width)
    key=val  the op's options (``expand=6``, ``kernel=5``, ``se_ratio=0.25``, ``bias=true``)

``pool<n>`` ends the feature stages: adaptive average pooling to n x n (1 = global; VGG 7, AlexNet 6)
and flatten. Hidden fully connected layers may follow (``fc c4096 drop=0.5``: dropout, linear,
activation), then the tail ``classes<n> res<n>`` with ``drop<p>`` (dropout before the classifier)
and ``classifier=conv`` (SqueezeNet's 1x1 conv classifier, applied before the pool). The encoder
writes defaults out of the string, options sorted, so ``from_str(to_str(s)) == s``.
"""
from __future__ import annotations

import inspect
import math
import re
from dataclasses import dataclass, field
from typing import Any, Mapping, Union

PREFIX = "macro:"
CLASSIFIERS = ("fc", "conv")
Value = Union[bool, int, float, str]
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_WORD = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
_INT = re.compile(r"^-?\d+$")


def _check_int(owner: str, name: str, value: Any, low: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"{owner}: {name} must be an int >= {low}, got {value!r}")


def _check_value(owner: str, key: str, value: Any) -> None:
    if not isinstance(key, str) or not _NAME.match(key):
        raise ValueError(f"{owner}: option name must be an identifier, got {key!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{owner}: option {key} must be finite, got {value!r}")
    if isinstance(value, str) and not _WORD.match(value):
        raise ValueError(f"{owner}: option {key}={value!r}: text values must be a single word")
    if not isinstance(value, (bool, int, float, str)):
        raise ValueError(f"{owner}: option {key} must be a bool, int, float or word, got {type(value).__name__}")


def encode_value(value: Value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, float) else str(value)


def decode_value(text: str) -> Value:
    if text in ("true", "false"):
        return text == "true"
    if _INT.match(text):
        return int(text)
    try:
        return float(text)
    except ValueError:
        return text


# The exact-geometry layers the plan prices itself, with their options' defaults (padding None:
# kernel // 2); every other op is a ``cells`` registry entry.
LAYERS: dict[str, dict[str, Any]] = {
    "conv": {"kernel": 3, "padding": None, "bias": False, "bn": True, "act": "relu", "groups": 1, "eps": 1e-5},
    "maxpool": {"kernel": 3, "padding": 0, "ceil": False},
    "avgpool": {"kernel": 3, "padding": 0, "ceil": False},
    "lrn": {"size": 5, "alpha": 1e-4, "beta": 0.75, "k": 1.0},
    "bn": {"act": "relu", "eps": 1e-5},
    "fc": {"act": "relu", "drop": 0.0},
}


def option_defaults(op: str) -> dict[str, Any]:
    """The defaults of ``op``'s options (a layer's, or a registry entry's keyword defaults)."""
    if op in LAYERS:
        return LAYERS[op]
    import cells
    if op not in cells.OPS:
        return {}
    params = inspect.signature(cells.OPS[op].cost).parameters.values()
    return {p.name: p.default for p in params if p.kind is p.KEYWORD_ONLY and p.default is not p.empty}


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b or (isinstance(a, float) and isinstance(b, int)
                                             and not isinstance(b, bool) and a == b)


@dataclass(frozen=True)
class Stage:
    """``repeats`` blocks of ``op``; the first strides and maps the input width to ``out_chs``."""

    op: str
    repeats: int = 1
    stride: int = 1
    out_chs: int | None = None
    options: tuple[tuple[str, Value], ...] = field(default=())

    def __post_init__(self) -> None:
        owner = f"stage {self.op!r}"
        if not isinstance(self.op, str) or not _NAME.match(self.op):
            raise ValueError(f"stage: op must be an op name, got {self.op!r}")
        _check_int(owner, "repeats", self.repeats)
        _check_int(owner, "stride", self.stride)
        if self.out_chs is not None:
            _check_int(owner, "out_chs", self.out_chs)
        opts = dict(self.options) if isinstance(self.options, Mapping) else dict(tuple(self.options))
        for key, value in opts.items():
            _check_value(owner, key, value)
        defaults = option_defaults(self.op)
        # One network, one spec: an option at its default is left out, so it is stored and read once.
        opts = {k: v for k, v in opts.items() if not (k in defaults and _same(defaults[k], v))}
        object.__setattr__(self, "options", tuple(sorted(opts.items())))

    def option(self, name: str, default: Any = None) -> Any:
        return dict(self.options).get(name, default)

    def to_str(self) -> str:
        parts = [self.op]
        if self.repeats != 1:
            parts.append(f"r{self.repeats}")
        if self.stride != 1:
            parts.append(f"s{self.stride}")
        if self.out_chs is not None:
            parts.append(f"c{self.out_chs}")
        parts += [f"{k}={encode_value(v)}" for k, v in self.options]
        return " ".join(parts)

    def to_dict(self) -> dict:
        return {"op": self.op, "repeats": self.repeats, "stride": self.stride, "out_chs": self.out_chs,
                "options": dict(self.options)}

    @classmethod
    def from_dict(cls, data: Any, where: str = "stage") -> "Stage":
        if isinstance(data, str):
            return parse_stage(data, where)
        if not isinstance(data, dict):
            raise ValueError(f"{where}: expected a stage string or object, got {type(data).__name__}")
        unknown = sorted(set(data) - {"op", "repeats", "stride", "out_chs", "options"})
        if unknown or "op" not in data:
            raise ValueError(f"{where}: fields must be op (required), repeats, stride, out_chs, options; "
                             f"got {sorted(data)}")
        options = data.get("options") or {}
        if not isinstance(options, dict):
            raise ValueError(f"{where}: options must be an object, got {options!r}")
        try:
            return cls(data["op"], data.get("repeats", 1), data.get("stride", 1), data.get("out_chs"),
                       tuple(options.items()))
        except ValueError as err:
            raise ValueError(f"{where}: {err}") from None


def parse_stage(text: str, where: str = "stage") -> Stage:
    """``bottleneck r4 s2 c512 groups=32`` -> Stage; errors name the token and the accepted forms."""
    if not isinstance(text, str) or not text.split():
        raise ValueError(f"{where}: expected a stage like 'bottleneck r3 s2 c512', got {text!r}")
    op, *tokens = text.split()
    fields_: dict[str, Any] = {}
    options: dict[str, Value] = {}
    for tok in tokens:
        if "=" in tok:
            key, _, raw = tok.partition("=")
            if key in options or not raw:
                raise ValueError(f"{where} {text!r}: token {tok!r} repeats an option or has no value")
            options[key] = decode_value(raw)
            continue
        key, digits = tok[:1], tok[1:]
        name = {"r": "repeats", "s": "stride", "c": "out_chs"}.get(key)
        if name is None or not digits.isdigit() or name in fields_:
            raise ValueError(f"{where} {text!r}: bad token {tok!r}; accepted: r<int> repeats, s<int> stride, "
                             "c<int> channels (each once) and key=value options")
        fields_[name] = int(digits)
    try:
        return Stage(op, options=tuple(options.items()), **fields_)
    except ValueError as err:
        raise ValueError(f"{where} {text!r}: {err}") from None


@dataclass(frozen=True)
class MacroSpec:
    """Feature stages, adaptive pool to ``pool`` x ``pool``, hidden ``fc`` layers, classifier."""

    stages: tuple[Stage, ...]
    head: tuple[Stage, ...] = ()
    pool: int = 1
    classifier: str = "fc"
    dropout: float = 0.0
    num_classes: int = 1000
    resolution: int = 224

    def __post_init__(self) -> None:
        owner = "macro spec"
        for name in ("stages", "head"):
            value = getattr(self, name)
            if isinstance(value, list):
                value = tuple(value)
                object.__setattr__(self, name, value)
            if not isinstance(value, tuple) or not all(isinstance(s, Stage) for s in value):
                raise ValueError(f"{owner}: {name} must be a sequence of Stage, got {value!r}")
        if not self.stages:
            raise ValueError(f"{owner}: stages must not be empty")
        for i, s in enumerate(self.head):
            if s.op != "fc" or s.out_chs is None or s.stride != 1:
                raise ValueError(f"{owner}: head[{i}] must be 'fc c<int>' (stride 1), got {s.to_str()!r}")
        for name in ("pool", "num_classes", "resolution"):
            _check_int(owner, name, getattr(self, name))
        if self.classifier not in CLASSIFIERS:
            raise ValueError(f"{owner}: classifier must be one of {', '.join(CLASSIFIERS)}, got {self.classifier!r}")
        if self.classifier == "conv" and (self.head or self.pool != 1):
            raise ValueError(f"{owner}: classifier=conv (SqueezeNet's) needs pool1 and no fc layers")
        p = self.dropout
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p < 1:
            raise ValueError(f"{owner}: dropout must be a number in [0, 1), got {p!r}")
        object.__setattr__(self, "dropout", float(p))

    def to_str(self) -> str:
        tail = f"classes{self.num_classes} res{self.resolution}"
        if self.dropout:
            tail += f" drop{self.dropout!r}"
        if self.classifier != "fc":
            tail += f" classifier={self.classifier}"
        parts = [s.to_str() for s in self.stages] + [f"pool{self.pool}"] + [s.to_str() for s in self.head]
        return PREFIX + ", ".join(parts + [tail])

    def to_dict(self) -> dict:
        return {"space": "macro", "stages": [s.to_dict() for s in self.stages],
                "head": [s.to_dict() for s in self.head], "pool": self.pool, "classifier": self.classifier,
                "dropout": self.dropout, "num_classes": self.num_classes, "resolution": self.resolution}

    @classmethod
    def from_str(cls, text: str) -> "MacroSpec":
        return parse_network(text)

    @classmethod
    def from_dict(cls, data: Any) -> "MacroSpec":
        if not isinstance(data, dict):
            raise ValueError(f"macro spec: expected a JSON object, got {type(data).__name__}")
        data = dict(data)
        if data.pop("space", "macro") != "macro":
            raise ValueError("macro spec: 'space' must be 'macro'")
        accepted = {"stages", "head", "pool", "classifier", "dropout", "num_classes", "resolution"}
        unknown = sorted(set(data) - accepted)
        if unknown or "stages" not in data:
            raise ValueError(f"macro spec: unknown field(s) {unknown} or no 'stages'; accepted: {sorted(accepted)}")
        for name in ("stages", "head"):
            items = data.get(name, [])
            if not isinstance(items, (list, tuple)):
                raise ValueError(f"macro spec: {name} must be a list, got {items!r}")
            data[name] = tuple(Stage.from_dict(s, f"{name}[{i}]") for i, s in enumerate(items))
        return cls(**data)


_TAIL = {"classes": "num_classes", "res": "resolution", "drop": "dropout", "classifier=": "classifier"}


def _parse_tail(part: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for tok in part.split():
        key = next((k for k in _TAIL if tok.startswith(k)), None)
        raw = tok[len(key):] if key else ""
        if key is None or _TAIL[key] in out or not raw:
            raise ValueError(f"macro spec: bad tail token {tok!r}; accepted once each: classes<int>, res<int>, "
                             "drop<float>, classifier=fc|conv")
        if key == "classifier=":
            out["classifier"] = raw
        elif key == "drop":
            out["dropout"] = decode_value(raw)
        elif raw.isdigit():
            out[_TAIL[key]] = int(raw)
        else:
            raise ValueError(f"macro spec: tail token {tok!r} needs an integer")
    return out


def parse_network(text: str) -> MacroSpec:
    """Decode a ``macro:`` string; errors name the part and the token."""
    if not isinstance(text, str) or not text.strip().startswith(PREFIX):
        raise ValueError(f"macro spec must start with {PREFIX!r}, got {text!r}")
    parts = [p.strip() for p in text.strip()[len(PREFIX):].split(",")]
    tail = _parse_tail(parts.pop()) if parts and parts[-1].startswith("classes") else {}
    pools = [i for i, p in enumerate(parts) if re.fullmatch(r"pool\d+", p)]
    if len(pools) != 1:
        raise ValueError(f"macro spec: needs exactly one 'pool<n>' part between the stages and the head, "
                         f"found {len(pools)} in {text!r}")
    cut = pools[0]
    stages = tuple(parse_stage(p, f"stage {i + 1}") for i, p in enumerate(parts[:cut]))
    head = tuple(parse_stage(p, f"head {i + 1}") for i, p in enumerate(parts[cut + 1:]))
    return MacroSpec(stages, head, int(parts[cut][4:]), **tail)
