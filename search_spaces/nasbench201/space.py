"""The NAS-Bench-201 topology space (Dong & Yang 2020): 6 edges x 5 ops, 15,625 cells, in one
fixed macro network; the benchmark's ``arch_str`` is the spec string."""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Sequence

import networkx as nx

from cells import counting as C
from cells.counting import Cost
from search_spaces.base import Dimension, SearchSpace
from search_spaces.nasbench201.archs import NAMED
from search_spaces.nasbench201.graph import to_graph as _to_graph
from search_spaces.nasbench201.plan import layers
from search_spaces.nasbench201.spec import EDGES, OPS, SPACE, NB201Spec

__all__ = ["NAMED", "NB201Space", "NB201Spec", "parse", "parse_dict", "space_for"]


class NB201Space(SearchSpace):
    """The 15,625-cell space; ``num_classes`` / ``resolution`` are stamped on every frozen spec."""

    name = SPACE

    def __init__(self, num_classes: int = 10, resolution: int = 32):
        NB201Spec(("none",) * len(EDGES), num_classes, resolution)  # validates both at the boundary
        self.num_classes, self.resolution = num_classes, resolution
        self._dims = tuple(Dimension(f"edge_{i}->{j}", OPS) for i, j in EDGES)

    def __repr__(self) -> str:
        return f"NB201Space(num_classes={self.num_classes}, resolution={self.resolution})"

    def dimensions(self) -> tuple[Dimension, ...]:
        return self._dims

    def freeze(self, decisions: Sequence[int]) -> NB201Spec:
        idx = self.check_decisions(decisions)
        return NB201Spec(tuple(OPS[k] for k in idx), self.num_classes, self.resolution)

    def decisions(self, spec: NB201Spec) -> tuple[int, ...]:
        self.validate(spec)
        return tuple(OPS.index(op) for op in spec.ops)

    def validate(self, spec: Any) -> None:
        if not isinstance(spec, NB201Spec):
            raise TypeError(f"{SPACE}: expected an NB201Spec, got {type(spec).__name__}")

    def cost(self, spec: NB201Spec, **kwargs) -> Cost:
        if kwargs:
            raise TypeError(f"{SPACE}.cost takes no options (the spec holds the task), got {sorted(kwargs)}")
        self.validate(spec)
        return sum((layer["cost"] for layer in layers(spec)), C.ZERO)

    def to_graph(self, spec: NB201Spec, view: str = "network") -> nx.DiGraph:
        self.validate(spec)
        total = self.cost(spec)
        return _to_graph(spec, view, total.params, total.macs)

    def build(self, spec: NB201Spec, **kwargs):
        """The benchmark's network; it has no drop path, auxiliary head or dropout to configure."""
        from search_spaces.nasbench201.build import NB201Network  # torch only here

        if kwargs:
            raise TypeError(f"{SPACE}.build takes no options (the benchmark network has no drop path, "
                            f"auxiliary head or dropout), got {sorted(kwargs)}")
        self.validate(spec)
        return NB201Network(spec)

    def retarget(self, spec: NB201Spec, *, num_classes: int | None = None,
                 resolution: int | None = None) -> NB201Spec:
        self.validate(spec)
        changes = {k: v for k, v in (("num_classes", num_classes), ("resolution", resolution))
                   if v is not None}
        return replace(spec, **changes)

    def from_str(self, text: str) -> NB201Spec:
        return NB201Spec.from_str(text)

    def from_dict(self, data: dict) -> NB201Spec:
        return NB201Spec.from_dict(data)


def parse(text: str) -> NB201Spec | None:
    """The spec for a NAS-Bench-201 string (it starts with '|'), else None."""
    if not isinstance(text, str) or not text.strip().startswith("|"):
        return None
    return NB201Spec.from_str(text)


def parse_dict(data: Any) -> NB201Spec | None:
    """A spec from the JSON form (``"space": "nasbench201"``, or an arch string); None otherwise."""
    if isinstance(data, str):
        return parse(data)
    if not isinstance(data, dict) or data.get("space") != SPACE:
        return None
    return NB201Spec.from_dict(data)


def space_for(spec: Any) -> NB201Space | None:
    if not isinstance(spec, NB201Spec):
        return None
    return NB201Space(spec.num_classes, spec.resolution)
