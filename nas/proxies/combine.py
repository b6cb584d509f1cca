"""Rank statistics for proxies: average ranks, Spearman's rho and Kendall's tau-b (numpy only),
and the rank combination of several proxies.

A rank combination scores each candidate by the mean over proxies of its rank within the
candidate set (1 = lowest score, ties share the average rank), so proxies on wildly different
scales (a log-determinant, a parameter count) weigh equally. Abdelfattah et al. 2021 and
Krishnakumar et al. 2022 ("NAS-Bench-Suite-Zero") show such ensembles rank more faithfully
than most single proxies.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np


def average_ranks(values: Sequence[float]) -> np.ndarray:
    """Ranks 1..n (ascending), ties given the mean of the ranks they span."""
    a = np.asarray(values, dtype=np.float64)
    order = np.argsort(a, kind="mergesort")
    ranks = np.empty(len(a), dtype=np.float64)
    ranks[order] = np.arange(1, len(a) + 1, dtype=np.float64)
    _, inverse, counts = np.unique(a, return_inverse=True, return_counts=True)
    sums = np.bincount(inverse, weights=ranks)
    return sums[inverse] / counts[inverse]


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """Spearman's rho: the Pearson correlation of the average ranks (NaN for a constant input)."""
    rx, ry = average_ranks(x), average_ranks(y)
    if len(rx) != len(ry):
        raise ValueError(f"spearman needs equal lengths, got {len(rx)} and {len(ry)}")
    rx, ry = rx - rx.mean(), ry - ry.mean()
    denom = np.sqrt((rx * rx).sum() * (ry * ry).sum())
    return float((rx * ry).sum() / denom) if denom > 0 else float("nan")


def kendall(x: Sequence[float], y: Sequence[float]) -> float:
    """Kendall's tau-b (tie-corrected), by direct pair counting (O(n^2); n = 1000 is 10^6 pairs)."""
    a, b = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if len(a) != len(b):
        raise ValueError(f"kendall needs equal lengths, got {len(a)} and {len(b)}")
    upper = np.triu_indices(len(a), k=1)
    da = np.sign(a[:, None] - a[None, :])[upper]
    db = np.sign(b[:, None] - b[None, :])[upper]
    denom = np.sqrt(np.count_nonzero(da) * np.count_nonzero(db))
    return float((da * db).sum() / denom) if denom > 0 else float("nan")


def rank_combine(scores: Mapping[str, Sequence[float]]) -> np.ndarray:
    """Mean over proxies of each candidate's average rank (higher = better), given
    ``{proxy: scores of the same candidates in the same order}``."""
    if not scores:
        raise ValueError("rank_combine needs at least one proxy's scores")
    lengths = {name: len(values) for name, values in scores.items()}
    if len(set(lengths.values())) != 1:
        raise ValueError(f"every proxy must score the same candidates; got lengths {lengths}")
    return np.mean([average_ranks(values) for values in scores.values()], axis=0)
