"""Search strategies compared on NAS-Bench-201 (Dong & Yang 2020) with the tabular evaluator.

Part 1 (one objective, reward = cifar10_valid of the 12-epoch table): random search, regularized
evolution (Real et al. 2019), the NASNet RNN controller trained by REINFORCE (Zoph & Le 2017) and
by PPO (Zoph et al. 2018), and Optuna's TPE; each for ``--queries`` sequential queries (ask one,
tell it) and ``--seeds`` seeds. Reported: mean +- std of the best validation accuracy found after
50 / 100 / all queries, and the cifar10_test accuracy of the cell each search would pick (its best
by validation accuracy).

Part 2 (two objectives, LAT = each cell's analytic MACs): the MnasNet controller (Tan et al. 2019)
under the hard constraint (alpha = 0, beta = -1) with the target T at the median MACs of the
whole space: does the best cell it proposes (by its shaped reward) meet T? And NSGA-II's
accuracy-vs-MACs front against random search's, by hypervolume at equal queries.

Every strategy runs with its default hyperparameters except evolution's population (20) and
NSGA-II's (20), sized for a 300-query budget. Usage:

    nice python benchmarks/strategies_nb201.py [--table PATH] [--queries 300] [--seeds 20]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nas.strategies import Result, make_strategy  # noqa: E402
from nas.strategies.mnasnet import PRESETS, mnasnet_reward  # noqa: E402
from nas.strategies.pareto import hypervolume_2d  # noqa: E402
from search_spaces.nasbench201.space import NB201Space  # noqa: E402
from search_spaces.nasbench201.table import NB201Table  # noqa: E402

TABLE_NAME = "nasbench201-12epoch.csv"
CHECKPOINTS = (50, 100, 300)
SINGLE = {   # label -> (registered strategy, options)
    "random": ("random", {}),
    "evolution": ("evolution", {"population_size": 20, "sample_size": 5}),
    "rnn_reinforce": ("rnn", {"algorithm": "reinforce"}),
    "rnn_ppo": ("rnn", {"algorithm": "ppo"}),
    "tpe": ("tpe", {}),
}
REFERENCE = (60.0, 230.0)   # hypervolume reference: 60 % valid accuracy, 230 MMACs (max is 220.1)


def find_table(path: str | None) -> Path:
    """--table, else $NAS_SHARED_DATA, else shared/data beside the repository (searched upwards)."""
    if path:
        return Path(path)
    env = os.environ.get("NAS_SHARED_DATA")
    bases = [Path(env)] if env else [parent / "shared" / "data" for parent in ROOT.parents]
    for base in bases:
        if (base / TABLE_NAME).is_file():
            return base / TABLE_NAME
    raise FileNotFoundError(f"{TABLE_NAME} not found in shared/data beside the repository; pass --table")


class Bench:
    """The table as plain dicts, and each cell's MMACs (analytic, computed once per cell)."""

    def __init__(self, table: NB201Table):
        self.space = NB201Space()
        self.rows = {s: {m: table.query(s, m) for m in ("cifar10_valid", "cifar10_test")}
                     for s in table.arch_strings()}
        self._macs: dict[str, float] = {}

    def macs(self, cell: str) -> float:
        if cell not in self._macs:
            self._macs[cell] = self.space.cost(self.space.from_str(cell)).macs / 1e6
        return self._macs[cell]

    def run(self, strategy, queries: int, metrics: bool = False) -> list[str]:
        """Ask one, tell it, ``queries`` times; the asked cells in order."""
        cells = []
        for _ in range(queries):
            [cand] = strategy.ask(1)
            cell = cand.spec.cell_str()
            extra = {"macs": self.macs(cell)} if metrics else {}
            strategy.tell(cand, Result(self.rows[cell]["cifar10_valid"], extra))
            cells.append(cell)
        return cells


def best_cell(bench: Bench, cells: list[str]) -> str:
    return max(cells, key=lambda c: bench.rows[c]["cifar10_valid"])


