"""The search report's figures (matplotlib's ``Figure`` API: files only, no pyplot state and no
global backend switch, so a library call never changes the caller's matplotlib setup).

Best-so-far curves against trials and against search time (the NAS papers' standard progress
plots, e.g. Real et al. 2019 Fig. 3), and the accuracy-vs-cost scatter with its Pareto front
(MnasNet's accuracy/latency trade-off, Tan et al. 2019 Fig. 1).
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np


def _figure():
    from matplotlib.figure import Figure
    fig = Figure(figsize=(6.4, 4.0), dpi=100)
    return fig, fig.add_subplot()


def best_so_far(values: Sequence[float | None]) -> np.ndarray:
    """Running maximum, NaN until the first real value (failed trials carry None)."""
    out, best = [], float("nan")
    for v in values:
        if v is not None and np.isfinite(v) and not (best >= v):
            best = float(v)
        out.append(best)
    return np.asarray(out, dtype=float)


def progress_plot(x: Sequence[float], rewards: Sequence[float | None], xlabel: str, path: Path,
                  title: str) -> Path:
    fig, ax = _figure()
    x = np.asarray(x, dtype=float)
    ok = np.array([r is not None for r in rewards])
    if ok.any():
        ax.scatter(x[ok], [r for r in rewards if r is not None], s=14, alpha=0.5, color="tab:blue",
                   label="trial")
    if (~ok).any():
        ax.scatter(x[~ok], np.full((~ok).sum(), np.nanmin([r for r in rewards if r is not None] or
                                                          [0.0])), marker="x", color="tab:red",
                   s=18, label="failed")
    ax.step(x, best_so_far(rewards), where="post", color="tab:orange", lw=2, label="best so far")
    return _finish(fig, ax, xlabel, title, path)


def _finish(fig, ax, xlabel: str, title: str, path: Path) -> Path:
    """Axes labels, grid and legend shared by every report plot; saves and frees the figure."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel("reward")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)  # a Figure not registered with pyplot is freed with its last reference
    return path


def pareto_plot(cost: Sequence[float], rewards: Sequence[float], front: Sequence[int],
                xlabel: str, path: Path, title: str, *, target: float | None = None,
                chosen: int | None = None) -> Path:
    """The trials, their Pareto front and, under a constraint, the target line (trials beyond it
    drawn grey) and the architecture the search's own objective ranks first (MnasNet's reading)."""
    fig, ax = _figure()
    cost, rewards = np.asarray(cost, dtype=float), np.asarray(rewards, dtype=float)
    ok = cost <= target if target is not None else np.ones(len(cost), dtype=bool)
    ax.scatter(cost[ok], rewards[ok], s=14, alpha=0.5, color="tab:blue", label="trial")
    if (~ok).any():
        ax.scatter(cost[~ok], rewards[~ok], s=14, alpha=0.4, color="tab:gray", label="misses target")
    order = sorted(front, key=lambda i: cost[i])
    ax.plot(cost[order], rewards[order], "-o", color="tab:orange", ms=5, lw=1.5,
            label="Pareto front")
    if target is not None:
        ax.axvline(target, color="tab:red", ls="--", lw=1, label=f"target {target:g}")
    if chosen is not None:
        ax.scatter([cost[chosen]], [rewards[chosen]], marker="*", s=160, color="tab:green", zorder=5,
                   label="ranked #1")
    if np.all(cost > 0) and cost.max() / max(cost.min(), 1e-12) > 20:
        ax.set_xscale("log")
    return _finish(fig, ax, xlabel, title, path)
