"""The compound-scaling coefficient search of EfficientNet (Tan & Le 2019, section 3.3, step 1):
fix phi = 1, grid-search alpha (depth), beta (width), gamma (resolution) under
alpha * beta^2 * gamma^2 ~ 2, train each scaled candidate, keep the best; then emit the
phi = 1..7 family (``nas.scaling.family``).

It is an ordinary search run by the same machinery as every other (``nas search``, Ray Tune,
the run store): the *scaling space* is a search space whose one decision is the coefficient
triple, whose spec (``ScaledSpec``) is that triple applied to a base spec, and the ``grid``
strategy walks it. Only the triples meeting the constraint (within a relative ``tolerance``)
are in the space, so every evaluated candidate meets it.

A candidate's input resolution is the data's resolution times gamma^phi: the space says so
(``input_resolution``) and the proxy evaluator resizes the images to it, as it does for any spec
whose resolution differs from the data's (a search over resolution that trained every candidate at
one resolution would measure nothing). Cost, graph and build are the scaled base network's.
"""
from __future__ import annotations

import dataclasses
import itertools
from typing import Any, Sequence

from cells.counting import Cost
from search_spaces.base import Dimension, SearchSpace
from search_spaces import catalog
from search_spaces.compound.spec import PREFIX, ScaledSpec
from search_spaces.scaling import flops_factor

NAMED: dict[str, ScaledSpec] = {}  # the scaled families are named in their base space (efficientnet_b1..b7)


def coefficient_grid(step: float = 0.05, alpha: Sequence[float] = (1.0, 2.0), beta: Sequence[float] = (1.0, 2.0),
                     gamma: Sequence[float] = (1.0, 2.0), target: float = 2.0,
                     tolerance: float = 0.05) -> tuple[tuple[float, float, float], ...]:
    """Every (alpha, beta, gamma) on the step grid within the given [low, high] ranges whose
    alpha * beta^2 * gamma^2 is within ``tolerance`` (relative) of ``target``; in lexicographic
    order."""
    if isinstance(step, bool) or not isinstance(step, (int, float)) or not 0 < step <= 1:
        raise ValueError(f"step must be a number in (0, 1], got {step!r}")
    if isinstance(target, bool) or not isinstance(target, (int, float)) or not target > 1:
        raise ValueError(f"target must be a number > 1 (the FLOPs growth per unit of phi), got {target!r}")
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) or not 0 <= tolerance < 1:
        raise ValueError(f"tolerance must be a relative tolerance in [0, 1), got {tolerance!r}")
    axes = []
    for name, bounds in (("alpha", alpha), ("beta", beta), ("gamma", gamma)):
        if (not isinstance(bounds, (list, tuple)) or len(bounds) != 2
                or not all(isinstance(b, (int, float)) and not isinstance(b, bool) for b in bounds)
                or not 1.0 <= bounds[0] <= bounds[1]):
            raise ValueError(f"{name} range must be [low, high] with 1 <= low <= high, got {bounds!r}")
        count = int((bounds[1] - bounds[0]) / step + 1e-9) + 1
        axes.append([round(bounds[0] + k * step, 6) for k in range(count)])
    return tuple(t for t in itertools.product(*axes)
                 if abs(flops_factor(*t) - target) <= tolerance * target + 1e-12)


def _label(triple: tuple[float, float, float]) -> str:
    return "/".join(f"{v:g}" for v in triple)