def single_objective(bench: Bench, queries: int, seeds: int) -> dict:
    checkpoints = [q for q in CHECKPOINTS if q < queries] + [queries]
    out = {}
    for label, (name, options) in SINGLE.items():
        start, valid, test, unique = time.perf_counter(), [], [], []
        for seed in range(seeds):
            cells = bench.run(make_strategy(name, bench.space, seed, **options), queries)
            picks = [best_cell(bench, cells[:q]) for q in checkpoints]
            valid.append([bench.rows[c]["cifar10_valid"] for c in picks])
            test.append([bench.rows[c]["cifar10_test"] for c in picks])
            unique.append(len(set(cells)))
        valid, test = np.array(valid), np.array(test)
        out[label] = {
            "strategy": name, "options": options, "checkpoints": checkpoints,
            "best_valid_mean": valid.mean(0).tolist(), "best_valid_std": valid.std(0).tolist(),
            "chosen_test_mean": test.mean(0).tolist(), "chosen_test_std": test.std(0).tolist(),
            "best_valid_per_seed": valid[:, -1].tolist(), "unique_cells_mean": float(np.mean(unique)),
            "seconds": round(time.perf_counter() - start, 1)}
        print(f"  {label:14s} best valid @{queries}: {valid[:, -1].mean():.3f} +- {valid[:, -1].std():.3f} "
              f"({out[label]['seconds']} s)", flush=True)
    return out


