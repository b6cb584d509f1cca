"""The genotype of a NASNet-style cell network as a frozen spec (Zoph et al. 2018, "Learning
Transferable Architectures"), with DARTS's lesson (Liu et al. 2019): the printed form is valid data.

A cell has B blocks; block b reads two of the states ``[h_{i-2}, h_{i-1}, block 0, ..., block b-1]``
(indices 0, 1, 2, ...), applies one operation to each and combines them ('add' or 'concat').
The network spec adds the macro settings: N normal cells per stage ("N @ F"), F filters in the
first stage, the stem, the wiring convention ('nasnet' or 'darts'), classes and input resolution.

String form, one line, prefix ``cell:``::

    cell:normal=sep_conv_3x3@0+sep_conv_3x3@1,...;reduce=max_pool_3x3@0+max_pool_3x3@1,...;
         N=6;F=36;stem=cifar;wiring=darts;classes=10;res=32;stem_mult=3

A block is ``op1@input1+op2@input2`` (``&`` instead of ``+`` for the concat combiner). Which states
a cell concatenates at its output follows the wiring (``default_concat``); a published cell whose
own code lists them otherwise carries ``normal_concat=``/``reduce_concat=`` explicitly.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, fields, replace
from typing import Any

import cells
from search_spaces.base import check_choice

COMBINERS = ("add", "concat")
STEMS = ("cifar", "imagenet")
WIRINGS = ("nasnet", "darts")
PREFIX = "cell:"
_SYMBOL = {"add": "+", "concat": "&"}
_BLOCK_RE = re.compile(r"^(\w+)@(\d+)\s*([+&])\s*(\w+)@(\d+)$")


def _positive_int(where: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{where} must be a positive int, got {value!r}")


@dataclass(frozen=True)
class Block:
    """One block: ``combiner(op1(state[input1]), op2(state[input2]))``."""

    input1: int
    input2: int
    op1: str
    op2: str
    combiner: str = "add"

    def check(self, where: str, index: int) -> None:
        """Raise ValueError naming ``where`` unless this block is valid as block ``index``."""
        for name in ("input1", "input2"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < index + 2:
                raise ValueError(f"{where}.{name}: input index {value!r} out of range; block {index} "
                                 f"accepts 0..{index + 1} (0=h[i-2], 1=h[i-1], 2+k=block k)")
        for name in ("op1", "op2"):
            value = getattr(self, name)
            if value not in cells.OPS:
                raise ValueError(f"{where}.{name}: unknown op {value!r}; accepted: {', '.join(sorted(cells.OPS))}")
        check_choice(f"{where}.combiner", self.combiner, COMBINERS)

    def to_str(self) -> str:
        return f"{self.op1}@{self.input1}{_SYMBOL[self.combiner]}{self.op2}@{self.input2}"

    @classmethod
    def from_str(cls, text: str) -> "Block":
        m = _BLOCK_RE.match(text.strip())
        if m is None:
            raise ValueError(f"bad block {text!r}: expected 'op@input+op@input' (or '&' for concat)")
        combiner = "add" if m.group(3) == "+" else "concat"
        return cls(int(m.group(2)), int(m.group(5)), m.group(1), m.group(4), combiner)


@dataclass(frozen=True)
class Cell:
    """The blocks of one cell type; ``concat`` overrides the wiring's output rule when not None."""

    blocks: tuple[Block, ...]
    concat: tuple[int, ...] | None = None

    def check(self, where: str) -> None:
        if not isinstance(self.blocks, tuple) or not self.blocks:
            raise ValueError(f"{where}.blocks must be a non-empty tuple of Block, got {self.blocks!r}")
        for b, block in enumerate(self.blocks):
            if not isinstance(block, Block):
                raise TypeError(f"{where}.blocks[{b}] must be a Block, got {type(block).__name__}")
            block.check(f"{where}.blocks[{b}]", b)
        if self.concat is not None:
            n_states = len(self.blocks) + 2
            ok = (isinstance(self.concat, tuple) and self.concat
                  and all(isinstance(i, int) and not isinstance(i, bool) and 0 <= i < n_states for i in self.concat)
                  and list(self.concat) == sorted(set(self.concat)))
            if not ok:
                raise ValueError(f"{where}_concat: {self.concat!r} must be increasing, distinct state "
                                 f"indices in 0..{n_states - 1}")

    @property
    def num_blocks(self) -> int:
        return len(self.blocks)

    def used(self) -> set[int]:
        """States read by some block."""
        return {i for b in self.blocks for i in (b.input1, b.input2)}


