"""The cell (DARTS-operations) space on real CIFAR-10: the evaluation ladder against today's
proxy-only search at the same CPU budget, judged by a common longer training of each chosen cell
(issue 12's acceptance; the ladder follows Li et al. 2020's successive halving with a zero-cost
first rung, Mellor et al. 2021 and Jiang et al. 2023).

Per seed: (1) ``experiments/cifar10_ladder.yaml`` (zero-cost rung, then 2- and 6-epoch trainings);
(2) the same space and strategy with every candidate trained as the ladder's first training rung
(``evaluation.kind: proxy``) — both under the same ``budget.cpu_s`` on the local backend, so all
their CPU time is this process's. Then each chosen cell is trained once more, the same way for
both (``--epochs`` on ``--per-class`` images a class, N=1 cell per stage at 16 filters, seed 0),
and scored on ``--test-per-class`` CIFAR-10 *test* images that neither search saw.

    nice python benchmarks/cell_ladder_vs_proxy.py --budget 300 --seeds 3
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nas.config import load_config  # noqa: E402
from nas.data import DataConfig  # noqa: E402
from nas.search import search  # noqa: E402
from nas.search.progress import Progress  # noqa: E402
from nas.train.config import TrainConfig  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "cifar10-jpeg.tar.gz"
METHODS = ("ladder", "proxy")


def overrides(method: str, seed: int, args: argparse.Namespace) -> list[str]:
    common = [f"seed={seed}", f"data.dataset={DATA}", "data.download=false", "execution.backend=local",
              f"budget.cpu_s={args.budget * args.evaluation_share}", f"name=cell-{method}-{seed}"]
    return common


def experiment(method: str, seed: int, args: argparse.Namespace):
    config = load_config(ROOT / "experiments" / "cifar10_ladder.yaml", overrides(method, seed, args))
    if method == "proxy":  # every candidate trained like the ladder's first training rung
        evaluation = dataclasses.replace(config.evaluation, kind="proxy", ladder=())
        config = dataclasses.replace(config, evaluation=evaluation)
    return config


def run_search(method: str, name: str, seed: int, args: argparse.Namespace, out: Path) -> dict:
    config = experiment(method, seed, args)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    summary = search(config, out / f"{name}-{int(args.budget)}-{seed}", progress=Progress(enabled=False))
    return {"arch": summary.best_spec, "cpu_s": time.process_time() - cpu0,
            "wall_s": time.perf_counter() - wall0, "trials": dict(summary.counts)}


def common_training(arch: str, args: argparse.Namespace, out: Path) -> dict:
    """The chosen cell at N=1, F=16, trained the same way for every method; test accuracy."""
    from nas.api import arch as parse_arch, train
    spec = parse_arch(arch).spec
    data = DataConfig(dataset=str(DATA), per_class=args.per_class, test_per_class=args.test_per_class,
                      val_fraction=0.1, load_test=True)
    config = TrainConfig(epochs=args.epochs, batch_size=64, lr=0.05, device="cpu", seed=0)
    cpu0 = time.process_time()
    with tempfile.TemporaryDirectory(dir=out) as tmp:
        result = train(spec, data, config, tmp)
    return {"test_acc": result["test_acc"], "final_val_acc": (result.get("history") or [{}])[-1].get("val_acc"),
            "train_cpu_s": time.process_time() - cpu0}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--budget", type=float, default=300.0, help="CPU-seconds per search")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--first-seed", type=int, default=0, help="run seeds first-seed .. seeds - 1")
    p.add_argument("--results", type=Path, default=None,
                   help="results JSON (default results/cell_ladder_vs_proxy.json); a second process on other "
                        "seeds writes its own and --merge folds it in")
    p.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    p.add_argument("--label", default=None, help="the method name of this run's ladder rows (default: ladder)")
    p.add_argument("--merge", type=Path, nargs="*", default=[], help="results JSONs to fold in, then rewrite")
    p.add_argument("--evaluation-share", type=float, default=0.9)
    p.add_argument("--epochs", type=int, default=4, help="epochs of the common training")
    p.add_argument("--per-class", type=int, default=250, help="training images a class in the common training")
    p.add_argument("--test-per-class", type=int, default=200)
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "cell_ladder_vs_proxy")
    args = p.parse_args()
    import torch
    torch.set_num_threads(1)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.results or args.out.parent / "cell_ladder_vs_proxy.json"
    results = json.loads(path.read_text())["results"] if path.exists() else []
    for other in args.merge:  # another process's seeds: its rows win over this file's for the same run
        rows = json.loads(other.read_text())["results"]
        keys = {(r["seed"], r["method"], r["budget_cpu_s"]) for r in rows}
        results = [r for r in results if (r["seed"], r["method"], r["budget_cpu_s"]) not in keys] + rows
    done = {(r["seed"], r["method"], r["budget_cpu_s"]) for r in results}
    save(results, path, args)
    for seed in range(args.first_seed, args.seeds):
        for method in args.methods:
            name = args.label if method == "ladder" and args.label else method
            if (seed, name, args.budget) in done:
                continue
            row = {"seed": seed, "method": name, "budget_cpu_s": args.budget,
                   **run_search(method, name, seed, args, args.out)}
            row.update(common_training(row["arch"], args, args.out))
            results.append(row)
            print(json.dumps(row), flush=True)
            save(results, path, args)


def save(results: list[dict], path: Path, args: argparse.Namespace) -> None:
    path.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()},
                                "machine": platform.processor() or platform.machine(),
                                "results": results}, indent=2) + "\n")
    lines = ["# Cell space on CIFAR-10: ladder vs proxy-only search at equal CPU budget", "",
             f"Each chosen cell retrained the same way: {args.epochs} epochs on {args.per_class * 10} images "
             f"(N=1, F=16, seed 0), tested on {args.test_per_class * 10} CIFAR-10 test images.", "",
             "| method | CPU budget (s) | seeds | test acc after common training | per seed | CPU-s spent | "
             "candidates scored / trained |", "|---|---|---|---|---|---|---|"]
    for budget, method in sorted({(r["budget_cpu_s"], r["method"]) for r in results}):
        rows = [r for r in results if r["method"] == method and r["budget_cpu_s"] == budget]
        acc = [100 * r["test_acc"] for r in rows]
        trials = [r["trials"] for r in rows]
        lines.append(f"| {method} | {budget:.0f} | {len(rows)} | {np.mean(acc):.2f} +- "
                     f"{np.std(acc):.2f} | {', '.join(f'{a:.1f}' for a in acc)} | "
                     f"{np.mean([r['cpu_s'] for r in rows]):.0f} | {trials} |")
    path.with_suffix(".md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
