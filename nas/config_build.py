"""Typed construction of the frozen config dataclasses from plain (YAML) data: every key checked
against the dataclass fields, every value converted by its type hint (Literal, Optional/Union,
tuples of sections, read-only mappings, every float form a Python user writes), and one error
naming the dotted key, the value and what is accepted."""
from __future__ import annotations

import collections.abc
import dataclasses
import math
import types
import typing
from dataclasses import fields
from typing import Any, Literal, Mapping, Union



def _describe(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(tp))
    if origin in (Union, types.UnionType):
        return " or ".join(_describe(a) for a in typing.get_args(tp))
    if tp is type(None):
        return "null"
    if typing.get_origin(tp) is tuple:
        return f"a list of {_describe(typing.get_args(tp)[0])}"
    if dataclasses.is_dataclass(tp):
        return f"a mapping with keys {', '.join(f.name for f in fields(tp))}"
    if origin in (collections.abc.Mapping, dict) or tp in (Mapping, dict):
        return "a mapping"
    return {int: "an integer", float: "a number", str: "a string", bool: "true or false"}.get(
        tp, getattr(tp, "__name__", str(tp)))


def _freeze(value: Any) -> Any:
    if isinstance(value, Mapping):
        return types.MappingProxyType({str(k): _freeze(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    return value


def _float(value: Any) -> float | None:
    """Every finite float a Python user writes: numbers, and strings ``float()`` accepts ('3e-4'
    reaches here as a string from plain PyYAML or another tool's YAML 1.1 dump)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if isinstance(value, (int, float)) and math.isfinite(value):
        return float(value)
    return None


def _convert(tp: Any, value: Any, key: str) -> Any:
    origin = typing.get_origin(tp)
    fail = TypeError if origin is not Literal else ValueError
    if dataclasses.is_dataclass(tp):
        return build(tp, value, key)
    if origin in (Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        for arg in args:
            if dataclasses.is_dataclass(arg) and isinstance(value, Mapping):
                return _convert(arg, value, key)  # a section's own error names its field
            if arg is not type(None):
                try:
                    return _convert(arg, value, key)
                except (TypeError, ValueError):
                    pass
    elif origin is Literal:
        if value in typing.get_args(tp) and type(value) is type(typing.get_args(tp)[0]):
            return value
    elif origin in (collections.abc.Mapping, dict) or tp in (Mapping, dict):
        if value is None:
            return types.MappingProxyType({})
        if isinstance(value, Mapping):
            return _freeze(value)
    elif origin is tuple:
        if isinstance(value, (list, tuple)):
            item = typing.get_args(tp)[0]
            return tuple(_convert(item, v, f"{key}[{i}]") for i, v in enumerate(value))
    elif tp is float:
        number = _float(value)
        if number is not None:
            return number
        raise fail(f"config key {key!r}: bad value {value!r}; accepted: a finite number "
                   "(e.g. 0.05, 5e-2, 1_000.0)")
    elif tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif tp is str:
        if isinstance(value, str):
            return value
    elif tp is bool:
        if isinstance(value, bool):
            return value
    raise fail(f"config key {key!r}: bad value {value!r}; accepted: {_describe(tp)}")


def build(cls: type, data: Any, where: str = "") -> Any:
    """``cls`` (a config dataclass) from a plain mapping, checking keys, types and ranges."""
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise TypeError(f"config key {where or '<root>'!r}: bad value {data!r}; accepted: "
                        f"{_describe(cls)}")
    hints = typing.get_type_hints(cls)
    known = {f.name: f for f in fields(cls)}
    for key in data:
        if key not in known:
            full = f"{where}.{key}" if where else str(key)
            raise ValueError(f"unknown config key {full!r}; accepted keys"
                             f"{' under ' + repr(where) if where else ''}: {', '.join(known)}")
    kwargs = {}
    for name, value in data.items():
        key = f"{where}.{name}" if where else name
        kwargs[name] = _convert(hints[name], value, key)
        check = known[name].metadata.get("check")
        if check is not None and not check(kwargs[name]):
            raise ValueError(f"config key {key!r}: bad value {value!r}; accepted: "
                             f"{known[name].metadata['accepted']}")
    try:
        return cls(**kwargs)
    except (ValueError, TypeError) as err:  # the section's own checks (e.g. TrainConfig's)
        raise type(err)(f"config section {where or '<root>'!r}: {err}") from None


def to_dict(config: Any) -> Any:
    """Plain-data form (YAML/JSON-safe) of a config dataclass."""
    if dataclasses.is_dataclass(config):
        return {f.name: to_dict(getattr(config, f.name)) for f in fields(config)}
    if isinstance(config, Mapping):
        return {k: to_dict(v) for k, v in config.items()}
    if isinstance(config, tuple):
        return [to_dict(v) for v in config]
    return config
