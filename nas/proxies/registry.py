"""The zero-cost proxy registry and the one entry point that scores a spec.

``score(name, spec, batches, seed=...)`` builds the spec's network with its space's builder under
a seeded torch generator, runs the proxy on that private network and returns a float; the global
torch RNG, the intra-op thread count and the grad mode are as before afterwards. ``score_model``
does the same on a network the caller built, working on a deep copy: the caller's model keeps
its mode, gets no ``.grad`` and no BN-statistics update. Scores are deterministic for a given
seed, batches and intra-op thread count (pass ``threads`` to pin it: CPU reductions are ordered
per thread count, which moves e.g. ZiCo in the sixth digit).

NaN-free fallback: a proxy that yields a non-finite value (a singular NASWOT kernel, a zero
synflow sum, a constant Jacobian), or raises a numerical RuntimeError/ArithmeticError inside
torch, scores ``FALLBACK_SCORE`` (-1e30, below every real score, so such a network ranks last)
and ``ProxyScore.fallback`` is True with the reason. This happens on degenerate networks, e.g. an
NAS-Bench-201 cell whose six ops are all ``none`` (its output is constant). Errors in the
caller's arguments (unknown proxy, malformed batches) are ValueError/TypeError, never a fallback.
"""
from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import torch
from torch import nn

from nas.proxies import activation, gradient, zico
from nas.proxies.common import Batch

FALLBACK_SCORE = -1e30


@dataclass(frozen=True)
class Proxy:
    """``kind`` 'spec': ``fn(spec, space) -> float`` from the analytic cost, no network built;
    'model': ``fn(model, batches, *, seed) -> float`` on an untrained private network."""

    name: str
    kind: str
    fn: Callable[..., float]
    paper: str


def _params(spec: Any, space: Any) -> float:
    return float(space.cost(spec).params)


def _macs(spec: Any, space: Any) -> float:
    return float(space.cost(spec).macs)


PROXIES: Mapping[str, Proxy] = MappingProxyType({p.name: p for p in (
    Proxy("params", "spec", _params, "baseline: analytic parameter count"),
    Proxy("macs", "spec", _macs, "baseline: analytic multiply-accumulates"),
    Proxy("grad_norm", "model", gradient.grad_norm, "Abdelfattah et al. 2021"),
    Proxy("snip", "model", gradient.snip, "Lee et al. 2019; Abdelfattah et al. 2021"),
    Proxy("grasp", "model", gradient.grasp, "Wang et al. 2020; Abdelfattah et al. 2021"),
    Proxy("fisher", "model", gradient.fisher, "Turner et al. 2020; Abdelfattah et al. 2021"),
    Proxy("synflow", "model", gradient.synflow, "Tanaka et al. 2020; Abdelfattah et al. 2021"),
    Proxy("jacob_cov", "model", activation.jacob_cov, "Mellor et al. 2020 v1; Abdelfattah et al. 2021"),
    Proxy("naswot", "model", activation.naswot, "Mellor et al. 2021"),
    Proxy("zen", "model", activation.zen, "Lin et al. 2021"),
    Proxy("zico", "model", zico.zico, "Li et al. 2023"),
    Proxy("meco", "model", activation.meco, "Jiang et al. 2023"),
)})


@dataclass(frozen=True)
class ProxyScore:
    value: float
    fallback: bool
    reason: str | None
    seconds: float


def names() -> tuple[str, ...]:
    return tuple(PROXIES)


def get(name: str) -> Proxy:
    if name not in PROXIES:
        raise ValueError(f"unknown zero-cost proxy {name!r}; accepted: {', '.join(PROXIES)}")
    return PROXIES[name]


def check_batches(batches: Sequence[Batch]) -> list[Batch]:
    """At the boundary: a non-empty sequence of (float NCHW inputs, int64 labels), >= 2 samples each
    (NASWOT, jacob_cov and ZiCo compare samples)."""
    if isinstance(batches, tuple) and len(batches) == 2 and torch.is_tensor(batches[0]):
        raise TypeError("batches must be a sequence of (inputs, labels) pairs; wrap a single batch in a list")
    out = list(batches)
    if not out:
        raise ValueError("batches must hold at least one (inputs, labels) pair, got none")
    for i, pair in enumerate(out):
        if not (isinstance(pair, (tuple, list)) and len(pair) == 2):
            raise TypeError(f"batches[{i}] must be an (inputs, labels) pair, got {type(pair).__name__}")
        x, y = pair
        if not (torch.is_tensor(x) and x.is_floating_point() and x.dim() == 4):
            raise TypeError(f"batches[{i}] inputs must be a float (N, C, H, W) tensor, got "
                            f"{getattr(x, 'dtype', type(x).__name__)} {tuple(getattr(x, 'shape', ()))}")
        if not (torch.is_tensor(y) and y.dtype == torch.int64 and y.shape == (x.shape[0],)):
            raise TypeError(f"batches[{i}] labels must be int64 of shape ({x.shape[0]},)")
        if x.shape[0] < 2:
            raise ValueError(f"batches[{i}] holds {x.shape[0]} sample(s); proxies need at least 2")
    return out


