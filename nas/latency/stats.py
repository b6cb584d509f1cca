"""Agreement between predicted and measured latencies, as HELP (Lee et al. 2021) and OFA (Cai et
al. 2020) report it: Spearman rank correlation and the median absolute percentage error."""
from __future__ import annotations

from typing import Sequence

import numpy as np


def ranks(values: Sequence[float]) -> np.ndarray:
    """Ranks 1..n, ties sharing their average rank."""
    x = np.asarray(values, dtype=float)
    order = np.argsort(x, kind="mergesort")
    out = np.empty(len(x))
    out[order] = np.arange(1, len(x) + 1)
    for value in np.unique(x):
        tied = x == value
        if tied.sum() > 1:
            out[tied] = out[tied].mean()
    return out


def spearman(a: Sequence[float], b: Sequence[float]) -> float:
    if len(a) != len(b) or len(a) < 2:
        raise ValueError(f"spearman needs two equal sequences of >= 2 values, got {len(a)} and {len(b)}")
    return float(np.corrcoef(ranks(a), ranks(b))[0, 1])


def mdape(predicted: Sequence[float], measured: Sequence[float]) -> float:
    """Median of |predicted - measured| / measured, in percent."""
    p, m = np.asarray(predicted, dtype=float), np.asarray(measured, dtype=float)
    return float(np.median(np.abs(p - m) / m) * 100.0)
