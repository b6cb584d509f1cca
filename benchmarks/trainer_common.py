"""Shared helpers of the trainer benchmarks: argument defaults, device timing, interleaved
repeats (so a load change on a shared machine hits both sides alike), the results JSON."""
from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as `python benchmarks/x.py` from anywhere
RESULTS = ROOT / "benchmarks" / "results"


def find_shared_data() -> Path:
    for parent in ROOT.parents:
        if (parent / "shared" / "data").is_dir():
            return parent / "shared" / "data"
    raise SystemExit("shared/data not found beside the repository")


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--threads", type=int, default=1,
                   help="torch CPU threads (1 is the robust choice on a shared machine)")
    p.add_argument("--repeats", type=int, default=3, help="timed repeats per side, interleaved")
    p.add_argument("--cache-dir", default=None)
    p.add_argument("--out", type=Path, default=None, help="results JSON (default benchmarks/results/)")
    return p


def setup(args: argparse.Namespace) -> torch.device:
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    return device


def timed(fn: Callable[[], object], device: torch.device) -> tuple[float, float]:
    """(wall seconds, this process's CPU seconds) of one call; CUDA work is synchronized."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter() - wall, time.process_time() - cpu


def interleaved(sides: dict[str, Callable[[], object]], device: torch.device, repeats: int,
                clock: str = "auto") -> dict[str, list[float]]:
    """Seconds per call of each side: one untimed warm-up each, then rounds over all sides with
    the first side rotating. ``clock``: 'wall', 'cpu', or 'auto' (CPU time of this process on a
    CPU device, where other tenants of a shared machine inflate wall time at random; wall time
    on CUDA). Use 'wall' when work runs in other processes (DataLoader workers)."""
    use_cpu = clock == "cpu" or (clock == "auto" and device.type != "cuda")
    for fn in sides.values():
        fn()
    times: dict[str, list[float]] = {name: [] for name in sides}
    names = list(sides)
    for r in range(repeats):
        for name in names[r % len(names):] + names[:r % len(names)]:  # rotate who goes first
            wall, cpu = timed(sides[name], device)
            times[name].append(cpu if use_cpu else wall)
    return times


def clock_name(device: torch.device, clock: str = "auto") -> str:
    return "cpu" if clock == "cpu" or (clock == "auto" and device.type != "cuda") else "wall"


def environment(device: torch.device) -> dict:
    env = {"torch": torch.__version__, "python": platform.python_version(), "device": str(device),
           "threads": torch.get_num_threads(), "machine": platform.machine()}
    if device.type == "cuda":
        env["gpu"] = torch.cuda.get_device_name(device)
    return env


def median(values: list[float]) -> float:
    return statistics.median(values)


def save(name: str, payload: dict, out: Path | None, device: torch.device) -> Path:
    path = out or RESULTS / f"{name}-{device.type}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"benchmark": name, "environment": environment(device), **payload},
                               indent=2) + "\n")
    print(json.dumps(payload, indent=2))
    print(f"saved {path}")
    return path
