"""Calibrate every zero-cost proxy on random NAS-Bench-201 cells against the shared 12-epoch table.

Each proxy scores the same seeded random cells (the benchmark's macro network: C=16, N=5, 10
classes, 32 px) on one real CIFAR-10 batch (64 training images of the JPEG export); Spearman and
Kendall correlations against the table's ``cifar10_valid`` and ``cifar10_test`` columns, with
CPU-seconds per cell, are printed beside the published figures (Abdelfattah et al. 2021; Mellor
et al. 2021; Li et al. 2023; Jiang et al. 2023), which are against the 200-epoch accuracies.
Baselines (the issue's): over several seeds of N sampled cells, the table accuracy of the cell
picked by most parameters, by best NASWOT, and by a rank combination, looked up after choosing.

    PYTHONPATH=. python benchmarks/proxy_calibration_nb201.py --workers 2

Every score is appended to ``OUT.scores.jsonl`` as it arrives, so a killed run resumes where it
stopped and the per-cell scores stay for later analysis (e.g. another rank combination).
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import platform
import time
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import torch

from nas import proxies
from search_spaces.catalog import resolve, space_for

ROOT = Path(__file__).resolve().parents[1]
# Every proxy on the same N cells (the issue asks for 1,000): ~5 CPU-s per cell for all twelve on
# one core, GraSP's double backward a third of it.
PROXIES = ("params", "macs", "naswot", "synflow", "meco", "zen", "jacob_cov", "grad_norm", "snip", "fisher",
           "zico", "grasp")
# Published Spearman on NAS-Bench-201 CIFAR-10 (against 200-epoch test accuracy).
PUBLISHED = {"synflow": (0.74, "Abdelfattah et al. 2021"), "jacob_cov": (0.73, "Abdelfattah et al. 2021"),
             "snip": (0.58, "Abdelfattah et al. 2021"), "grad_norm": (0.58, "Abdelfattah et al. 2021"),
             "grasp": (0.48, "Abdelfattah et al. 2021"), "fisher": (0.36, "Abdelfattah et al. 2021"),
             "zico": (0.80, "Li et al. 2023"), "meco": (0.89, "Jiang et al. 2023"),
             "naswot": (0.78, "Mellor et al. 2021")}
# Why a measured Spearman differs from the published one by more than 0.05 (written after the run).
GAP_NOTES: dict[str, str] = {
    "all": ("every published figure is against the 200-epoch accuracy; ours is against the 12-epoch table, "
            "which ranks cells differently: large cells without a skip from the input still learn slowly at 12 "
            "epochs (the most-parameters pick scores ~84 here, 93.7 published at 200), so #params/MACs reach only "
            "0.56 here (test column) and 0.46 against cifar10_valid, and every proxy that tracks size loses "
            "with them: synflow, snip, grad_norm, fisher, grasp, ZiCo. We also score one batch of 64 images with "
            "one initialisation (the papers average seeds and use 64-128 images). At N=1,000 a 95% interval is "
            "about +-0.04, so sampling explains none of the gaps above 0.05."),
    "jacob_cov": "+0.04: within 0.05 of the paper; it does not track size, so the table's bias spares it.",
    "meco": ("-0.16: MeCo reads the feature maps of a single sample (the paper's 0.89 is against 200-epoch "
             "accuracy with its own sample and seed); it still ranks second here and pairs best with jacob_cov."),
    "naswot": ("-0.13: the paper used 128 images against our 64; 9 cells with a constant output take the "
               "fallback. Its best-of-1,000 pick is still 0.5 points better than most-params on the table."),
    "zico": ("-0.22: ZiCo (mean over std of per-batch gradients) follows size like synflow here; the paper "
             "averages over several batches where we use one, so its std term is noisier."),
    "synflow, snip, grad_norm, fisher, grasp": ("-0.08 to -0.18: saliency sums grow with the parameter count, "
                                                "and size is what the 12-epoch table under-rewards (see all)."),
}
# Rank combinations scored on the same cells: the baselines' (chosen before measuring: two cheap
# proxies plus the cost baseline) and the ladders' rung 0 (jacob_cov + MeCo, the best pair here).
COMBO = ("naswot", "synflow", "macs")
COMBOS = (COMBO, ("jacob_cov", "meco"))
PROXY_SEED = 0


def find_data() -> Path:
    for parent in ROOT.parents:
        if (parent / "shared" / "data").is_dir():
            return parent / "shared" / "data"
    raise SystemExit("shared/data not found beside the repository")


def load_batch(data_dir: Path, cache_dir: str) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """64 real CIFAR-10 training images (8 per class minus a stratified 20% held out)."""
    from nas.data import DataConfig, load_proxy_data
    from nas.data.augment import normalize

    data = load_proxy_data(DataConfig(dataset=str(data_dir / "cifar10-jpeg.tar.gz"), per_class=8,
                                      val_fraction=0.2, cache_dir=cache_dir))
    return [(normalize(data.train.images, data.train.mean, data.train.std), data.train.labels)]


def load_table(data_dir: Path) -> dict[str, dict[str, float]]:
    with open(data_dir / "nasbench201-12epoch.csv", newline="") as handle:
        return {row["arch_str"]: {"index": int(row["index"]), "cifar10_valid": float(row["cifar10_valid"]),
                                  "cifar10_test": float(row["cifar10_test"])} for row in csv.DictReader(handle)}


_BATCH: list = []


def _init_worker(data_dir: str, cache_dir: str) -> None:
    torch.set_num_threads(1)  # one core per worker: tiny batches lose to thread synchronisation
    _BATCH[:] = load_batch(Path(data_dir), cache_dir)


def _score(job: tuple[str, str]) -> tuple[str, str, float, bool, float]:
    name, arch = job
    spec = resolve(arch)
    start = time.process_time()
    result = proxies.score_detail(name, spec, _BATCH, seed=PROXY_SEED, threads=1)
    return name, arch, result.value, result.fallback, time.process_time() - start


def sample_cells(seed: int, n: int) -> list[str]:
    space = space_for(resolve("nb201_resnet"))
    rng = np.random.default_rng(seed)
    return [space.sample(rng).cell_str() for _ in range(n)]


def load_cache(path: Path) -> dict[tuple[str, str], tuple]:
    """Scores of an earlier (possibly killed) run; a torn last line is dropped."""
    out: dict[tuple[str, str], tuple] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue
            out[(row["proxy"], row["arch"])] = (row["value"], row["fallback"], row["cpu_s"])
    return out


def run_jobs(jobs: list[tuple[str, str]], args: argparse.Namespace) -> dict[tuple[str, str], tuple]:
    """Score (proxy, cell) pairs on ``workers`` processes, in the given order, skipping pairs the
    cache holds; each score is a pure function of the pair, so shared pairs are scored once."""
    cache_path = Path(args.out + ".scores.jsonl")
    out = load_cache(cache_path)
    todo = [job for job in dict.fromkeys(jobs) if job not in out]
    print(f"{len(out)} scores cached, {len(todo)} to compute on {args.workers} workers", flush=True)
    start = time.perf_counter()
    with get_context("spawn").Pool(args.workers, _init_worker, (str(args.data), args.cache_dir)) as pool, \
            open(cache_path, "a") as cache:
        for k, (name, arch, value, fallback, cpu) in enumerate(pool.imap(_score, todo, chunksize=4)):
            out[(name, arch)] = (value, fallback, cpu)
            cache.write(json.dumps({"proxy": name, "arch": arch, "value": value, "fallback": fallback,
                                    "cpu_s": cpu}) + "\n")
            if (k + 1) % 200 == 0:
                cache.flush()
                rate = (time.perf_counter() - start) / (k + 1)
                print(f"  {k + 1}/{len(todo)} scores, ETA {rate * (len(todo) - k - 1) / 60:.0f} min", flush=True)
    return out


def calibration(cells: list[str], n_per: dict[str, int], scores: dict, table: dict) -> dict:
    rows = {}
    for name, n in n_per.items():
        sub = cells[:n]
        values = [scores[(name, a)][0] for a in sub]
        row = {"n": n, "fallbacks": sum(scores[(name, a)][1] for a in sub),
               "cpu_s_per_cell": float(np.mean([scores[(name, a)][2] for a in sub]))}
        for col in ("cifar10_valid", "cifar10_test"):
            truth = [table[a][col] for a in sub]
            row[f"spearman_{col}"] = proxies.spearman(values, truth)
            row[f"kendall_{col}"] = proxies.kendall(values, truth)
        rows[name] = row
    for combo in COMBOS:
        n = min(n_per[p] for p in combo)
        combined = proxies.rank_combine({p: [scores[(p, a)][0] for a in cells[:n]] for p in combo})
        rows["combo(" + "+".join(combo) + ")"] = {
            "n": n, "fallbacks": 0, "cpu_s_per_cell": sum(rows[p]["cpu_s_per_cell"] for p in combo),
            **{f"{stat.__name__}_{col}": stat(combined, [table[a][col] for a in cells[:n]])
               for stat in (proxies.spearman, proxies.kendall) for col in ("cifar10_valid", "cifar10_test")}}
    return rows


def baselines(samples: dict[int, list[str]], scores: dict, table: dict) -> dict:
    """Per seed: the pick of each rule (first sampled wins a tie), then its table accuracy."""
    rules = {"most_params": lambda cells: np.array([scores[("params", a)][0] for a in cells]),
             "best_naswot": lambda cells: np.array([scores[("naswot", a)][0] for a in cells]),
             "combo": lambda cells: proxies.rank_combine({p: [scores[(p, a)][0] for a in cells] for p in COMBO}),
             "oracle_12epoch_valid": lambda cells: np.array([table[a]["cifar10_valid"] for a in cells])}
    out: dict = {}
    for rule, key in rules.items():
        picks = []
        for seed, cells in samples.items():
            arch = cells[int(np.argmax(key(cells)))]
            picks.append({"seed": seed, "index": table[arch]["index"], "arch": arch, **{
                col: table[arch][col] for col in ("cifar10_valid", "cifar10_test")}})
        tests = [p["cifar10_test"] for p in picks]
        out[rule] = {"picks": picks, "cifar10_test_mean": float(np.mean(tests)),
                     "cifar10_test_std": float(np.std(tests)),
                     "cifar10_valid_mean": float(np.mean([p["cifar10_valid"] for p in picks]))}
    return out


def interval(rho: float, n: int) -> str:
    """95% interval of a Spearman rho by the Fisher z-transform, var 1.06 / (n - 3) (Fieller et al. 1957)."""
    if n <= 3 or not math.isfinite(rho) or abs(rho) >= 1:
        return ""
    half = 1.96 * math.sqrt(1.06 / (n - 3))
    return f"[{math.tanh(math.atanh(rho) - half):.2f}, {math.tanh(math.atanh(rho) + half):.2f}]"


def markdown(result: dict) -> str:
    lines = ["# Zero-cost proxy calibration on NAS-Bench-201 (CIFAR-10, 12-epoch table)", "",
             (f"Random cells (seed {result['sample_seed']}), one real CIFAR-10 batch of {result['batch']} images, "
              f"proxy seed {PROXY_SEED}, one CPU thread per worker. Published figures are against the 200-epoch "
              "accuracy; ours against the 12-epoch table."), "",
             ("| proxy | N | Spearman valid | Spearman test (95%) | Kendall valid | Kendall test | CPU s/cell "
              "| fallbacks | published Spearman | gap |"), "|---|---|---|---|---|---|---|---|---|---|"]
    for name, row in result["calibration"].items():
        pub = PUBLISHED.get(name)
        gap = f"{row['spearman_cifar10_test'] - pub[0]:+.2f}" if pub else ""
        lines.append(f"| {name} | {row['n']} | {row['spearman_cifar10_valid']:.3f} "
                     f"| {row['spearman_cifar10_test']:.3f} {interval(row['spearman_cifar10_test'], row['n'])} "
                     f"| {row['kendall_cifar10_valid']:.3f} | {row['kendall_cifar10_test']:.3f} "
                     f"| {row['cpu_s_per_cell']:.3f} | {row['fallbacks']} | "
                     f"{f'{pub[0]:.2f} ({pub[1]})' if pub else ''} | {gap} |")
    lines += ["", (f"## Baseline picks ({len(result['baseline_seeds'])} seeds x {result['baseline_n']} sampled "
                   "cells; 12-epoch table accuracy of the chosen cell, looked up after choosing)"), "",
              "| rule | cifar10_test mean +- std | cifar10_valid mean | picks (NB201 index) |", "|---|---|---|---|"]
    for rule, row in result["baselines"].items():
        lines.append(f"| {rule} | {row['cifar10_test_mean']:.2f} +- {row['cifar10_test_std']:.2f} "
                     f"| {row['cifar10_valid_mean']:.2f} | {', '.join(str(p['index']) for p in row['picks'])} |")
    lines += ["", (f"Total CPU time of all scores: {result['cpu_seconds_total'] / 60:.1f} CPU-minutes "
                   f"(the last invocation: {result['wall_seconds'] / 60:.1f} min wall on {result['workers']} workers; "
                   "earlier invocations' scores came from the cache).")]
    notes = [f"- **{name}**: {text}" for name, text in GAP_NOTES.items()]
    if notes:
        lines += ["", "## Gaps to the published figures", "", *notes]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="random cells every proxy scores")
    parser.add_argument("--seed", type=int, default=0, help="the calibration sample's seed")
    parser.add_argument("--baseline-seeds", type=int, default=5)
    parser.add_argument("--baseline-n", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--cache-dir", default=None)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "proxy_calibration_nb201"))
    parser.add_argument("--render", action="store_true", help="only rewrite OUT.md from OUT.json")
    parser.add_argument("--baselines-from", default=None,
                        help="an earlier OUT.json whose baseline picks (same seeds and N) to keep, not re-score")
    args = parser.parse_args()
    if args.render:
        Path(args.out + ".md").write_text(markdown(json.loads(Path(args.out + ".json").read_text())))
        return
    args.data = find_data()
    n_per = {name: args.n for name in PROXIES}
    table = load_table(args.data)
    cells = sample_cells(args.seed, args.n)
    earlier = json.loads(Path(args.baselines_from).read_text()) if args.baselines_from else None
    if earlier and (earlier["baseline_n"], earlier["baseline_seeds"][0]) != (args.baseline_n, args.seed):
        raise SystemExit(f"--baselines-from {args.baselines_from}: its baselines used other seeds or N")
    samples = {} if earlier else {s: (cells[:args.baseline_n] if s == args.seed else sample_cells(s, args.baseline_n))
                                  for s in range(args.seed, args.seed + args.baseline_seeds)}
    # Cell-major order: wherever a run stops, every proxy has scored the same prefix of cells.
    jobs = [(name, a) for a in cells for name in PROXIES]
    baseline_proxies = sorted(set(COMBO) | {"params", "naswot"})
    jobs += [(name, a) for sample in samples.values() for a in sample for name in baseline_proxies]
    start = time.perf_counter()
    scores = run_jobs(jobs, args)
    result = {"sample_seed": args.seed, "batch": 64, "n_per_proxy": n_per, "combo": list(COMBO),
              "baseline_seeds": earlier["baseline_seeds"] if earlier else list(samples),
              "baseline_n": args.baseline_n, "workers": args.workers,
              "wall_seconds": time.perf_counter() - start,
              "cpu_seconds_total": float(sum(v[2] for v in scores.values())),
              "torch": torch.__version__, "platform": platform.platform(),
              "calibration": calibration(cells, n_per, scores, table),
              "baselines": earlier["baselines"] if earlier else baselines(samples, scores, table),
              "published_spearman": {k: {"spearman": v[0], "source": v[1]} for k, v in PUBLISHED.items()}}
    text = markdown(result)
    print(text)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out + ".json").write_text(json.dumps(result, indent=1) + "\n")
    Path(args.out + ".md").write_text(text)


if __name__ == "__main__":
    main()
