"""Zero-cost evaluation: a candidate's score is a training-free proxy (``nas.proxies``) of its
untrained network on a few real batches from the search's own training images, so thousands of
candidates cost what a handful of trainings would (Mellor et al. 2021, NASWOT; Abdelfattah et al.
2021, "Zero-Cost Proxies for Lightweight NAS").

One proxy gives its raw score. Several are combined per candidate as the mean of the candidate's
percentile ranks among a fixed reference sample of the space (random specs scored once, when the
search is planned): the rank combination of Abdelfattah et al. needs a population, and this one
is fixed up front so every candidate's score is comparable across trials, workers and resumes.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from nas.strategies.base import Failure, Outcome, Result


@dataclass(frozen=True)
class ZeroCostEvaluator:
    """Picklable ``(spec, *, report, seed) -> Outcome`` scoring ``spec`` with ``proxies``."""

    proxies: tuple[str, ...]
    batches: tuple           # ((float NCHW inputs, int64 labels), ...) normalized training images
    num_classes: int
    resolution: int
    reference: tuple = ()    # per proxy: sorted reference scores (only when several proxies)
    threads: int = 1
    space: Any = None
    width: float | None = None  # score the network narrowed to this width (nas.evaluate.narrow)

    def __call__(self, spec: Any, *, report: Callable, seed: int) -> Outcome:
        from nas.proxies import score_detail
        start = time.process_time()
        try:
            space, spec = self._prepare(spec)
            scored = self._narrow(space, spec)
        except (ValueError, TypeError) as err:
            return Failure(f"spec does not fit the data ({self.num_classes} classes, {self.resolution}px): {err}")
        raw = {}
        for name in self.proxies:
            detail = score_detail(name, scored, list(self.batches), seed=seed, space=space, threads=self.threads)
            raw[name] = detail.value
        reward = raw[self.proxies[0]] if len(self.proxies) == 1 else combined_rank(raw, self.proxies, self.reference)
        metrics = {f"zc_{name}": value for name, value in raw.items()}
        cost = space.cost(spec)  # the candidate's; a narrowed one's cost is recorded beside it
        metrics.update(params=cost.params, macs=cost.macs, cpu_s=time.process_time() - start)
        if self.width is not None:
            trained = space.cost(scored)
            metrics.update(width=float(self.width), trained_params=trained.params, trained_macs=trained.macs)
        report(1, {"val_acc": reward, **metrics})
        return Result(float(reward), metrics)

    def _prepare(self, spec: Any) -> tuple[Any, Any]:
        from types import SimpleNamespace

        from nas.evaluate import prepare
        task = SimpleNamespace(num_classes=self.num_classes, resolution=self.resolution)  # what prepare reads
        return prepare(spec, task, self.space)

    def _narrow(self, space: Any, spec: Any) -> Any:
        from nas.evaluate import narrow
        return narrow(space, spec, self.width)


def combined_rank(raw: dict[str, float], proxies: Sequence[str], reference: Sequence[Sequence[float]]) -> float:
    """Mean over proxies of the fraction of reference scores below the candidate's (ties half)."""
    ranks = []
    for name, ref in zip(proxies, reference):
        ref = np.asarray(ref, dtype=float)
        below = np.searchsorted(ref, raw[name], side="left")
        equal = np.searchsorted(ref, raw[name], side="right") - below
        ranks.append((below + 0.5 * equal) / max(1, len(ref)))
    return float(np.mean(ranks))


def zero_cost_batches(data: Any, batch_size: int, count: int, seed: int) -> tuple:
    """``count`` seeded batches of ``batch_size`` training images, normalized as the trainer does."""
    import torch
    from nas.data.augment import normalize

    train = data.train
    n = len(train.labels)
    if batch_size * count > n:
        raise ValueError(f"config key 'evaluation.zero_cost.batch_size': {batch_size} x {count} batch(es) "
                         f"needs {batch_size * count} training images, the data has {n}")
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))[: batch_size * count]
    images = normalize(train.images[order], train.mean, train.std)
    labels = train.labels[order]
    return tuple((images[i * batch_size:(i + 1) * batch_size], labels[i * batch_size:(i + 1) * batch_size])
                 for i in range(count))


def make_zero_cost(config: Any, space: Any, data: Any, threads: int, width: float | None = None) -> ZeroCostEvaluator:
    """The evaluator an experiment's ``evaluation.zero_cost`` section describes; unknown proxies
    and impossible batch sizes fail here, before Ray starts or a run directory is written. At a
    ``width``, candidates and the reference sample alike are scored narrowed."""
    from nas.proxies import names, score_detail

    zc = config.evaluation.zero_cost
    unknown = [p for p in zc.proxy if p not in names()]
    if unknown or not zc.proxy:
        raise ValueError(f"config key 'evaluation.zero_cost.proxy': bad value {list(zc.proxy)!r}; accepted: "
                         f"one or more of {', '.join(names())}")
    batches = zero_cost_batches(data, zc.batch_size, zc.batches, config.seed)
    evaluator = ZeroCostEvaluator(tuple(zc.proxy), batches, data.num_classes, data.resolution,
                                  threads=threads, space=space, width=width)
    if len(zc.proxy) == 1:
        return evaluator
    rng = np.random.default_rng(np.random.SeedSequence([config.seed, 201]))
    scored: list[list[float]] = [[] for _ in zc.proxy]
    for _ in range(zc.reference):
        scoring_space, spec = evaluator._prepare(space.sample(rng))
        spec = evaluator._narrow(scoring_space, spec)
        for i, name in enumerate(zc.proxy):
            scored[i].append(score_detail(name, spec, list(batches), seed=config.seed, space=space,
                                          threads=threads).value)
    return ZeroCostEvaluator(tuple(zc.proxy), batches, data.num_classes, data.resolution,
                             tuple(tuple(sorted(s)) for s in scored), threads, space, width)
