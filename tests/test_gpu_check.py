"""The prepared GPU check (benchmarks/gpu_check.py) kept from rotting: its ``--device cpu --smoke``
run end to end on real CIFAR-10 images (every stage reports figures or a reason), its failure
handling (a machine without CUDA asked for ``--device cuda``: every stage fails with a one-line
reason and none is lost; a spent deadline skips stages), the utilisation summary, and GPU packing
in ``nas search`` (fractional ``gpus_per_trial`` on a Ray cluster declaring one GPU: trials
really run side by side)."""
from __future__ import annotations

import json
import math
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "gpu_check.py"
sys.path.insert(0, str(ROOT / "benchmarks"))

from gpu_check_common import STAGES  # noqa: E402
from gpu_check_search import GpuSampler, utilisation_summary  # noqa: E402


def run_check(tmp_path: Path, shared_data: Path, *args: str,
              timeout: float = 300) -> tuple[subprocess.CompletedProcess, dict]:
    path = [str(ROOT)] + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else [])
    env = {**os.environ, "NAS_SHARED_DATA": str(shared_data), "PYTHONPATH": os.pathsep.join(path)}
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, str(SCRIPT), "--out", str(out), "--cache-dir", str(tmp_path / "cache"),
                           *args], capture_output=True, text=True, env=env, timeout=timeout)
    report = json.loads((out / "gpu_check.json").read_text()) if (out / "gpu_check.json").exists() else {}
    return proc, report


def numbers(value) -> list[float]:
    """Every int/float inside a JSON value (bools excluded)."""
    if isinstance(value, bool):
        return []
    if isinstance(value, (int, float)):
        return [float(value)]
    if isinstance(value, dict):
        return [x for v in value.values() for x in numbers(v)]
    if isinstance(value, list):
        return [x for v in value for x in numbers(v)]
    return []


@pytest.fixture(scope="module")
def smoke(tmp_path_factory, shared_data):
    tmp = tmp_path_factory.mktemp("gpu-check")
    start = time.perf_counter()
    proc, report = run_check(tmp, shared_data, "--device", "cpu", "--smoke")
    return proc, report, time.perf_counter() - start, tmp / "out"


@pytest.mark.slow
def test_smoke_runs_every_stage_with_finite_figures(smoke):
    proc, report, wall, out = smoke
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert list(report["stages"]) == list(STAGES)
    for name, stage in report["stages"].items():
        assert stage["status"] == "ok", (name, stage["reason"])
        assert stage["reason"] is None and stage["seconds"] >= 0 and stage["figures"], name
        assert all(math.isfinite(x) for x in numbers(stage["figures"])), name
    assert report["mode"] == "smoke" and report["figures_meaningful"] is False
    assert report["wall_s"] < 150 and wall < 200  # the smoke deadline; measured ~55 s on 2 busy cores
    log = (out / "gpu_check.log").read_text()
    assert all(f"stage {name}: ok" in log for name in STAGES)


@pytest.mark.slow
def test_smoke_trains_on_real_cifar10_images(smoke):
    figures = smoke[1]["stages"]["train"]["figures"]
    data = figures["data"]
    # 4 images per class, 20% held out per class (stratified): 3 + 1 of each of the 10 classes
    assert (data["train_images"], data["val_images"], data["classes"]) == (30, 10, 10)
    assert data["dtype"] == "torch.uint8" and data["distinct_train_images"] == 30
    assert data["per_class_min"] == data["per_class_max"] == 3
    # CIFAR-10's channel means (~0.49, 0.48, 0.45 on the full set): real images, not noise (0.5 each)
    assert all(0.35 < m < 0.6 for m in data["train_mean"]) and data["train_mean"][0] > data["train_mean"][2]
    for name in ("cell", "block"):
        net = figures[name]
        assert net["failure"] is None and net["epochs"] == 1 and net["device"] == "cpu"
        assert all(math.isfinite(v) and v > 0 for v in net["train_loss"]) and math.isfinite(net["val_loss"])
        assert 0.0 <= net["val_acc"] <= 1.0 and net["images_per_s"] > 0
        assert net["accuracy_asserted"] is False  # 10 validation images: chance + 3 sigma is 0.38
        assert net["above_chance_threshold"] == pytest.approx(0.1 + 3 * math.sqrt(0.09 / 10), abs=1e-4)
    assert figures["block"]["params"] > 10 * figures["cell"]["params"]  # MnasNet-B1 vs a tiny cell
    assert figures["cell"]["utilisation"] == {"skipped": "no GPU: device 'cpu', utilisation not sampled"}