class ScalingSpace(SearchSpace):
    """One decision: the coefficient triple, among those on the grid that meet the constraint.

    ``base`` is a named architecture or spec string; ``num_classes``/``resolution`` retarget it
    (the proxy evaluator retargets it to the data anyway). The other options are
    ``coefficient_grid``'s; ``phi`` is the compound coefficient the candidates are trained at."""

    name = "compound"

    def __init__(self, base: str, *, step: float = 0.05, alpha: Sequence[float] = (1.0, 1.3),
                 beta: Sequence[float] = (1.0, 1.2), gamma: Sequence[float] = (1.0, 1.25), target: float = 2.0,
                 tolerance: float = 0.05, phi: float = 1.0, num_classes: int | None = None,
                 resolution: int | None = None):
        if isinstance(base, str):
            spec = catalog.resolve(base)
        elif catalog.is_spec(base):
            spec = base
        else:
            raise TypeError(f"base must be a named architecture or spec string, got {type(base).__name__}")
        if isinstance(spec, ScaledSpec):
            raise ValueError("base must be a network spec, not a compound spec")
        self.base = catalog.space_for(spec).retarget(spec, num_classes=num_classes, resolution=resolution)
        if isinstance(phi, bool) or not isinstance(phi, (int, float)) or not phi > 0:
            raise ValueError(f"phi must be a positive number, got {phi!r}")
        self.phi = float(phi)
        self.target, self.tolerance = float(target), float(tolerance)
        self.triples = coefficient_grid(step, tuple(alpha), tuple(beta), tuple(gamma), target, tolerance)
        if not self.triples:
            raise ValueError(f"no (alpha, beta, gamma) on the grid (step {step}, alpha {list(alpha)}, beta "
                             f"{list(beta)}, gamma {list(gamma)}) has alpha*beta^2*gamma^2 within "
                             f"{tolerance:.0%} of {target}; widen the ranges or the tolerance")
        self._dims = (Dimension("coefficients", tuple(_label(t) for t in self.triples)),)

    def __repr__(self) -> str:
        return f"ScalingSpace({len(self.triples)} triples, phi={self.phi:g}, base={self.base.to_str()[:60]}...)"

    def dimensions(self) -> tuple[Dimension, ...]:
        return self._dims

    def freeze(self, decisions: Sequence[int]) -> ScaledSpec:
        (index,) = self.check_decisions(decisions)
        return ScaledSpec(self.base, *self.triples[index], phi=self.phi)

    def decisions(self, spec: ScaledSpec) -> tuple[int, ...]:
        self.validate(spec)
        return (self.triples.index(spec.coefficients),)

    def validate(self, spec: Any) -> None:
        if not isinstance(spec, ScaledSpec):
            raise TypeError(f"scaling space expects a ScaledSpec, got {type(spec).__name__}")
        if spec.coefficients not in self.triples:
            raise ValueError(f"coefficients {_label(spec.coefficients)} (alpha*beta^2*gamma^2 = "
                             f"{flops_factor(*spec.coefficients):.3f}) are not on this space's grid; "
                             f"accepted: {', '.join(self._dims[0].choices)}")

    def cost(self, spec: ScaledSpec, **kwargs) -> Cost:
        net = spec.network
        return catalog.space_for(net).cost(net, **kwargs)

    def to_graph(self, spec: ScaledSpec, view: str = "network"):
        net = spec.network
        return catalog.space_for(net).to_graph(net, view)

    def build(self, spec: ScaledSpec, **kwargs):
        net = spec.network
        return catalog.space_for(net).build(net, **kwargs)

    def retarget(self, spec: ScaledSpec, *, num_classes: int | None = None,
                 resolution: int | None = None) -> ScaledSpec:
        """The base retargeted: ``resolution`` is the base's (phi = 0) input side."""
        base = catalog.space_for(spec.base).retarget(spec.base, num_classes=num_classes, resolution=resolution)
        return dataclasses.replace(spec, base=base)

    def from_str(self, text: str) -> ScaledSpec:
        return ScaledSpec.from_str(text)

    def from_dict(self, data: dict) -> ScaledSpec:
        return ScaledSpec.from_dict(data)

    def network(self, spec: ScaledSpec) -> Any:
        return spec.network

    def input_resolution(self, spec: ScaledSpec) -> int:
        return spec.network.resolution

    def describe(self, spec: ScaledSpec) -> dict[str, float]:
        """The coefficients join every trial's metrics."""
        return {"alpha": spec.alpha, "beta": spec.beta, "gamma": spec.gamma, "phi": spec.phi,
                "flops_factor": flops_factor(*spec.coefficients), "resolution": spec.network.resolution}


def parse(text: str) -> ScaledSpec | None:
    if not isinstance(text, str) or not text.strip().startswith(PREFIX):
        return None
    return ScaledSpec.from_str(text)


def parse_dict(data: Any) -> ScaledSpec | None:
    if isinstance(data, str):
        return parse(data)
    if not isinstance(data, dict) or data.get("space") != "compound":
        return None
    return ScaledSpec.from_dict(data)


def space_for(spec: Any) -> "ScalingSpace | None":
    """A one-triple space around ``spec``'s own coefficients (enough to cost, draw and build it)."""
    if not isinstance(spec, ScaledSpec):
        return None
    a, b, g = spec.coefficients
    return ScalingSpace(spec.base, alpha=(a, a), beta=(b, b), gamma=(g, g), target=flops_factor(a, b, g),
                        tolerance=0.0, phi=spec.phi if spec.phi > 0 else 1.0, step=1.0)
