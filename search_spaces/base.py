"""The contract every search space offers (shared/DESIGN.md, "Search spaces").

A space is configured once (op list, macro settings) and then maps between three forms of an
architecture: the controller's decision sequence (one index per ``Dimension``), the frozen spec
(hashable, with string and JSON forms), and the products of a spec (module, graph, cost).
The NNI lesson: list the free choices, freeze a sample into something concrete, and keep that
concrete thing printable as data.
"""
from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from cells.counting import Cost


def check_choice(where: str, value: Any, accepted: Sequence) -> None:
    """The spec types' one error for a categorical field: names the field, the value and what is
    accepted."""
    if value not in accepted:
        raise ValueError(f"{where} must be one of {', '.join(map(str, accepted))}, got {value!r}")


def new_graph(space: str, spec: Any, view: str, cost: Cost, *, input_node: bool = True):
    """The one graph schema every space's ``to_graph`` starts from: graph attributes naming the
    space, spec, view and total cost, and (for network views) the ``input`` image node."""
    import networkx as nx

    g = nx.DiGraph(space=space, spec=spec.to_str(), view=view, params=int(cost.params), macs=int(cost.macs))
    if input_node:
        side = spec.resolution
        g.add_node("input", op="input", label=f"Images {side}x{side}x3", kind="input", channels=3,
                   height=side, width=side, params=0, macs=0)
    return g


@dataclass(frozen=True)
class Dimension:
    """One categorical decision: its name (stable, used in logs and Optuna params) and options."""

    name: str
    choices: tuple

    def __post_init__(self) -> None:
        if len(self.choices) < 1:
            raise ValueError(f"dimension {self.name!r} has no choices")


class SearchSpace(abc.ABC):
    """Base class: subclasses implement the abstract methods; sampling and mutation are derived
    from the decision sequence so every space gets them with the same semantics."""

    name: str = "space"

    @abc.abstractmethod
    def dimensions(self) -> tuple[Dimension, ...]:
        """The ordered decision sequence a controller emits."""

    @abc.abstractmethod
    def freeze(self, decisions: Sequence[int]) -> Any:
        """Spec from one index per dimension; raises ValueError naming a bad index."""

    @abc.abstractmethod
    def decisions(self, spec: Any) -> tuple[int, ...]:
        """Inverse of ``freeze``: the indices that produce ``spec`` in this space."""

    @abc.abstractmethod
    def validate(self, spec: Any) -> None:
        """Raise ValueError naming the field, the bad value and what is accepted."""

    @abc.abstractmethod
    def cost(self, spec: Any, **kwargs) -> Cost:
        """Analytic parameters and MACs of ``build(spec, **kwargs)``; no torch needed."""

    @abc.abstractmethod
    def to_graph(self, spec: Any):
        """networkx.DiGraph with op / shape / cost node attributes; no torch needed."""

    @abc.abstractmethod
    def build(self, spec: Any, **kwargs):
        """torch.nn.Module for the spec (the only method that imports torch)."""

    @abc.abstractmethod
    def retarget(self, spec: Any, *, num_classes: int | None = None, resolution: int | None = None) -> Any:
        """The same architecture for another task: classifier width and/or input resolution."""

    @abc.abstractmethod
    def from_str(self, text: str) -> Any:
        """Parse the spec's string form; errors name the offending token."""

    def input_resolution(self, spec: Any) -> int:
        """The side of the images the built network expects (a compound-scaled spec's differs from
        its base's, so evaluators ask the space rather than the data)."""
        return spec.resolution

    def scale(self, spec: Any, *, width: float = 1.0, depth: float = 1.0, resolution: float = 1.0) -> Any:
        """The spec under compound-scaling multipliers (``search_spaces.scaling``)."""
        raise TypeError(f"{self.name}: no scaling rule for {type(spec).__name__} specs; "
                        "accepted: block specs and cell-space network specs")

    @classmethod
    def scales(cls) -> bool:
        """Whether this space has a scaling rule (it overrides ``scale``): a reduced-width proxy
        (``width`` of a calibration fidelity or a ladder rung) needs one."""
        return cls.scale is not SearchSpace.scale

    def network(self, spec: Any) -> Any:
        """The concrete network spec ``spec`` stands for (a compound spec's scaled base; itself
        for every other space)."""
        return spec

    def describe(self, spec: Any) -> dict[str, float]:
        """Numbers a spec carries that every trial's metrics should record (none by default)."""
        return {}

    def to_str(self, spec: Any) -> str:
        return spec.to_str()

    def to_dict(self, spec: Any) -> dict:
        return spec.to_dict()

    @abc.abstractmethod
    def from_dict(self, data: dict) -> Any:
        """Spec from its JSON form."""

    def check_decisions(self, decisions: Sequence[int]) -> list[int]:
        """Validate a decision sequence's length and ranges at the boundary."""
        dims = self.dimensions()
        if len(decisions) != len(dims):
            raise ValueError(f"{self.name}: expected {len(dims)} decisions, got {len(decisions)}")
        out = []
        for dim, idx in zip(dims, decisions):
            if not 0 <= int(idx) < len(dim.choices):
                raise ValueError(f"{self.name}: decision {dim.name!r} index {idx!r} out of range "
                                 f"0..{len(dim.choices) - 1} (choices {dim.choices})")
            out.append(int(idx))
        return out

    def sample(self, rng: np.random.Generator) -> Any:
        """Uniform sample: each decision drawn independently from ``rng``."""
        return self.freeze([int(rng.integers(len(d.choices))) for d in self.dimensions()])

    def mutate(self, spec: Any, rng: np.random.Generator) -> Any:
        """Change exactly one decision to a different option (Real et al.'s mutation)."""
        decisions = list(self.decisions(spec))
        dims = self.dimensions()
        mutable = [i for i, d in enumerate(dims) if len(d.choices) > 1]
        if not mutable:
            raise ValueError(f"{self.name}: no dimension has more than one choice; nothing to mutate")
        i = mutable[int(rng.integers(len(mutable)))]
        offset = int(rng.integers(1, len(dims[i].choices)))
        decisions[i] = (decisions[i] + offset) % len(dims[i].choices)
        return self.freeze(decisions)
