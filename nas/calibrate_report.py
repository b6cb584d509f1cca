"""The calibration's numbers and files: rank-correlation matrices (Spearman, Kendall) between
every pair of evaluation columns, seed-to-seed noise of the training fidelities, the share of the
reference's best cells a rung keeps at a given keep fraction (what a ladder's ``keep`` loses), a
markdown table, a JSON and a heat-map PNG (matplotlib's ``Figure`` API, no pyplot state).
Abdelfattah et al. 2021 report the same statistics for zero-cost proxies on NAS-Bench-201.
"""
from __future__ import annotations

import math
from itertools import combinations
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

KEEPS = (0.1, 0.25, 0.5)   # keep fractions at which top-recall is reported
TOP = 0.1                  # "the best cells": the reference's top 10%


def _pairwise(stat, x: Sequence[float], y: Sequence[float]) -> float:
    """``stat`` on the candidates both columns scored (a failed training is NaN); NaN below 3."""
    a, b = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    ok = np.isfinite(a) & np.isfinite(b)
    return float(stat(a[ok], b[ok])) if ok.sum() >= 3 else math.nan


def top_recall(pred: Sequence[float], ref: Sequence[float], keep: float, top: float = TOP) -> float:
    """Share of the ``top`` fraction of candidates by ``ref`` that are in the ``keep`` fraction by ``pred``."""
    p, r = np.asarray(pred, dtype=float), np.asarray(ref, dtype=float)
    p = np.where(np.isfinite(p), p, -np.inf)
    n = len(r)
    best = set(np.argsort(-r, kind="mergesort")[: max(1, round(top * n))])
    kept = set(np.argsort(-p, kind="mergesort")[: max(1, round(keep * n))])
    return len(best & kept) / len(best)


def seed_noise(per_seed: Sequence[Sequence[float]]) -> dict[str, float]:
    """Mean over seed pairs of Spearman between seeds and of mean |delta accuracy|."""
    from nas.proxies import spearman
    pairs = list(combinations(range(len(per_seed)), 2))
    if not pairs:
        return {}
    rhos = [_pairwise(spearman, per_seed[i], per_seed[j]) for i, j in pairs]
    deltas = [float(np.nanmean(np.abs(np.subtract(per_seed[i], per_seed[j])))) for i, j in pairs]
    return {"seeds": len(per_seed), "spearman": float(np.mean(rhos)), "mean_abs_delta_acc": float(np.mean(deltas))}


def reference_column(columns: Mapping[str, Mapping[str, Any]]) -> str:
    """What the others are judged against: the NB201 table's validation column, else the
    most expensive training fidelity, else the last column."""
    if "nb201_12ep_cifar10_valid" in columns:
        return "nb201_12ep_cifar10_valid"
    trained = [k for k, v in columns.items() if v["kind"] == "train"]
    if trained:
        return max(trained, key=lambda k: float(np.sum(columns[k]["cpu_s"])))
    return list(columns)[-1]


def summarize(meta: Mapping[str, Any], columns: Mapping[str, Mapping[str, Any]],
              runs: Mapping[str, Sequence[Sequence[float]]]) -> dict[str, Any]:
    from nas.proxies import kendall, spearman
    names = list(columns)
    matrices = {stat.__name__: {a: {b: (1.0 if a == b else _pairwise(stat, columns[a]["values"], columns[b]["values"]))
                                    for b in names} for a in names} for stat in (spearman, kendall)}
    ref = reference_column(columns)
    recall = {name: {f"keep_{k:g}": top_recall(columns[name]["values"], columns[ref]["values"], k) for k in KEEPS}
              for name in names if name != ref}
    cols = {name: {**{k: v for k, v in col.items() if k != "cpu_s"},
                   "cpu_s_per_candidate": float(np.sum(col["cpu_s"])) / max(1, len(col["values"])),
                   } for name, col in columns.items()}
    return {**meta, "reference": ref, "columns": cols, "spearman": matrices["spearman"],
            "kendall": matrices["kendall"], "seed_noise": {k: seed_noise(v) for k, v in runs.items()},
            "top_recall": {"top": TOP, "reference": ref, "recall": recall},
            "per_seed": {k: [list(map(float, s)) for s in v] for k, v in runs.items()}}


def _f(value: float) -> str:
    return "nan" if value is None or not math.isfinite(value) else f"{value:.3f}"