def _run(proxy: Proxy, make: Callable[[], nn.Module], batches: list[Batch], seed: int,
         threads: int | None) -> ProxyScore:
    """Build and score inside a forked RNG with the thread count and grad mode restored after."""
    threads_before = torch.get_num_threads()
    start = time.perf_counter()
    value, reason = math.nan, None
    try:
        if threads is not None:
            torch.set_num_threads(threads)
        with torch.random.fork_rng(devices=[]), torch.enable_grad():
            torch.manual_seed(seed)
            model = make().train()  # train mode: BN on batch statistics, as every reference does
            value = float(proxy.fn(model, batches, seed=seed))
    except (RuntimeError, ArithmeticError) as err:
        reason = f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
    finally:
        torch.set_num_threads(threads_before)
    seconds = time.perf_counter() - start
    if math.isfinite(value):
        return ProxyScore(value, False, None, seconds)
    return ProxyScore(FALLBACK_SCORE, True, reason or f"non-finite {proxy.name} value ({value})", seconds)


def score_detail(name: str, spec: Any, batches: Sequence[Batch], *, seed: int = 0, space: Any = None,
                 build_kwargs: Mapping[str, Any] | None = None, threads: int | None = None) -> ProxyScore:
    """Score ``spec`` with proxy ``name``; ``space`` defaults to the catalog's space for the spec."""
    proxy = get(name)
    if space is None:
        from search_spaces.catalog import space_for

        space = space_for(spec)
    if proxy.kind == "spec":
        start = time.perf_counter()
        return ProxyScore(float(proxy.fn(spec, space)), False, None, time.perf_counter() - start)
    kwargs = dict(build_kwargs or {})
    return _run(proxy, lambda: space.build(spec, **kwargs), check_batches(batches), seed, threads)


def score(name: str, spec: Any, batches: Sequence[Batch], *, seed: int = 0, space: Any = None,
          build_kwargs: Mapping[str, Any] | None = None, threads: int | None = None) -> float:
    """The proxy's score of ``spec`` (higher = predicted better); ``FALLBACK_SCORE`` if degenerate."""
    return score_detail(name, spec, batches, seed=seed, space=space, build_kwargs=build_kwargs,
                        threads=threads).value


def _private_copy(model: nn.Module) -> nn.Module:
    clone = copy.deepcopy(model)
    for p in clone.parameters():
        p.grad = None
    return clone


def score_model(name: str, model: nn.Module, batches: Sequence[Batch], *, seed: int = 0,
                threads: int | None = None) -> ProxyScore:
    """Score a network the caller built (a deep copy of it: the original is left untouched).
    Spec-level proxies (params, macs) need the spec: use ``score``."""
    proxy = get(name)
    if proxy.kind != "model":
        raise ValueError(f"proxy {name!r} is computed from the spec's analytic cost; call score(name, spec, ...)")
    return _run(proxy, lambda: _private_copy(model), check_batches(batches), seed, threads)


def combine(proxies: Sequence[str], specs: Sequence[Any], batches: Sequence[Batch], *, seed: int = 0,
            space: Any = None, threads: int | None = None) -> list[float]:
    """Rank combination over a candidate set: each spec's mean rank across ``proxies`` (see
    ``nas.proxies.combine.rank_combine``; higher = better). Fallback scores rank last."""
    from nas.proxies.combine import rank_combine

    if not proxies:
        raise ValueError(f"combine needs at least one proxy; accepted: {', '.join(PROXIES)}")
    for name in proxies:
        get(name)
    table = {name: [score(name, s, batches, seed=seed, space=space, threads=threads) for s in specs]
             for name in proxies}
    return [float(v) for v in rank_combine(table)]
