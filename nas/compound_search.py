"""The compound-scaling coefficient search of EfficientNet (Tan & Le 2019, section 3.3, step 1):
fix phi = 1, grid-search alpha (depth), beta (width), gamma (resolution) under
alpha * beta^2 * gamma^2 ~ 2, train each scaled candidate, keep the best; then emit the
phi = 1..7 family (``nas.scaling.family``).

It is an ordinary search run by the same machinery as every other (``nas search``, Ray Tune,
the run store): the *scaling space* is a search space whose one decision is the coefficient
triple, whose spec (``ScaledSpec``) is that triple applied to a base spec, and the ``grid``
strategy walks it. Only the triples meeting the constraint (within a relative ``tolerance``)
are in the space, so every evaluated candidate meets it.

The proxy evaluator needs one adaptation (``ScalingSpace.adapt_evaluator``): the candidate's
input resolution is the data's resolution times gamma^phi, so the proxy images are resized to it
before training (a search over resolution that trained every candidate at one resolution would
measure nothing).
"""
from __future__ import annotations

import dataclasses
import itertools
import math
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from cells.counting import Cost
from search_spaces.base import Dimension, SearchSpace
from search_spaces.catalog import resolve, space_for
from search_spaces.scaling import flops_factor, scale

PREFIX = "compound:"
_KEYS = ("alpha", "beta", "gamma", "phi")


@dataclass(frozen=True)
class ScaledSpec:
    """A base spec under compound coefficients at ``phi``: depth alpha^phi, width beta^phi,
    resolution gamma^phi. String form ``compound:alpha=1.2;beta=1.1;gamma=1.15;phi=1;base=<spec>``."""

    base: Any
    alpha: float
    beta: float
    gamma: float
    phi: float = 1.0

    def __post_init__(self) -> None:
        for name in _KEYS:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(f"compound spec: {name} must be a number, got {value!r}")
            object.__setattr__(self, name, float(value))
        for name in ("alpha", "beta", "gamma"):
            if getattr(self, name) < 1.0:
                raise ValueError(f"compound spec: {name} must be >= 1 (EfficientNet's constraint), "
                                 f"got {getattr(self, name)!r}")
        if self.phi < 0:
            raise ValueError(f"compound spec: phi must be >= 0, got {self.phi!r}")
        space_for(self.base)  # TypeError for a spec no space handles

    @property
    def coefficients(self) -> tuple[float, float, float]:
        return self.alpha, self.beta, self.gamma

    @property
    def network(self) -> Any:
        """The concrete scaled spec (what is built, costed and trained)."""
        if self.phi == 0:
            return self.base
        return scale(self.base, depth=self.alpha ** self.phi, width=self.beta ** self.phi,
                     resolution=self.gamma ** self.phi)

    def to_str(self) -> str:
        head = ";".join(f"{k}={getattr(self, k)!r}" for k in _KEYS)
        return f"{PREFIX}{head};base={self.base.to_str()}"

    def __str__(self) -> str:
        return self.to_str()

    @classmethod
    def from_str(cls, text: str) -> "ScaledSpec":
        text = text.strip()
        if not text.startswith(PREFIX) or ";base=" not in text:
            raise ValueError(f"compound spec must look like '{PREFIX}alpha=A;beta=B;gamma=G;phi=P;base=SPEC', "
                             f"got {text[:60]!r}")
        head, base = text[len(PREFIX):].split(";base=", 1)
        values: dict[str, float] = {}
        for token in head.split(";"):
            key, sep, raw = token.partition("=")
            if not sep or key not in _KEYS or key in values:
                raise ValueError(f"compound spec: bad token {token!r}; accepted keys once each: {', '.join(_KEYS)}")
            try:
                values[key] = float(raw)
            except ValueError:
                raise ValueError(f"compound spec: {key}={raw!r} is not a number") from None
        missing = [k for k in ("alpha", "beta", "gamma") if k not in values]
        if missing:
            raise ValueError(f"compound spec lacks {', '.join(missing)}")
        return cls(resolve(base), **values)

    def to_dict(self) -> dict:
        return {"space": "compound", "base": self.base.to_str(), **{k: getattr(self, k) for k in _KEYS}}

    @classmethod
    def from_dict(cls, data: dict) -> "ScaledSpec":
        if not isinstance(data, dict) or data.get("space", "compound") != "compound" or "base" not in data:
            raise ValueError(f"compound spec JSON must be an object with 'base', 'alpha', 'beta', 'gamma'; "
                             f"got {data!r}")
        unknown = set(data) - {"space", "base", *_KEYS}
        if unknown:
            raise ValueError(f"compound spec JSON: unknown field(s) {sorted(unknown)}; "
                             f"accepted: base, {', '.join(_KEYS)}")
        if not isinstance(data["base"], str):
            raise ValueError(f"compound spec JSON: 'base' must be a spec string or name, got {data['base']!r}")
        return cls(resolve(data["base"]), **{k: data[k] for k in _KEYS if k in data})


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
        if not isinstance(base, str):
            raise TypeError(f"base must be a named architecture or spec string, got {type(base).__name__}")
        spec = resolve(base)
        if isinstance(spec, ScaledSpec):
            raise ValueError("base must be a network spec, not a compound spec")
        self.base = space_for(spec).retarget(spec, num_classes=num_classes, resolution=resolution)
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
        return space_for(net).cost(net, **kwargs)

    def to_graph(self, spec: ScaledSpec, view: str = "network"):
        net = spec.network
        return space_for(net).to_graph(net, view)

    def build(self, spec: ScaledSpec, **kwargs):
        net = spec.network
        return space_for(net).build(net, **kwargs)

    def retarget(self, spec: ScaledSpec, *, num_classes: int | None = None,
                 resolution: int | None = None) -> ScaledSpec:
        """The base retargeted: ``resolution`` is the base's (phi = 0) input side."""
        base = space_for(spec.base).retarget(spec.base, num_classes=num_classes, resolution=resolution)
        return dataclasses.replace(spec, base=base)

    def from_str(self, text: str) -> ScaledSpec:
        return ScaledSpec.from_str(text)

    def from_dict(self, data: dict) -> ScaledSpec:
        return ScaledSpec.from_dict(data)

    def adapt_evaluator(self, evaluator: Callable) -> Callable:
        """The hook ``nas.search.evaluators.proxy`` calls: train each candidate at its own
        resolution. Only the proxy evaluator fits (a table has no scaled networks)."""
        from nas.search.evaluators import ProxyEvaluator
        if not isinstance(evaluator, ProxyEvaluator):
            raise ValueError(f"the scaling space needs evaluation.kind 'proxy', got a {type(evaluator).__name__}")
        return ScaledProxyEvaluator(evaluator)