@pytest.mark.slow
def test_smoke_benchmarks_latency_proxies_search_and_ladder(smoke):
    stages = smoke[1]["stages"]
    overhead = stages["bench_overhead"]["figures"]
    assert overhead["benchmark"] == "trainer_overhead" and "--device cpu" in overhead["command"]
    assert overhead["ratio_same_work"] > 0 and overhead["ratio_full_recipe"] > 0
    models = stages["bench_reference_models"]["figures"]["models"]
    assert set(models) == {"efficientnet_b0", "mnasnet_b1"} and all(m["ratio"] > 0 for m in models.values())
    assert stages["bench_input_pipeline"]["figures"]["end_to_end_speedup"] > 0
    latency = stages["latency"]["figures"]
    assert set(latency) == {"cell", "mnasnet_b1", "efficientnet_b0"}
    assert all(row["batch_1"]["median_ms"] > 0 and row["timer"] == "perf_counter" for row in latency.values())
    proxies = stages["proxies"]["figures"]["specs"]["cell"]["proxies"]
    from nas.proxies import PROXIES
    assert set(proxies) == set(PROXIES)
    for name, row in proxies.items():
        if PROXIES[name].kind == "model":  # the same CPU on both sides: identical scores
            assert row["device_fallback"] is None and row["cpu_fallback"] is None, name
            assert row["relative_difference"] < 1e-4, name
    search = stages["search_packing"]["figures"]
    for mode in ("packed", "serial"):
        assert search[mode]["done"] == search[mode]["trials"] == 2 and search[mode]["trials_per_hour"] > 0
        assert search[mode]["utilisation"]["skipped"].startswith("no GPU")
    assert search["same_specs"] is True and search["trials_per_hour_gain"] > 0
    assert (search["packed"]["gpus_per_trial"], search["packed"]["max_concurrent"]) == (0.5, 2)
    rungs = stages["ladder"]["figures"]["rungs"]
    assert [(r["trials"], r["done"]) for r in rungs.values()] == [(2, 2), (1, 1)]
    summary = smoke[1]["summary"]
    assert summary["stages_failed"] == [] and summary["stages_skipped"] == []
    assert summary["gpu_util_packed_pct"] is None and summary["targets_met"]["gpu_util_packed_pct"] is None
    assert summary["trainer_ratio_same_work"] == overhead["ratio_same_work"]


@pytest.mark.slow
def test_cuda_asked_without_cuda_every_stage_fails_with_its_reason(tmp_path, shared_data):
    stages = "environment,train,bench_overhead,latency,search_packing,proxies"
    proc, report = run_check(tmp_path, shared_data, "--device", "cuda", "--smoke", "--stages", stages)
    if report.get("stages", {}).get("environment", {}).get("status") == "ok":
        pytest.skip("this machine has CUDA")
    assert proc.returncode == 1 and list(report["stages"]) == stages.split(",")
    for name, stage in report["stages"].items():
        assert stage["status"] == "failed" and stage["reason"] and "\n" not in stage["reason"], name
    reasons = {name: stage["reason"] for name, stage in report["stages"].items()}
    assert "torch.cuda.is_available() is False" in reasons["environment"]
    assert reasons["train"] == ("ValueError: train.device='cuda' but CUDA is not available; use 'cpu' or 'auto'")
    assert reasons["bench_overhead"].startswith("trainer_overhead.py exited with code")
    assert "execution.device" in reasons["search_packing"] and "no GPU" in reasons["search_packing"]
    assert report["summary"]["stages_failed"] == stages.split(",")