def format_markdown(result: Mapping[str, Any]) -> str:
    """The report: each column against the reference, the Spearman matrix, the seed noise."""
    names, ref = list(result["columns"]), result["reference"]
    lines = [f"# Calibration: {result['experiment']} ({result['space']}), N={result['n']} candidates, "
             f"seed {result['seed']}", "",
             f"Reference: `{ref}`. Top-recall: share of the reference's top {TOP:.0%} kept by a rung "
             "that keeps the given fraction.", "",
             "| column | Spearman vs ref | Kendall vs ref | keep 0.1 | keep 0.25 | keep 0.5 | CPU s/candidate "
             "| fallbacks |",
             "|---|---|---|---|---|---|---|---|"]
    for name in names:
        col, rec = result["columns"][name], result["top_recall"]["recall"].get(name, {})
        lines.append(f"| {name} | {_f(result['spearman'][name][ref])} | {_f(result['kendall'][name][ref])} | "
                     + " | ".join(_f(rec.get(f"keep_{k:g}", math.nan)) for k in KEEPS)
                     + f" | {col['cpu_s_per_candidate']:.3f} | {col['fallbacks']} |")
    lines += ["", "Spearman (lower left) / Kendall (upper right):", "",
              "| | " + " | ".join(f"{i}" for i in range(len(names))) + " |",
              "|---|" + "---|" * len(names)]
    for i, a in enumerate(names):
        cells = [_f(result["kendall"][a][b]) if j > i else ("1" if j == i else _f(result["spearman"][a][b]))
                 for j, b in enumerate(names)]
        lines.append(f"| {i}: {a} | " + " | ".join(cells) + " |")
    if result["seed_noise"]:
        lines += ["", "Seed-to-seed noise of the training fidelities:", "",
                  "| fidelity | seeds | Spearman between seeds | mean abs delta acc |", "|---|---|---|---|"]
        for name, noise in result["seed_noise"].items():
            if noise:
                lines.append(f"| {name} | {noise['seeds']} | {_f(noise['spearman'])} | "
                             f"{_f(noise['mean_abs_delta_acc'])} |")
    lines += ["", f"CPU {result['cpu_seconds']:.0f} s, wall {result['wall_seconds']:.0f} s, torch {result['torch']}."]
    return "\n".join(lines) + "\n"


def plot_heatmap(result: Mapping[str, Any], path: Path) -> None:
    from matplotlib.figure import Figure
    names = list(result["columns"])
    labels = [n if len(n) <= 36 else n[:33] + "..." for n in names]
    side = 1.0 + 0.45 * len(names)  # one heat-map's side in inches, plus room for the labels
    fig = Figure(figsize=(2 * side + 4.5, side + 2.5), dpi=100, layout="constrained")
    axes = fig.subplots(1, 2)
    for ax, stat in zip(axes, ("spearman", "kendall")):
        m = np.array([[result[stat][a][b] for b in names] for a in names], dtype=float)
        image = ax.imshow(m, vmin=-1, vmax=1, cmap="RdBu_r")
        ax.set_xticks(range(len(names)), labels=labels, rotation=60, ha="right", fontsize=7)
        ax.set_yticks(range(len(names)), labels=labels if stat == "spearman" else [], fontsize=7)
        for i in range(len(names)):
            for j in range(len(names)):
                ax.text(j, i, "" if not math.isfinite(m[i, j]) else f"{m[i, j]:.2f}", ha="center",
                        va="center", fontsize=6)
        ax.set_title(f"{stat.capitalize()} (N={result['n']})", fontsize=9)
    fig.colorbar(image, ax=axes, shrink=0.8)
    fig.savefig(path, format="png")  # the path may be a temporary name without .png


def write_outputs(result: Mapping[str, Any], out_dir: Path) -> dict[str, Path]:
    """``calibration.md``, ``calibration.json`` and ``calibration.png`` in ``out_dir``."""
    from nas.io import atomic_write, write_json
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"markdown": out_dir / "calibration.md", "json": out_dir / "calibration.json",
             "png": out_dir / "calibration.png"}
    atomic_write(paths["markdown"], lambda p: p.write_text(format_markdown(result)))
    write_json(paths["json"], result)
    atomic_write(paths["png"], lambda p: plot_heatmap(result, p))
    return paths
