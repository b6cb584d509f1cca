"""The spec of EfficientNet's compound scaling (Tan & Le 2019, section 3.3): a base network spec
under coefficients (alpha, beta, gamma) at compound coefficient phi. String form
``compound:alpha=1.2;beta=1.1;gamma=1.15;phi=1;base=<spec>``; JSON ``{"space": "compound", ...}``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from search_spaces.scaling import scale

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
        from search_spaces.catalog import space_for
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
        from search_spaces.catalog import resolve
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
        from search_spaces.catalog import resolve
        return cls(resolve(data["base"]), **{k: data[k] for k in _KEYS if k in data})