@pytest.mark.slow
def test_a_worker_lost_mid_stage_is_recorded_and_a_fresh_one_continues(tmp_path, shared_data):
    """SIGKILL the worker during 'train' (as a segfault or a lost CUDA context would end it): that
    stage is failed with the exit code, the next stage runs in a new worker."""
    path = [str(ROOT)] + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else [])
    env = {**os.environ, "NAS_SHARED_DATA": str(shared_data), "PYTHONPATH": os.pathsep.join(path)}
    out = tmp_path / "out"
    parent = subprocess.Popen([sys.executable, str(SCRIPT), "--out", str(out), "--cache-dir", str(tmp_path / "cache"),
                               "--device", "cpu", "--smoke", "--stages", "data,train,latency"],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    current = out / "stages" / "current-0.json"
    deadline = time.time() + 120
    while time.time() < deadline:
        if current.exists() and json.loads(current.read_text())["stage"] == "train":
            break
        time.sleep(0.02)
    children = _children(parent.pid)
    assert len(children) == 1
    os.kill(children[0], 9)
    parent.communicate(timeout=120)
    stages = json.loads((out / "gpu_check.json").read_text())["stages"]
    assert stages["data"]["status"] == "ok" and stages["latency"]["status"] == "ok"
    assert stages["train"]["status"] == "failed"
    assert stages["train"]["reason"].startswith("the worker died (exit code -9) during the stage")
    assert parent.returncode == 1


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:  # field 4 of stat, the parent's pid
            found.append(int(stat.parent.name))
    return found


def test_a_spent_deadline_skips_stages_with_the_reason(tmp_path, shared_data):
    proc, report = run_check(tmp_path, shared_data, "--device", "cpu", "--smoke", "--budget-s", "3",
                             "--stages", "latency,proxies", timeout=120)
    assert proc.returncode == 0
    for stage in report["stages"].values():
        assert stage["status"] == "skipped" and "deadline" in stage["reason"]


def test_utilisation_summary_and_sampler_without_a_gpu():
    summary = utilisation_summary([(0.0, 0.0, 500.0), (0.2, 60.0, 900.0), (0.4, 90.0, 1200.0),
                                   (0.6, 100.0, 1200.0), (0.8, 0.0, 600.0)], "nvml")
    assert summary["mean_pct"] == pytest.approx(50.0) and summary["active_mean_pct"] == pytest.approx(250 / 3)
    assert summary["share_at_or_above_target"] == pytest.approx(2 / 3) and summary["max_memory_mib"] == 1200.0
    assert summary["samples"][2] == [0.4, 90.0, 1200]
    with GpuSampler("cpu") as sampler:
        pass
    assert sampler.summary() == {"skipped": "no GPU: device 'cpu', utilisation not sampled"}


@pytest.mark.slow
def test_fractional_gpus_pack_trials_side_by_side(tmp_path):
    """Ray told of one GPU (none needs to exist for scheduling): 0.25 GPU per trial runs four
    toy trials at once, a whole GPU per trial one at a time (start/end from per-epoch reports)."""
    import ray

    from nas.config import from_dict
    from nas.search import search
    from nas.search.progress import Progress
    saved = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "tests")] + ([saved] if saved else []))
    ray.init(num_cpus=2, num_gpus=1, include_dashboard=False, log_to_driver=False)
    try:
        peaks = {}
        for name, gpus in (("packed", 0.25), ("whole", 1.0)):
            config = from_dict({
                "name": name, "seed": 3, "space": {"name": "search_toys:ToySpace"}, "strategy": {"name": "random"},
                "evaluation": {"kind": "function", "function": "search_toys:score",
                               "options": {"sleep": 3.0, "epochs": 2}},
                "execution": {"backend": "ray", "device": "gpu", "num_gpus": 1, "cpus_per_trial": 0.25,
                              "gpus_per_trial": gpus, "max_concurrent": 4},
                "budget": {"trials": 4}})
            summary = search(config, tmp_path / name, progress=Progress(enabled=False), allow_code=True)
            assert summary.counts["done"] == 4
            peaks[name] = _peak_overlap(tmp_path / name / "trials.sqlite", before_first=1.0)
    finally:
        ray.shutdown()
        if saved is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = saved
    assert peaks == {"packed": 4, "whole": 1}


def _peak_overlap(db: Path, before_first: float) -> int:
    """Most trials running at once, each counted from ``before_first`` seconds before its epoch-1
    report (it slept 1.5 s before it: 0.5 s of slack for the driver's recording delays) to its
    epoch-2 report."""
    with sqlite3.connect(db) as conn:
        first = dict(conn.execute("SELECT candidate_id, reported_at FROM epochs WHERE epoch = 1"))
        last = dict(conn.execute("SELECT candidate_id, reported_at FROM epochs WHERE epoch = 2"))
    events = sorted([(first[c] - before_first, 1) for c in first] + [(last[c], -1) for c in last])
    running = peak = 0
    for _, step in events:
        running += step
        peak = max(peak, running)
    return peak