def hard_target(bench: Bench, queries: int, seeds: int, target: float) -> dict:
    """MnasNet controller (hard MACs target) vs the accuracy-only controller and random search,
    all judged by the same shaped reward."""
    alpha, beta = PRESETS["hard"]
    shaped = lambda c: mnasnet_reward(bench.rows[c]["cifar10_valid"], bench.macs(c), target, alpha, beta)  # noqa: E731
    out = {}
    for label, name, options in (
            ("mnasnet_hard", "mnasnet", {"metric": "macs", "target": target, "constraint": "hard"}),
            ("rnn_reinforce (accuracy only)", "rnn", {"algorithm": "reinforce"}),
            ("random", "random", {})):
        meets, top_meets, feasible_valid, feasible_test, late_share = [], [], [], [], []
        for seed in range(seeds):
            cells = bench.run(make_strategy(name, bench.space, seed, **options), queries, metrics=True)
            meets.append(bench.macs(max(cells, key=shaped)) <= target)
            top_meets.append(bench.macs(best_cell(bench, cells)) <= target)
            feasible = [c for c in cells if bench.macs(c) <= target]
            top = best_cell(bench, feasible) if feasible else None
            feasible_valid.append(bench.rows[top]["cifar10_valid"] if top else np.nan)
            feasible_test.append(bench.rows[top]["cifar10_test"] if top else np.nan)
            late_share.append(np.mean([bench.macs(c) <= target for c in cells[queries // 2:]]))
        out[label] = {"seeds": seeds, "best_meets_target": int(np.sum(meets)),
                      "most_accurate_meets_target": int(np.sum(top_meets)),
                      "best_feasible_valid_mean": float(np.nanmean(feasible_valid)),
                      "best_feasible_valid_std": float(np.nanstd(feasible_valid)),
                      "best_feasible_test_mean": float(np.nanmean(feasible_test)),
                      "late_feasible_share": float(np.mean(late_share))}
        print(f"  {label:14s} best meets T in {out[label]['best_meets_target']}/{seeds} seeds; best feasible "
              f"valid {out[label]['best_feasible_valid_mean']:.3f}", flush=True)
    return out


def pareto(bench: Bench, queries: int, seeds: int) -> dict:
    out = {}
    for label, (name, options) in (("nsga2", ("nsga2", {"sampler_options": {"population_size": 20}})),
                                   ("random", ("random", {}))):
        volumes = []
        for seed in range(seeds):
            cells = bench.run(make_strategy(name, bench.space, seed, **options), queries, metrics=True)
            points = [(bench.rows[c]["cifar10_valid"], bench.macs(c)) for c in cells]
            volumes.append(hypervolume_2d(points, REFERENCE, [True, False]))
        out[label] = {"options": options, "hypervolume_mean": float(np.mean(volumes)),
                      "hypervolume_std": float(np.std(volumes)), "per_seed": volumes}
        print(f"  {label:14s} hypervolume {np.mean(volumes):.1f} +- {np.std(volumes):.1f}", flush=True)
    return out


def markdown(report: dict) -> str:
    q = report["config"]["queries"]
    single = report["single_objective"]
    cps = next(iter(single.values()))["checkpoints"]
    lines = [f"# NAS-Bench-201 strategy comparison ({report['config']['seeds']} seeds, {q} queries)", "",
             "Best-found cifar10_valid (12-epoch table), mean +- std over seeds; test = cifar10_test "
             "of the cell with the best validation accuracy after all queries.", "",
             "| strategy | " + " | ".join(f"best valid @{c}" for c in cps)
             + f" | test of chosen @{q} | distinct cells asked |", "|---" * (len(cps) + 3) + "|"]
    for label, r in single.items():
        cells = [f"{m:.2f} +- {s:.2f}" for m, s in zip(r["best_valid_mean"], r["best_valid_std"])]
        lines.append(f"| {label} | " + " | ".join(cells)
                     + f" | {r['chosen_test_mean'][-1]:.2f} +- {r['chosen_test_std'][-1]:.2f}"
                     + f" | {r['unique_cells_mean']:.0f} |")
    oracle = report["oracle"]
    lines += ["", f"Table optimum: valid {oracle['valid']:.2f} (its test {oracle['test']:.2f}).", "",
              f"## Hard MACs target T = {report['target_mmacs']:.2f} MMACs (median of the space)", "",
              "| strategy | best by shaped reward meets T | most accurate cell meets T | best feasible "
              "valid | its test | share of late asks meeting T |", "|---|---|---|---|---|---|"]
    for label, r in report["hard_target"].items():
        lines.append(f"| {label} | {r['best_meets_target']}/{r['seeds']} | "
                     f"{r['most_accurate_meets_target']}/{r['seeds']} | {r['best_feasible_valid_mean']:.2f}"
                     f" +- {r['best_feasible_valid_std']:.2f} | {r['best_feasible_test_mean']:.2f} | "
                     f"{r['late_feasible_share']:.2f} |")
    lines += ["", f"## Accuracy vs MACs hypervolume (reference {REFERENCE}), {q} queries", "",
              "| strategy | hypervolume |", "|---|---|"]
    for label, r in report["pareto"].items():
        lines.append(f"| {label} | {r['hypervolume_mean']:.1f} +- {r['hypervolume_std']:.1f} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", help=f"path to {TABLE_NAME} (default: shared/data beside the repo)")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "strategies_nb201"),
                        help="output path without extension (.json and .md are written)")
    args = parser.parse_args(argv)
    if args.queries < 1 or args.seeds < 1:
        raise ValueError(f"--queries and --seeds must be >= 1, got {args.queries} and {args.seeds}")
    import optuna   # only to quieten its per-study log lines
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    start = time.perf_counter()
    bench = Bench(NB201Table(find_table(args.table)))
    all_macs = [bench.macs(c) for c in bench.rows]
    target = float(np.median(all_macs))
    top = best_cell(bench, list(bench.rows))
    report = {"config": {"queries": args.queries, "seeds": args.seeds, "table": TABLE_NAME,
                         "reward": "cifar10_valid", "python": platform.python_version()},
              "oracle": {"valid": bench.rows[top]["cifar10_valid"], "test": bench.rows[top]["cifar10_test"]},
              "target_mmacs": target}
    print(f"part 1: one objective, {args.queries} queries x {args.seeds} seeds", flush=True)
    report["single_objective"] = single_objective(bench, args.queries, args.seeds)
    print(f"part 2a: hard MACs target T = {target:.2f} MMACs", flush=True)
    report["hard_target"] = hard_target(bench, args.queries, args.seeds, target)
    print("part 2b: NSGA-II vs random hypervolume", flush=True)
    report["pareto"] = pareto(bench, args.queries, args.seeds)
    report["seconds"] = round(time.perf_counter() - start, 1)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(report, indent=1) + "\n")
    text = markdown(report)
    out.with_suffix(".md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
