"""One prepared GPU check (issue 15): the toolkit's CUDA paths exercised end to end in one command
that fits the few minutes of device time a lent accelerator gives, and a smoke mode that runs the
same code at tiny size on a CPU so the check cannot rot.

    python benchmarks/gpu_check.py --device cuda                  # ~4-8 min on one H100/H200
    python benchmarks/gpu_check.py --device cpu --smoke           # same code paths, < 60 s
    python benchmarks/gpu_check.py --device cuda --stages search_packing,ladder   # a rerun of two

Stages, in order (``gpu_check_stages.py``, ``gpu_check_search.py``): environment, data, train
(a cell and a block network with the real trainer: AMP, channels-last, data on the device),
bench_overhead / bench_reference_models / bench_input_pipeline (the three trainer benchmarks as
subprocesses, their JSON collected), latency (CUDA events), search_packing (``nas search`` on Ray
with fractional GPUs, packed vs one trial at a time, GPU utilisation sampled over time),
proxies (every zero-cost proxy on the device, checked against the CPU), ladder (a small
evaluation ladder on Ray). Writes OUT/gpu_check.json (every stage's status, reason, seconds and
figures, plus a summary against the issue's targets) and OUT/gpu_check.log.

Each stage has its own time cap and records its failure instead of raising: the stages run in a
worker process (one torch import for all) that enforces the caps with a timer; the parent is the
backstop: a worker that outlives a stage's cap by GRACE_S, or dies (a segfault, a lost CUDA
context), is killed and a fresh worker continues with the next stage. The whole check also has
a deadline (``--budget-s``): stages that no longer fit are skipped with that reason.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gpu_check_common import (  # noqa: E402
    CAPS,
    MIN_STAGE_S,
    ROOT,
    STAGES,
    Context,
    StageFailed,
    StageSkipped,
    StageTimeout,
    sizes_for,
)

GRACE_S = 30.0     # the parent kills a worker this long after its stage's cap
DEFAULT_OUT = ROOT / "benchmarks" / "results" / "gpu_check"
TARGETS = {"trainer_ratio_same_work": 0.95, "efficientnet_b0_ratio": 0.98, "mnasnet_b1_ratio": 0.98,
           "gpu_util_packed_pct": 85.0}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cuda", help="cuda (the check) or cpu (with --smoke: CI)")
    p.add_argument("--smoke", action="store_true", help="tiny sizes: the same code paths in < 60 s")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder for gpu_check.json and .log")
    p.add_argument("--cache-dir", default=None, help="decoded-image cache (default: a temporary folder)")
    p.add_argument("--stages", default=",".join(STAGES), help="comma-separated subset, in the order given")
    p.add_argument("--budget-s", type=float, default=None,
                   help="deadline of the whole check (default 540 s full, 120 s smoke)")
    p.add_argument("--parallel", action=argparse.BooleanOptionalAction, default=None,
                   help="run the benchmark subprocesses beside the other stages (default: with --smoke only)")
    p.add_argument("--worker", default=None, help=argparse.SUPPRESS)  # internal: stages to run
    p.add_argument("--lane", default="0", help=argparse.SUPPRESS)
    p.add_argument("--deadline", type=float, default=None, help=argparse.SUPPRESS)
    p.add_argument("--scratch", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.device not in ("cuda", "cpu") and not args.device.startswith("cuda:"):
        p.error(f"--device: bad value {args.device!r}; accepted: cuda, cuda:N, cpu")
    unknown = [s for s in args.stages.split(",") if s not in STAGES]
    if unknown:
        p.error(f"--stages: unknown stage {unknown[0]!r}; accepted: {', '.join(STAGES)}")
    return args


# ---------------------------------------------------------------------------------- the worker

def _write_json(path: Path, payload: Any) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(json.dumps(payload, indent=2, default=_jsonable) + "\n")
    os.replace(tmp, path)


def _jsonable(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "item"):
        return value.item()
    return repr(value)


def _on_alarm(signum: int, frame: Any) -> None:
    raise StageTimeout()


def run_stage(ctx: Context, name: str, cap: float) -> dict:
    """One stage under its cap: {status, reason, seconds, cap_s, figures}."""
    from gpu_check_stages import stage_functions
    start = time.perf_counter()
    status, reason, figures = "ok", None, {}
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, cap)
    try:
        figures = stage_functions()[name](ctx)
    except StageTimeout:
        status, reason = "failed", f"timed out after its cap of {cap:.0f} s"
        ctx.after_timeout()
    except StageSkipped as err:
        status, reason, figures = "skipped", str(err), err.figures
    except StageFailed as err:
        status, reason, figures = "failed", str(err), err.figures
    except Exception as err:  # noqa: BLE001 - one broken stage must not lose the others
        text = str(err).strip().splitlines()[0] if str(err).strip() else ""
        status, reason = "failed", f"{type(err).__name__}: {text}"
        import traceback
        traceback.print_exc()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        ctx.release_memory()
    return {"status": status, "reason": reason, "seconds": round(time.perf_counter() - start, 3),
            "cap_s": round(cap, 1), "figures": figures}


def _skipped_for_deadline(cap: float) -> dict:
    return {"status": "skipped", "reason": f"the check's deadline (--budget-s) leaves {max(cap, 0):.0f} s, under "
            f"the {MIN_STAGE_S:.0f} s a stage needs", "seconds": 0.0, "cap_s": 0.0, "figures": {}}


def worker(args: argparse.Namespace) -> int:
    stage_dir = args.out / "stages"
    ctx = Context(device=args.device, sizes=sizes_for(args.smoke), smoke=args.smoke, out=args.out,
                  cache_dir=Path(args.cache_dir), scratch=Path(args.scratch))
    if not ctx.cuda:
        import torch
        torch.set_num_threads(1)  # tiny CPU tensors lose several-fold to thread synchronisation
    try:
        for name in args.worker.split(","):
            cap = min(CAPS[name] * ctx.sizes.cap_scale, args.deadline - time.time())
            if cap < MIN_STAGE_S:
                result = _skipped_for_deadline(cap)
            else:
                _write_json(stage_dir / f"current-{args.lane}.json",
                            {"stage": name, "started": time.time(), "cap_s": cap})
                print(f"[gpu_check] stage {name} (cap {cap:.0f} s)", flush=True)
                result = run_stage(ctx, name, cap)
                print(f"[gpu_check] stage {name}: {result['status']} in {result['seconds']:.1f} s"
                      + (f" ({result['reason']})" if result["reason"] else ""), flush=True)
            _write_json(stage_dir / f"{name}.json", result)
    finally:
        ctx.close()
    return 0


# ---------------------------------------------------------------------------------- the parent

def _last_line(log: Path) -> str:
    try:
        lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return ""
    return lines[-1][:300] if lines else ""


def _failed(reason: str) -> dict:
    return {"status": "failed", "reason": reason, "seconds": None, "cap_s": None, "figures": {}}


def _watch(proc: subprocess.Popen, current: Path, log: Path) -> tuple[str, str] | None:
    """Wait for a worker; (stage, reason) when it died or was killed inside a stage."""
    while True:
        try:
            rc = proc.wait(timeout=0.5)
        except subprocess.TimeoutExpired:
            rc = None
        now = json.loads(current.read_text()) if current.exists() else None
        if now is not None and (current.parent / f"{now['stage']}.json").exists():
            now = None  # the current stage finished; the worker is between stages
        if rc is None and now is not None and time.time() > now["started"] + now["cap_s"] + GRACE_S:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return now["stage"], (f"killed by the parent: still running {GRACE_S:.0f} s past its cap of "
                                  f"{now['cap_s']:.0f} s")
        if rc is not None:
            if now is not None:
                return now["stage"], (f"the worker died (exit code {rc}) during the stage; last log line: "
                                      f"{_last_line(log)}")
            return None


def run_lane(stages: list[str], lane: str, base_cmd: list[str], env: dict, log: Path) -> None:
    """Run ``stages`` in order in worker processes, a fresh worker after one that died or hung;
    every stage ends with its result file under OUT/stages/ (written here for a lost worker)."""
    stage_dir = log.parent / "stages"
    current = stage_dir / f"current-{lane}.json"
    remaining = list(stages)
    while remaining:
        with log.open("a") as log_file:
            proc = subprocess.Popen(base_cmd + ["--worker", ",".join(remaining), "--lane", lane], stdout=log_file,
                                    stderr=subprocess.STDOUT, env=env, cwd=str(ROOT), start_new_session=True)
            crashed = _watch(proc, current, log)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)  # what a lost worker started (Ray's daemons) goes too
        if crashed is not None:
            _write_json(stage_dir / f"{crashed[0]}.json", _failed(crashed[1]))
        else:
            for name in remaining:
                if not (stage_dir / f"{name}.json").exists():
                    _write_json(stage_dir / f"{name}.json", _failed(
                        f"the worker exited (code {proc.returncode}) before this stage; last log line: "
                        f"{_last_line(log)}"))
        remaining = [name for name in remaining if not (stage_dir / f"{name}.json").exists()]
        current.unlink(missing_ok=True)


def phases(stages: list[str], parallel: bool) -> list[list[list[str]]]:
    """Lanes run one after another, or (``parallel``: the smoke run, whose timings mean nothing)
    the benchmark subprocesses beside the other stages once the data is decoded."""
    if not parallel:
        return [[stages]]
    first = [s for s in stages if s in ("environment", "data")]
    bench = [s for s in stages if s.startswith("bench_")]
    rest = [s for s in stages if s not in first and s not in bench]
    return [phase for phase in ([first] if first else [], [lane for lane in (rest, bench) if lane]) if phase]


def orchestrate(args: argparse.Namespace) -> dict:
    started, wall0 = time.strftime("%Y-%m-%dT%H:%M:%S"), time.perf_counter()
    deadline = time.time() + (args.budget_s or sizes_for(args.smoke).budget_s)
    out, stage_dir = args.out, args.out / "stages"
    stage_dir.mkdir(parents=True, exist_ok=True)
    for old in stage_dir.glob("*.json"):
        old.unlink()
    log = out / "gpu_check.log"
    scratch = Path(tempfile.mkdtemp(prefix="gpu-check-"))
    cache = args.cache_dir or str(scratch / "cache")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT)] + ([os.environ["PYTHONPATH"]]
                                                                       if os.environ.get("PYTHONPATH") else []))}
    base_cmd = [sys.executable, str(Path(__file__).resolve()), "--device", args.device, "--out", str(out),
                "--cache-dir", cache, "--scratch", str(scratch), "--deadline", str(deadline)]
    base_cmd += ["--smoke"] if args.smoke else []
    parallel = args.smoke if args.parallel is None else args.parallel
    log.write_text(f"gpu_check {started} device={args.device} smoke={args.smoke} parallel={parallel} "
                   f"stages={args.stages}\n")
    stages = args.stages.split(",")

    def report(complete: bool) -> dict:
        results = {name: json.loads((stage_dir / f"{name}.json").read_text()) for name in stages
                   if (stage_dir / f"{name}.json").exists()}
        payload = {"check": "gpu_check", "mode": "smoke" if args.smoke else "full", "device": args.device,
                   "parallel": parallel, "started": started, "complete": complete,
                   "wall_s": round(time.perf_counter() - wall0, 2),
                   "figures_meaningful": not args.smoke and args.device.startswith("cuda"),
                   "summary": summarize(results, args.smoke), "stages": results}
        _write_json(out / "gpu_check.json", payload)
        return payload

    stop = threading.Event()

    def refresh() -> None:  # a check killed from outside (a device lease ending) still leaves its JSON
        while not stop.wait(5.0):
            report(complete=False)

    refresher = threading.Thread(target=refresh, daemon=True)
    refresher.start()
    try:
        for phase in phases(stages, parallel):
            with ThreadPoolExecutor(len(phase)) as pool:
                for lane in [pool.submit(run_lane, lane, str(i), base_cmd, env, log) for i, lane in enumerate(phase)]:
                    lane.result()
    finally:
        stop.set()
        refresher.join()
        shutil.rmtree(scratch, ignore_errors=True)
    return report(complete=True)


# ---------------------------------------------------------------------------------- the summary

def _get(results: dict, stage: str, *keys: str) -> Any:
    value: Any = results.get(stage, {}).get("figures", {})
    for key in keys:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def summarize(results: dict, smoke: bool) -> dict:
    """The issue's headline figures, each with its target where it has one (None: not measured)."""
    figures = {
        "trainer_ratio_same_work": _get(results, "bench_overhead", "ratio_same_work"),
        "trainer_ratio_full_recipe": _get(results, "bench_overhead", "ratio_full_recipe"),
        "efficientnet_b0_ratio": _get(results, "bench_reference_models", "models", "efficientnet_b0", "ratio"),
        "mnasnet_b1_ratio": _get(results, "bench_reference_models", "models", "mnasnet_b1", "ratio"),
        "input_pipeline_end_to_end_speedup": _get(results, "bench_input_pipeline", "end_to_end_speedup"),
        "proxy_trial_images_per_s": _get(results, "train", "cell", "images_per_s"),
        "search_trial_images_per_s_packed": _get(results, "search_packing", "packed", "trial_images_per_s_median"),
        "gpu_util_serial_pct": _get(results, "search_packing", "serial", "utilisation", "active_mean_pct"),
        "gpu_util_packed_pct": _get(results, "search_packing", "packed", "utilisation", "active_mean_pct"),
        "trials_per_hour_serial": _get(results, "search_packing", "serial", "trials_per_hour"),
        "trials_per_hour_packed": _get(results, "search_packing", "packed", "trials_per_hour"),
        "trials_per_hour_gain": _get(results, "search_packing", "trials_per_hour_gain"),
    }
    met = {key: (None if not isinstance(figures[key], (int, float)) or not math.isfinite(figures[key])
                 else bool(figures[key] >= target)) for key, target in TARGETS.items()}
    by_status = {s: [n for n, r in results.items() if r["status"] == s] for s in ("ok", "failed", "skipped")}
    note = ("smoke run: tiny sizes on the given device; the figures prove the code paths run, "
            "they do not measure anything") if smoke else None
    return {**figures, "targets": TARGETS, "targets_met": met, "stages_ok": by_status["ok"],
            "stages_failed": by_status["failed"], "stages_skipped": by_status["skipped"], "note": note}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.out = args.out.resolve()
    if args.worker:
        return worker(args)
    report = orchestrate(args)
    print(json.dumps(report["summary"], indent=2))
    for name, result in report["stages"].items():
        print(f"{name:24s} {result['status']:8s} {result['seconds'] if result['seconds'] is not None else '-':>8} s"
              + (f"  {result['reason']}" if result["reason"] else ""))
    print(f"saved {args.out / 'gpu_check.json'} ({report['wall_s']:.1f} s)")
    return 0 if not report["summary"]["stages_failed"] else 1


if __name__ == "__main__":
    sys.exit(main())
