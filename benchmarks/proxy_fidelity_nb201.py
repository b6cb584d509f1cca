"""The fidelity curve of our proxy training on NAS-Bench-201 (issue 12, part 4).

How faithfully does a short training rank cells, and what does it cost? Seeded random NB201 cells
(the benchmark's macro network, C=16, N=5) are trained on real CIFAR-10 images (the JPEG export)
at several fidelities -- epochs x training images per class -- and each setting's validation
accuracies are rank-correlated (Spearman, Kendall) against the shared 12-epoch NB201 table and
against a longer training of our own (150 images per class, 2 epochs); CPU-seconds per cell are
measured in the worker (one torch thread). All settings validate on the same 300 held-out images.

Recipes: three, compared first at 1 epoch x 25 images per class, in the spirit of the fast CIFAR-10
recipes (airbench: Keller Jordan 2024 -- high learning rate with Nesterov SGD, label smoothing 0.2,
small translations instead of 4-px crops, little or no augmentation at tiny epoch counts, small
batches when steps are few). The winner by Spearman against the table's ``cifar10_valid`` trains
the epochs x images grid. Width (NB201's C) is not a knob: ``NB201Space`` takes no channel option
(the benchmark fixes C=16), so width is not studied. Zero-cost proxies (Abdelfattah et al. 2021;
Mellor et al. 2021) score the same cells on one batch of 64 training images, for the ladder's rung 0.

    nice -n 10 env PYTHONPATH=. python benchmarks/proxy_fidelity_nb201.py --workers 2

Jobs already in ``results/proxy_fidelity_nb201.jsonl`` are not rerun (delete it to start over).
"""
from __future__ import annotations

import argparse
import json
import platform
import time
from dataclasses import replace
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import torch

from nas import proxies
from nas.train.config import TrainConfig

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
RECIPES = {  # TrainConfig keys; every recipe trains on the CPU, one thread, seed 0 unless noise
    "base": dict(batch_size=64, lr=0.05, weight_decay=3e-4, label_smoothing=0.0, crop_padding=4, flip=True),
    "fast": dict(batch_size=32, lr=0.1, weight_decay=5e-4, label_smoothing=0.2, crop_padding=2, flip=True),
    "fast_noaug": dict(batch_size=32, lr=0.1, weight_decay=5e-4, label_smoothing=0.2, crop_padding=0, flip=False),
}
RECIPE_AT = (1, 25)                       # (epochs, images per class) where the recipes are compared
# The grid is cut to fit ~25 CPU-minutes on 24 cells: one epoch of 250 images costs ~3 CPU-s per cell
# (validation on 300 images included), training ~7 ms per image-epoch on one core.
GRID = [(1, 25), (1, 50), (2, 25), (2, 50), (4, 25)]
REFERENCE = ("reference", 2, 150, "fast", 0)  # fixed before measuring: 3x the largest grid setting
NOISE_AT = [(1, 25), (2, 25)]             # retrained with seed 1 for seed-to-seed noise
ZC = ("params", "naswot", "jacob_cov", "meco", "synflow", "zico")
POOL_PER_CLASS, VAL_FRACTION = 180, 1 / 6  # 150 training + 30 validation images per class


def find_data() -> Path:
    for parent in ROOT.parents:
        if (parent / "shared" / "data").is_dir():
            return parent / "shared" / "data"
    raise SystemExit("shared/data not found beside the repository")


def load_pool(data_dir: Path, cache_dir: str):
    from nas.data import DataConfig, load_proxy_data
    return load_proxy_data(DataConfig(dataset=str(data_dir / "cifar10-jpeg.tar.gz"), per_class=POOL_PER_CLASS,
                                      val_fraction=VAL_FRACTION, cache_dir=cache_dir))


def per_class_subset(data, k: int):
    """The first ``k`` training images of each class; the validation part is kept as it is."""
    labels = data.train.labels
    keep = torch.cat([torch.nonzero(labels == c).flatten()[:k] for c in range(data.num_classes)]).sort().values
    return replace(data, train=data.train.take(keep))


_POOL: list = []


def _init(data_dir: str, cache_dir: str) -> None:
    torch.set_num_threads(1)
    _POOL[:] = [load_pool(Path(data_dir), cache_dir)]


def _train(job: dict) -> dict:
    from nas.evaluate import evaluate
    from search_spaces.catalog import resolve
    config = TrainConfig(epochs=job["epochs"], seed=job["seed"], device="cpu", **RECIPES[job["recipe"]])
    data = per_class_subset(_POOL[0], job["per_class"])
    start = time.process_time()
    outcome = evaluate(resolve(job["arch"]), config, data)
    acc = outcome.reward if hasattr(outcome, "reward") else float("nan")
    return {**job, "val_acc": acc, "cpu_s": time.process_time() - start}


