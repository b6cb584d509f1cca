"""Orchestration overhead of ``nas search`` on Ray Tune, against bare Ray Tune in the same run.

Both run the same trivial function on the same Ray instance (2 CPUs, 1 CPU per trial, actor
reuse on, Tune's own loggers off): bare Tune samples a random config; ``nas search`` adds the
strategy's ask/tell (random search over NAS-Bench-201), the run store's transactions, the JSON
checkpoints and the progress bookkeeping. Reported:

* steady-state time per trial: (last completion - c-th completion) / (trials - c) at c trials at
  a time, i.e. with the trial actors already started and reused, and its difference to bare Tune's: the per-trial
  orchestration overhead (target: <= 0.5 s), at 1 and 2 trials at a time;
* wall time per trial including each search's fixed start (Tuner set-up, actor start with its
  torch import, run directory): reported beside it;
* parallel efficiency with 1 s trials: steady-state throughput at 2 at a time over twice that at
  1 at a time, for ``nas search`` and for bare Tune.

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


def steady(completions: list[float], concurrent: int) -> float:
    """Seconds per trial once the first wave (``concurrent`` trials started together, on freshly
    started actors) has finished: (last completion - c-th completion) / (trials - c)."""
    completions = sorted(completions)
    return (completions[-1] - completions[concurrent - 1]) / (len(completions) - concurrent)


def bare_tune(trials: int, concurrent: int, sleep: float, storage: Path) -> tuple[float, float]:
    from ray import tune

    class Completions(tune.Callback):
        def __init__(self):
            self.times = []

        def on_trial_complete(self, iteration, trials, trial, **info):
            self.times.append(time.time())

    done = Completions()
    start = time.perf_counter()
    tuner = tune.Tuner(
        tune.with_resources(bare_trainable, {"cpu": 1}),
        param_space={"x": tune.randint(0, 10**6), "sleep": sleep},
        tune_config=tune.TuneConfig(num_samples=trials, max_concurrent_trials=concurrent,
                                    reuse_actors=True),
        run_config=tune.RunConfig(storage_path=str(storage), name=f"bare-{time.time_ns()}",
                                  verbose=0, callbacks=[done]))
    tuner.fit()
    return time.perf_counter() - start, steady(done.times, concurrent)


def nas_search(trials: int, concurrent: int, sleep: float, storage: Path) -> tuple[float, float]:
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
    from nas.search.store import RunStore
    with RunStore(summary.run_dir / "trials.sqlite") as store:
        return wall, steady([t.finished_at for t in store.trials()], concurrent)


def summarize(trials: int, bare: list, ours: list) -> dict:
    med = lambda values: statistics.median(values)  # noqa: E731
    b_wall, b_steady = med([w for w, _ in bare]), med([s for _, s in bare])
    o_wall, o_steady = med([w for w, _ in ours]), med([s for _, s in ours])
    return {"trials": trials, "bare_tune": bare, "nas_search": ours,
            "bare_steady_s_per_trial": b_steady, "nas_steady_s_per_trial": o_steady,
            "overhead_s_per_trial": o_steady - b_steady,
            "bare_wall_s_per_trial": b_wall / trials, "nas_wall_s_per_trial": o_wall / trials,
            "overhead_wall_s_per_trial": (o_wall - b_wall) / trials}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--sleep-trials", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "search_overhead.json"))
    args = parser.parse_args()

    import logging
    import ray
    logging.getLogger("ray.tune").setLevel(logging.ERROR)  # bare Tune's per-run chatter
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
                results[f"trivial_{concurrent}_at_a_time"] = summarize(args.trials, bare, ours)
            eff = {}
            for name, fn in (("bare_tune", bare_tune), ("nas_search", nas_search)):
                one = [fn(args.sleep_trials, 1, 1.0, storage)[1] for _ in range(args.repeats)]
                two = [fn(args.sleep_trials, 2, 1.0, storage)[1] for _ in range(args.repeats)]
                one_s, two_s = statistics.median(one), statistics.median(two)
                eff[name] = {"steady_s_per_trial_1": one, "steady_s_per_trial_2": two,
                             "efficiency": one_s / (2 * two_s)}
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
        print(f"{concurrent} at a time, steady state: bare Tune {r['bare_steady_s_per_trial']:.3f} "
              f"s/trial, nas search {r['nas_steady_s_per_trial']:.3f} s/trial, overhead "
              f"{r['overhead_s_per_trial']:+.3f} s/trial (with each search's start: "
              f"{r['overhead_wall_s_per_trial']:+.3f})")
    for name, r in results["parallel_efficiency_1s_trials"].items():
        if isinstance(r, dict):
            print(f"parallel efficiency ({name}, 1 s trials, 2 at a time): {r['efficiency']:.2f}")
    print(f"saved {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