def default_concat(cell: Cell, wiring: str) -> tuple[int, ...]:
    """The states a cell concatenates under ``wiring``: DARTS concatenates every block output;
    NASNet every hidden state no block reads (cell inputs included, as the paper says)."""
    if wiring == "darts":
        return tuple(range(2, cell.num_blocks + 2))
    used = cell.used()
    return tuple(i for i in range(cell.num_blocks + 2) if i not in used)


def output_states(cell: Cell, wiring: str) -> tuple[int, ...]:
    return cell.concat if cell.concat is not None else default_concat(cell, wiring)


def _cell_str(cell: Cell) -> str:
    return ",".join(b.to_str() for b in cell.blocks)


def _parse_cell(key: str, text: str) -> tuple[Block, ...]:
    try:
        return tuple(Block.from_str(tok) for tok in text.split(","))
    except ValueError as err:
        raise ValueError(f"{key}: {err}") from None


def _parse_ints(key: str, text: str) -> tuple[int, ...]:
    try:
        return tuple(int(t) for t in text.split(","))
    except ValueError:
        raise ValueError(f"{key}: {text!r} is not a comma-separated list of state indices") from None


# String keys of the macro settings, in print order, with the field each one sets.
_MACRO_KEYS = {"N": "n", "F": "filters", "stem": "stem", "wiring": "wiring", "classes": "num_classes",
               "res": "resolution", "stem_mult": "stem_multiplier"}
_INT_FIELDS = {"n", "filters", "num_classes", "resolution", "stem_multiplier"}