def _zero_cost(job: dict) -> dict:
    from nas.data.augment import normalize
    from search_spaces.catalog import resolve
    train = _POOL[0].train
    order = torch.randperm(len(train.labels), generator=torch.Generator().manual_seed(0))[:64]
    batch = [(normalize(train.images[order], train.mean, train.std), train.labels[order])]
    arch = job["arch"]
    out = {"arch": arch, "kind": "zero_cost"}
    for name in ZC:
        detail = proxies.score_detail(name, resolve(arch), batch, seed=0, threads=1)
        out[name], out[name + "_cpu_s"] = detail.value, detail.seconds
    return out


def job_key(job: dict) -> str:
    if job.get("kind") == "zero_cost":
        return f"zc|{job['arch']}"
    return f"{job['arch']}|{job['setting']}|{job['seed']}"


def setting_name(epochs: int, per_class: int, recipe: str) -> str:
    return f"{recipe}:e{epochs}:k{per_class}"


def run_jobs(pool, fn, jobs: list[dict], done: dict, log: Path, label: str) -> None:
    todo = [j for j in jobs if job_key(j) not in done]
    start = time.time()
    with log.open("a") as handle:
        for i, row in enumerate(pool.imap_unordered(fn, todo)):
            done[job_key(row)] = row
            handle.write(json.dumps(row) + "\n")
            handle.flush()
            elapsed = time.time() - start
            eta = elapsed / (i + 1) * (len(todo) - i - 1)
            print(f"  {label}: {i + 1}/{len(todo)} jobs, {elapsed:.0f} s, ETA {eta:.0f} s", flush=True)


def train_jobs(cells: list[str], settings: list[tuple[str, int, int, str, int]]) -> list[dict]:
    jobs = [{"arch": a, "setting": s, "epochs": e, "per_class": k, "recipe": r, "seed": seed}
            for s, e, k, r, seed in settings for a in cells]
    return sorted(jobs, key=lambda j: -j["epochs"] * j["per_class"])  # longest first: balanced workers


def accs(done: dict, cells: list[str], setting: str, seed: int = 0) -> list[float]:
    return [done[f"{a}|{setting}|{seed}"]["val_acc"] for a in cells]


def correlations(pred: list[float], targets: dict[str, list[float]]) -> dict[str, float]:
    out = {}
    for name, truth in targets.items():
        out[f"spearman_{name}"] = proxies.spearman(pred, truth)
        out[f"kendall_{name}"] = proxies.kendall(pred, truth)
    return out


def pick_recipe(done: dict, cells: list[str], table: dict) -> str:
    e, k = RECIPE_AT
    valid = [table[a]["cifar10_valid"] for a in cells]
    return max(RECIPES, key=lambda r: proxies.spearman(accs(done, cells, setting_name(e, k, r)), valid))


def load_table(data_dir: Path) -> dict:
    import csv
    with open(data_dir / "nasbench201-12epoch.csv", newline="") as handle:
        return {row["arch_str"]: {"index": int(row["index"]), "cifar10_valid": float(row["cifar10_valid"]),
                                  "cifar10_test": float(row["cifar10_test"])} for row in csv.DictReader(handle)}


def summarize(done: dict, cells: list[str], table: dict, recipe: str) -> dict:
    targets = {"table_valid": [table[a]["cifar10_valid"] for a in cells],
               "table_test": [table[a]["cifar10_test"] for a in cells],
               "reference": accs(done, cells, REFERENCE[0])}
    rows = {}
    names = [setting_name(*RECIPE_AT, r) for r in RECIPES] + [setting_name(e, k, recipe) for e, k in GRID]
    for name in dict.fromkeys(names + [REFERENCE[0]]):
        a = accs(done, cells, name)
        first = done[f"{cells[0]}|{name}|0"]
        row = {"epochs": first["epochs"], "per_class": first["per_class"], "recipe": first["recipe"],
               "mean_val_acc": float(np.mean(a)),
               "cpu_s_per_cell": float(np.mean([done[f"{c}|{name}|0"]["cpu_s"] for c in cells])),
               **correlations(a, targets)}
        if all(f"{c}|{name}|1" in done for c in cells):
            b = accs(done, cells, name, seed=1)
            row["seed_spearman"] = proxies.spearman(a, b)
            row["seed_mean_abs_delta"] = float(np.mean(np.abs(np.subtract(a, b))))
        rows[name] = row
    zc = {}
    for p in ZC:
        values = [done[f"zc|{a}"][p] for a in cells]
        zc[p] = {"cpu_s_per_cell": float(np.mean([done[f"zc|{a}"][p + "_cpu_s"] for a in cells])),
                 **correlations(values, targets)}
    for combo in (("naswot", "jacob_cov"), ("jacob_cov", "meco"), ("naswot", "jacob_cov", "meco", "params")):
        values = list(proxies.rank_combine({p: [done[f"zc|{a}"][p] for a in cells] for p in combo}))
        zc["+".join(combo)] = {"cpu_s_per_cell": sum(zc[p]["cpu_s_per_cell"] for p in combo),
                               **correlations(values, targets)}
    return {"settings": rows, "zero_cost": zc}