@dataclass(frozen=True)
class ScaledProxyEvaluator:
    """Proxy training of a ``ScaledSpec``: its base retargeted to the data, scaled, and trained on
    the data resized to the scaled resolution; the coefficients join the metrics."""

    inner: Any   # nas.search.evaluators.ProxyEvaluator

    def __call__(self, spec: ScaledSpec, *, report: Callable, seed: int):
        from nas.strategies.base import Result
        data = self.inner.data
        spec = dataclasses.replace(spec, base=space_for(spec.base).retarget(
            spec.base, num_classes=data.num_classes, resolution=data.resolution))
        net = spec.network
        resized = resize_data(data, net.resolution)
        outcome = dataclasses.replace(self.inner, data=resized)(net, report=report, seed=seed)
        if isinstance(outcome, Result):
            extra = {"alpha": spec.alpha, "beta": spec.beta, "gamma": spec.gamma, "phi": spec.phi,
                     "flops_factor": flops_factor(*spec.coefficients), "resolution": net.resolution}
            outcome = Result(outcome.reward, {**outcome.metrics, **extra})
        return outcome


def resize_data(data: Any, resolution: int) -> Any:
    """``ProxyData`` with every split resized to ``resolution`` (antialiased bilinear; the
    normalisation statistics carry over, resizing barely moves them)."""
    from nas.data.cifar import resize_uint8
    if data.resolution == resolution:
        return data
    parts = {name: getattr(data, name) for name in ("train", "val", "test")}
    return dataclasses.replace(data, **{
        name: None if part is None else dataclasses.replace(part, images=resize_uint8(part.images, resolution))
        for name, part in parts.items()})