@dataclass(frozen=True)
class CellSpec:
    """A whole cell network: the two cell genotypes plus the macro settings ("N @ F").

    ``n`` counts normal cells per stage (NASNet's N; a DARTS ``layers`` count L is N = (L-2)/3);
    stage filters are F, 2F, 4F, each reduction cell doubling them. ``stem_multiplier`` scales the
    stem's filters: 3F for the CIFAR stem, 32 x multiplier for NASNet's ImageNet stem.
    """

    normal: Cell
    reduce: Cell
    n: int = 2
    filters: int = 16
    stem: str = "cifar"
    wiring: str = "nasnet"
    num_classes: int = 10
    resolution: int = 32
    stem_multiplier: int = 3

    def __post_init__(self) -> None:
        for name in ("normal", "reduce"):
            cell = getattr(self, name)
            if not isinstance(cell, Cell):
                raise TypeError(f"{name} must be a Cell, got {type(cell).__name__}")
            cell.check(name)
        for name in sorted(_INT_FIELDS):
            _positive_int(name, getattr(self, name))
        check_choice("stem", self.stem, STEMS)
        check_choice("wiring", self.wiring, WIRINGS)
        # One spec per network: DARTS's ImageNet stem has no multiplier (stored as 1), and an
        # explicit concat equal to the wiring's rule is dropped.
        if self.stem == "imagenet" and self.wiring == "darts":
            object.__setattr__(self, "stem_multiplier", 1)
        for name in ("normal", "reduce"):
            cell = getattr(self, name)
            if cell.concat is not None and cell.concat == default_concat(cell, self.wiring):
                object.__setattr__(self, name, replace(cell, concat=None))

    def to_str(self) -> str:
        parts = [f"normal={_cell_str(self.normal)}"]
        if self.normal.concat is not None:
            parts.append("normal_concat=" + ",".join(map(str, self.normal.concat)))
        parts.append(f"reduce={_cell_str(self.reduce)}")
        if self.reduce.concat is not None:
            parts.append("reduce_concat=" + ",".join(map(str, self.reduce.concat)))
        parts += [f"{key}={getattr(self, field)}" for key, field in _MACRO_KEYS.items()]
        return PREFIX + ";".join(parts)

    def __str__(self) -> str:
        return self.to_str()

    @classmethod
    def from_str(cls, text: str) -> "CellSpec":
        text = text.strip()
        if not text.startswith(PREFIX):
            raise ValueError(f"cell spec must start with {PREFIX!r}, got {text[:20]!r}")
        values: dict[str, Any] = {}
        accepted = ["normal", "normal_concat", "reduce", "reduce_concat", *_MACRO_KEYS]
        for token in filter(None, (t.strip() for t in text[len(PREFIX):].split(";"))):
            key, sep, value = (s.strip() for s in token.partition("="))
            if not sep or key not in accepted:
                raise ValueError(f"bad token {token!r} in cell spec; accepted keys: {', '.join(accepted)}")
            if key in values:
                raise ValueError(f"duplicate key {key!r} in cell spec")
            values[key] = value
        for key in ("normal", "reduce"):
            if key not in values:
                raise ValueError(f"cell spec lacks {key}=...; accepted keys: {', '.join(accepted)}")
        kwargs: dict[str, Any] = {}
        for key in ("normal", "reduce"):
            concat = values.get(f"{key}_concat")
            kwargs[key] = Cell(_parse_cell(key, values[key]),
                               None if concat is None else _parse_ints(f"{key}_concat", concat))
        for key, field in _MACRO_KEYS.items():
            if key in values:
                raw = values[key]
                if field in _INT_FIELDS:
                    if not raw.isdigit():
                        raise ValueError(f"{key}={raw!r}: expected a positive integer")
                    kwargs[field] = int(raw)
                else:
                    kwargs[field] = raw
        return cls(**kwargs)

    def to_dict(self) -> dict:
        out: dict[str, Any] = {"space": "cell"}
        for name in ("normal", "reduce"):
            cell = getattr(self, name)
            out[name] = {"blocks": [{"inputs": [b.input1, b.input2], "ops": [b.op1, b.op2],
                                     "combiner": b.combiner} for b in cell.blocks]}
            if cell.concat is not None:
                out[name]["concat"] = list(cell.concat)
        out.update({f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("normal", "reduce")})
        return out

    @classmethod
    def from_dict(cls, data: dict) -> "CellSpec":
        if not isinstance(data, dict):
            raise TypeError(f"cell spec JSON must be an object, got {type(data).__name__}")
        macro = {f.name for f in fields(cls)} - {"normal", "reduce"}
        unknown = set(data) - macro - {"normal", "reduce", "space"}
        if unknown:
            raise ValueError(f"unknown cell spec field(s) {sorted(unknown)}; accepted: "
                             f"space, normal, reduce, {', '.join(sorted(macro))}")
        kwargs = {k: v for k, v in data.items() if k in macro}
        for name in ("normal", "reduce"):
            if name not in data:
                raise ValueError(f"cell spec JSON lacks {name!r}")
            kwargs[name] = _cell_from_dict(name, data[name])
        return cls(**kwargs)


def _cell_from_dict(where: str, data: Any) -> Cell:
    if not isinstance(data, dict) or not isinstance(data.get("blocks"), list):
        raise ValueError(f"{where} must be an object with a 'blocks' list, got {data!r}")
    blocks = []
    for b, item in enumerate(data["blocks"]):
        try:
            (in1, in2), (op1, op2) = item["inputs"], item["ops"]
            blocks.append(Block(in1, in2, op1, op2, item.get("combiner", "add")))
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"{where}.blocks[{b}]: expected {{'inputs': [i, j], 'ops': [op, op], "
                             f"'combiner': 'add'|'concat'}}, got {item!r}") from None
    concat = data.get("concat")
    if concat is not None and not isinstance(concat, list):
        raise ValueError(f"{where}.concat must be a list of state indices, got {concat!r}")
    return Cell(tuple(blocks), None if concat is None else tuple(concat))


def layers_to_n(layers: int) -> int:
    """DARTS counts all cells (``layers``, reductions at L//3 and 2L//3); NASNet counts N normal
    cells per stage. They agree when L = 3N + 2."""
    if isinstance(layers, bool) or not isinstance(layers, int) or layers < 5 or (layers - 2) % 3:
        raise ValueError(f"layers={layers!r}: a DARTS network with two reductions has 3N+2 cells (5, 8, 11, ...)")
    return (layers - 2) // 3