def plot(out: dict, path: Path) -> None:
    """Spearman against the 12-epoch table and against our longer training, vs CPU-s per cell."""
    from matplotlib.figure import Figure
    fig = Figure(figsize=(10, 4.2), dpi=100, layout="constrained")
    for ax, target in zip(fig.subplots(1, 2), ("table_valid", "reference")):
        for group, marker in (("settings", "o"), ("zero_cost", "s")):
            for name, row in out[group].items():
                if name == REFERENCE[0] and target == "reference":
                    continue
                x, y = max(row["cpu_s_per_cell"], 1e-3), row[f"spearman_{target}"]
                ax.scatter([x], [y], marker=marker, color="C0" if group == "settings" else "C1")
                ax.annotate(name, (x, y), fontsize=6, xytext=(3, 2), textcoords="offset points")
        ax.set_xscale("log")
        ax.set_xlabel("CPU-seconds per cell (one core)")
        ax.set_ylabel(f"Spearman vs {'NB201 12-epoch valid' if target == 'table_valid' else 'our longer training'}")
        ax.grid(alpha=0.3)
    fig.suptitle(f"NB201, {len(out['cells'])} random cells: training fidelities (blue), zero-cost proxies (orange)")
    fig.savefig(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=24, help="random NB201 cells (seeded)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--cache-dir", default="/tmp/cellnas-fidelity-cache")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the .jsonl log and .json")
    args = parser.parse_args()
    from search_spaces.catalog import resolve, space_for
    data_dir = find_data()
    table = load_table(data_dir)
    space = space_for(resolve("nb201_resnet"))
    rng = np.random.default_rng(args.seed)
    cells = list(dict.fromkeys(space.sample(rng).cell_str() for _ in range(args.n)))
    log = args.out / "proxy_fidelity_nb201.jsonl"
    done = {job_key(r): r for r in map(json.loads, log.read_text().splitlines())} if log.exists() else {}
    wall, cpu0 = time.time(), time.process_time()
    load_pool(data_dir, args.cache_dir)  # decode once here, so the workers read the cache
    with get_context("spawn").Pool(args.workers, _init, (str(data_dir), args.cache_dir)) as pool:
        recipes = [(setting_name(*RECIPE_AT, r), *RECIPE_AT, r, 0) for r in RECIPES]
        run_jobs(pool, _train, train_jobs(cells, recipes), done, log, "recipes")
        recipe = pick_recipe(done, cells, table)
        print(f"recipe for the grid: {recipe}", flush=True)
        grid = [(setting_name(e, k, recipe), e, k, recipe, 0) for e, k in GRID]
        noise = [(setting_name(e, k, recipe), e, k, recipe, 1) for e, k in NOISE_AT]
        run_jobs(pool, _train, train_jobs(cells, grid + noise + [REFERENCE]), done, log, "grid")
        run_jobs(pool, _zero_cost, [{"arch": a, "kind": "zero_cost"} for a in cells], done, log, "zero-cost")
    cpu_total = sum(r.get("cpu_s", 0.0) for r in done.values() if r.get("arch") in cells)
    cpu_total += sum(sum(r[p + "_cpu_s"] for p in ZC) for r in done.values() if r.get("kind") == "zero_cost")
    out = {"cells": cells, "nb201_index": [table[a]["index"] for a in cells], "seed": args.seed,
           "recipes": RECIPES, "recipe_chosen": recipe, "grid": GRID, "reference": REFERENCE,
           "val_images": 300, "cpu_seconds_jobs": cpu_total, "wall_seconds_this_run": time.time() - wall,
           "driver_cpu_s": time.process_time() - cpu0, "workers": args.workers, "torch": torch.__version__,
           "platform": platform.platform(), **summarize(done, cells, table, recipe)}
    (args.out / "proxy_fidelity_nb201.json").write_text(json.dumps(out, indent=1) + "\n")
    plot(out, args.out / "proxy_fidelity_nb201.png")
    for name, row in out["settings"].items():
        print(f"{name:22s} sp_valid {row['spearman_table_valid']:.3f} sp_ref {row['spearman_reference']:.3f} "
              f"cpu {row['cpu_s_per_cell']:.1f} s acc {row['mean_val_acc']:.3f}")
    for name, row in out["zero_cost"].items():
        print(f"{name:32s} sp_valid {row['spearman_table_valid']:.3f} sp_ref {row['spearman_reference']:.3f}")
    print(f"total job CPU {cpu_total / 60:.1f} min")


if __name__ == "__main__":
    main()
