"""Orchestration overhead of ``nas search`` on Ray Tune, against bare Ray Tune in the same run.

Both run the same trivial function on the same Ray instance (2 CPUs, 1 CPU per trial, actor
reuse on, Tune's own loggers off): bare Tune samples a random config; ``nas search`` adds the
strategy's ask/tell (random search over NAS-Bench-201), the run store's transactions, the JSON
checkpoints and the progress bookkeeping. Reported:

* overhead per trial = (nas search wall time - bare Tune wall time) / trials, at 1 and 2 trials at
  a time (target: <= 0.5 s per trial);
* parallel efficiency of ``nas search`` with a 1 s trial: time(1 at a time) / (2 x time(2 at a
  time)), with bare Tune's figure beside it.

Run from the repository root:  python benchmarks/search_overhead.py [--trials 20] [--repeats 3]
Writes benchmarks/results/search_overhead.json.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nas.strategies.base import Result  # noqa: E402


def trivial(spec, *, report, seed, sleep=0.0):
    """The evaluated function: optionally sleep, report once, return a constant reward."""
    if sleep:
        time.sleep(sleep)
    report(1, {"val_acc": 0.5})
    return Result(0.5, {"val_acc": 0.5})


def bare_trainable(config):
    from ray import tune
    if config["sleep"]:
        time.sleep(config["sleep"])
    tune.report({"score": 0.5})  # the same single report a trivial evaluator makes
    tune.report({"score": 0.5, "final": 1})


def bare_tune(trials: int, concurrent: int, sleep: float, storage: Path) -> float:
    from ray import tune
    start = time.perf_counter()
    tuner = tune.Tuner(
        tune.with_resources(bare_trainable, {"cpu": 1}),
        param_space={"x": tune.randint(0, 10**6), "sleep": sleep},
        tune_config=tune.TuneConfig(num_samples=trials, max_concurrent_trials=concurrent,
                                    reuse_actors=True),
        run_config=tune.RunConfig(storage_path=str(storage), name=f"bare-{time.time_ns()}",
                                  verbose=0))
    tuner.fit()
    return time.perf_counter() - start


def nas_search(trials: int, concurrent: int, sleep: float, storage: Path) -> float:
    from nas.config import build, ExperimentConfig
    from nas.search import search
    from nas.search.progress import Progress
    config = build(ExperimentConfig, {
        "name": "overhead", "space": {"name": "nasbench201"}, "strategy": {"name": "random"},
        "evaluation": {"kind": "function", "function": "__main__:trivial",
                       "options": {"sleep": sleep}},
        "execution": {"backend": "ray", "max_concurrent": concurrent, "cpus_per_trial": 1.0},
        "budget": {"trials": trials}})
    start = time.perf_counter()
    summary = search(config, storage / f"nas-{time.time_ns()}", progress=Progress(enabled=False))
    wall = time.perf_counter() - start
    assert summary.counts["done"] == trials, summary.counts
    return wall


def measure(fn, repeats: int, *args) -> list[float]:
    return [fn(*args) for _ in range(repeats)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--sleep-trials", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "search_overhead.json"))
    args = parser.parse_args()

    import ray
    for key, value in {"TUNE_DISABLE_AUTO_CALLBACK_LOGGERS": "1", "RAY_AIR_NEW_OUTPUT": "0",
                       "PYTHONPATH": str(ROOT)}.items():
        os.environ[key] = value  # before ray.init, so both sides and the workers see them
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    results: dict = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            storage = Path(tmp)
            bare_tune(4, 2, 0.0, storage)      # warm-up: workers started, imports done
            nas_search(4, 2, 0.0, storage)
            for concurrent in (1, 2):
                bare, ours = [], []
                for _ in range(args.repeats):  # interleaved: load drifts on a shared machine
                    bare.append(bare_tune(args.trials, concurrent, 0.0, storage))
                    ours.append(nas_search(args.trials, concurrent, 0.0, storage))
                b, o = statistics.median(bare), statistics.median(ours)
                results[f"trivial_{concurrent}_at_a_time"] = {
                    "trials": args.trials, "bare_tune_s": bare, "nas_search_s": ours,
                    "bare_per_trial_s": b / args.trials, "nas_per_trial_s": o / args.trials,
                    "overhead_per_trial_s": (o - b) / args.trials}
            eff = {}
            for name, fn in (("bare_tune", bare_tune), ("nas_search", nas_search)):
                one = statistics.median(measure(fn, 1, args.sleep_trials, 1, 1.0, storage))
                two = statistics.median(measure(fn, 1, args.sleep_trials, 2, 1.0, storage))
                eff[name] = {"one_at_a_time_s": one, "two_at_a_time_s": two,
                             "efficiency": one / (2 * two)}
            results["parallel_efficiency_1s_trials"] = {"trials": args.sleep_trials, **eff}
    finally:
        ray.shutdown()
    results["machine"] = {"cpus": os.cpu_count(), "load_avg_end": os.getloadavg(),
                          "python": platform.python_version(), "ray": ray.__version__}
    results["target_overhead_per_trial_s"] = 0.5
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    for concurrent in (1, 2):
        r = results[f"trivial_{concurrent}_at_a_time"]
        print(f"{concurrent} at a time: bare Tune {r['bare_per_trial_s']:.3f} s/trial, nas search "
              f"{r['nas_per_trial_s']:.3f} s/trial, overhead {r['overhead_per_trial_s']:+.3f} s/trial")
    for name, r in results["parallel_efficiency_1s_trials"].items():
        if isinstance(r, dict):
            print(f"parallel efficiency ({name}, 1 s trials): {r['efficiency']:.2f} "
                  f"({r['one_at_a_time_s']:.1f} s vs {r['two_at_a_time_s']:.1f} s)")
    print(f"saved {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
