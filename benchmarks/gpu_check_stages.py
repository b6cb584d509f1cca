"""The GPU check's single-process stages: environment, data, training a cell and a block network
with the real trainer, the three trainer benchmarks (as subprocesses), CUDA-event latency and the
zero-cost proxies on the device. Each returns a dict of figures or raises ``StageFailed`` /
``StageSkipped`` with its figures so far (``gpu_check.py`` runs them under their caps)."""
from __future__ import annotations

import copy
import json
import math
import os
import platform
import subprocess
import sys
import time
from typing import Any

from gpu_check_common import BLOCK_SPEC, CELL_SPEC, ROOT, Context, StageFailed


def _git_revision() -> str | None:
    try:
        return subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True,
                              timeout=10).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def stage_environment(ctx: Context) -> dict:
    import ray
    import torch
    from gpu_check_search import utilisation_source
    env: dict[str, Any] = {
        "python": platform.python_version(), "torch": torch.__version__, "torch_cuda": torch.version.cuda,
        "ray": ray.__version__, "cpus": os.cpu_count(), "machine": platform.machine(), "git": _git_revision(),
        "device": ctx.device, "smoke": ctx.smoke, "cuda_available": torch.cuda.is_available(),
        "utilisation_source": utilisation_source(ctx.cuda)}
    if not ctx.cuda:
        return env
    if not torch.cuda.is_available():
        raise StageFailed(f"--device {ctx.device} but torch.cuda.is_available() is False", env)
    props = torch.cuda.get_device_properties(torch.device(ctx.device))
    env.update(gpu=props.name, capability=f"{props.major}.{props.minor}",
               gpu_memory_gib=round(props.total_memory / 2**30, 1), multiprocessors=props.multi_processor_count,
               bf16_supported=torch.cuda.is_bf16_supported(), cudnn=torch.backends.cudnn.version())
    try:
        env["nvidia_smi"] = subprocess.run(
            ["nvidia-smi", "--query-gpu=name,driver_version,memory.total,power.limit", "--format=csv,noheader"],
            capture_output=True, text=True, timeout=15).stdout.strip()
    except (OSError, subprocess.SubprocessError) as err:
        env["nvidia_smi"] = f"unavailable: {err}"
    return env


def describe_data(data: Any) -> dict:
    """What proves the images are real CIFAR-10: counts, distinct images, per-channel statistics
    (random noise would give means of 0.5 and no duplicates-free class structure)."""
    import torch
    train = data.train
    flat = train.images.reshape(len(train), -1)
    counts = torch.bincount(train.labels.cpu(), minlength=data.num_classes)
    return {"dataset": data.name, "train_images": len(train), "val_images": len(data.val),
            "classes": data.num_classes, "resolution": data.resolution, "dtype": str(train.images.dtype),
            "distinct_train_images": int(torch.unique(flat, dim=0).shape[0]),
            "train_mean": [round(float(v), 4) for v in train.mean],
            "train_std": [round(float(v), 4) for v in train.std],
            "per_class_min": int(counts.min()), "per_class_max": int(counts.max())}


def stage_data(ctx: Context) -> dict:
    start = time.perf_counter()
    data = ctx.proxy_data()
    return {"load_s": round(time.perf_counter() - start, 3), "per_class": ctx.sizes.per_class, **describe_data(data)}


def _amp_dtype(ctx: Context) -> str:
    import torch
    if not ctx.cuda:
        return "none (AMP is CUDA only)"
    return "bfloat16" if torch.cuda.is_bf16_supported() else "float16 + GradScaler"


def _channels_last(model: Any) -> bool | None:
    """Whether the first spatial convolution's weight is in channels-last memory format."""
    import torch
    for m in model.modules():
        if isinstance(m, torch.nn.Conv2d) and m.kernel_size != (1, 1):
            return bool(m.weight.is_contiguous(memory_format=torch.channels_last)
                        and not m.weight.is_contiguous())
    return None


def train_one(ctx: Context, spec_text: str, data: Any) -> dict:
    """Train one spec with the real trainer; the figures, with ``problem`` set when a check fails."""
    import torch
    from nas.evaluate import prepare
    from nas.train import TrainConfig, train
    from search_spaces.catalog import resolve
    space, spec = prepare(resolve(spec_text), data)
    s = ctx.sizes
    config = TrainConfig(epochs=s.train_epochs, batch_size=s.batch_size, lr=0.05, device=ctx.device, seed=0)
    measure_peak = ctx.cuda and torch.cuda.is_available()  # else train() says why it cannot run
    if measure_peak:
        torch.cuda.reset_peak_memory_stats(torch.device(ctx.device))
    result = train(lambda: space.build(spec), data, config)
    steps = max(1, len(data.train) // min(s.batch_size, len(data.train)))
    images = result.epochs * steps * min(s.batch_size, len(data.train))
    chance = 1.0 / data.num_classes
    threshold = chance + 3 * math.sqrt(chance * (1 - chance) / len(data.val))  # 3 sigma above guessing
    losses = [h["train_loss"] for h in result.history] + [result.val_loss]
    fig = {"spec": spec.to_str(), "params": result.params, "epochs": result.epochs, "failure": result.failure,
           "train_loss": [h["train_loss"] for h in result.history], "val_loss": result.val_loss,
           "val_acc": result.val_acc, "train_acc": result.history[-1]["train_acc"] if result.history else None,
           "wall_s": round(result.wall_time_s, 3), "images_per_s": images / result.wall_time_s if result.ok else None,
           "epoch_s": [round(h["epoch_time_s"], 3) for h in result.history],
           "device": str(next(result.model.parameters()).device) if result.model is not None else None,
           "amp": _amp_dtype(ctx), "channels_last": _channels_last(result.model) if result.model is not None else None,
           "peak_memory_mib": round(torch.cuda.max_memory_allocated(torch.device(ctx.device)) / 2**20, 1)
           if measure_peak else None,
           "chance": chance, "above_chance_threshold": round(threshold, 4),
           "above_chance": bool(result.ok and result.val_acc > threshold), "accuracy_asserted": not ctx.smoke}
    if not result.ok:
        fig["problem"] = f"training failed: {result.failure}"
    elif not all(math.isfinite(v) for v in losses):
        fig["problem"] = f"non-finite loss: {losses}"
    elif not ctx.smoke and not fig["above_chance"]:
        fig["problem"] = f"val_acc {result.val_acc:.3f} not above chance (threshold {threshold:.3f})"
    elif ctx.cuda and (fig["device"] is None or not fig["device"].startswith("cuda")):
        fig["problem"] = f"trained on {fig['device']}, not on {ctx.device}"
    return fig


def stage_train(ctx: Context) -> dict:
    from gpu_check_search import GpuSampler
    data = ctx.proxy_data()
    figures: dict[str, Any] = {"data": describe_data(data)}
    with GpuSampler(ctx.device) as sampler:
        figures["cell"] = train_one(ctx, CELL_SPEC.format(filters=ctx.sizes.filters), data)
    figures["cell"]["utilisation"] = sampler.summary()
    figures["block"] = train_one(ctx, BLOCK_SPEC, data)
    problems = [f"{name}: {figures[name]['problem']}" for name in ("cell", "block") if "problem" in figures[name]]
    if problems:
        raise StageFailed("; ".join(problems), figures)
    return figures


def run_benchmark(ctx: Context, script: str) -> dict:
    """One of the trainer benchmarks as a subprocess on the check's device; its JSON, as written."""
    path = ctx.scratch / f"{script}.json"
    path.unlink(missing_ok=True)
    cmd = [sys.executable, str(ROOT / "benchmarks" / f"{script}.py"), "--device", ctx.device, "--out", str(path),
           "--cache-dir", str(ctx.cache_dir), *ctx.sizes.bench_args.get(script, ())]
    print(f"[gpu_check] $ {' '.join(cmd[1:])}", flush=True)
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=str(ROOT))
    sys.stdout.write(proc.stdout[-4000:] + proc.stderr[-4000:])
    if proc.returncode != 0 or not path.exists():
        lines = [line for line in proc.stderr.splitlines() if line.strip()]
        raise StageFailed(f"{script}.py exited with code {proc.returncode}: {lines[-1] if lines else 'no output'}",
                          {"command": " ".join(cmd[1:])})
    return {"command": " ".join(cmd[1:]), **json.loads(path.read_text())}


def stage_latency(ctx: Context) -> dict:
    """Inference latency through ``nas.latency.MeasuredLatency`` (CUDA events on a GPU, the
    perf_counter on a CPU) and peak training memory, for the cell, MnasNet-B1 and EfficientNet-B0."""
    import torch
    from nas.latency import MeasuredLatency
    from nas.metrics import peak_memory
    from search_spaces.catalog import resolve, space_for
    s, out = ctx.sizes, {}
    for name, text in (("cell", CELL_SPEC.format(filters=s.filters)), ("mnasnet_b1", BLOCK_SPEC),
                       ("efficientnet_b0", "efficientnet_b0")):
        spec = resolve(text)
        space = space_for(spec)
        resolution = s.latency_resolution or space.input_resolution(spec)
        torch.manual_seed(0)
        model = space.build(spec)
        row: dict[str, Any] = {"resolution": resolution, "timer": "cuda_events" if ctx.cuda else "perf_counter"}
        for batch in s.latency_batches:
            timing = MeasuredLatency(device=ctx.device, batch_size=batch, warmup=s.latency_warmup,
                                     repeats=s.latency_repeats).time_module(model, resolution)
            row[f"batch_{batch}"] = {"median_ms": timing.median_ms, "std_ms": timing.std_ms, "min_ms": timing.min_ms,
                                     "images_per_s": batch * 1e3 / timing.median_ms}
        peak = peak_memory(model, resolution, batch_size=max(s.latency_batches), device=ctx.device)
        row["peak_train_memory_mib"] = None if peak is None else round(peak / 2**20, 1)
        if peak is None:
            row["peak_train_memory_note"] = "CPU: torch keeps no allocator statistics"
        out[name] = row
        bad = [k for k, v in row.items() if k.startswith("batch_") and not math.isfinite(v["median_ms"])]
        if bad:
            raise StageFailed(f"{name}: non-finite latency at {bad}", out)
    return out


def _proxy_models(ctx: Context, data: Any) -> dict[str, tuple[Any, Any]]:
    from nas.evaluate import prepare
    from search_spaces.catalog import resolve
    texts = {"cell": CELL_SPEC.format(filters=ctx.sizes.filters), "block": BLOCK_SPEC}
    return {key: prepare(resolve(texts[key]), data) for key in ctx.sizes.proxy_specs}


def stage_proxies(ctx: Context) -> dict:
    """Every zero-cost proxy on the same untrained network and batch, on the CPU and on the
    check's device: device scores must be real (not the fallback) wherever the CPU's are."""
    import torch
    from nas.proxies import PROXIES, score_detail, score_model
    from nas.search.zero_cost import zero_cost_batches
    data = ctx.proxy_data()
    cpu_batches = list(zero_cost_batches(data, ctx.sizes.proxy_batch, 1, seed=0))
    dev_batches = [(x.to(ctx.device), y.to(ctx.device)) for x, y in cpu_batches]
    out: dict[str, Any] = {"batch_size": ctx.sizes.proxy_batch, "device": ctx.device, "specs": {}}
    problems = []
    for key, (space, spec) in _proxy_models(ctx, data).items():
        torch.manual_seed(0)
        model = space.build(spec)
        on_device = copy.deepcopy(model).to(ctx.device)
        rows = {}
        for name, proxy in PROXIES.items():
            if proxy.kind == "spec":
                rows[name] = {"value": score_detail(name, spec, cpu_batches, space=space).value, "kind": "spec"}
                continue
            cpu = score_model(name, model, cpu_batches, seed=0)
            dev = score_model(name, on_device, dev_batches, seed=0)
            rel = (abs(dev.value - cpu.value) / max(abs(cpu.value), 1e-12)
                   if not (cpu.fallback or dev.fallback) else None)
            rows[name] = {"cpu": cpu.value, "device": dev.value, "relative_difference": rel,
                          "cpu_fallback": cpu.reason if cpu.fallback else None,
                          "device_fallback": dev.reason if dev.fallback else None,
                          "device_s": round(dev.seconds, 4), "cpu_s": round(cpu.seconds, 4)}
            if dev.fallback and not cpu.fallback:
                problems.append(f"{key}/{name} falls back on {ctx.device} ({dev.reason})")
        out["specs"][key] = {"spec": spec.to_str(), "proxies": rows}
    if problems:
        raise StageFailed(f"{len(problems)} proxy score(s) only fail on the device: " + "; ".join(problems[:4]), out)
    return out


def _benchmark_stage(script: str):
    def stage(ctx: Context) -> dict:
        return run_benchmark(ctx, script)
    stage.__name__ = f"stage_{script}"
    return stage


def stage_functions() -> dict:
    from gpu_check_search import stage_ladder, stage_search_packing
    return {"environment": stage_environment, "data": stage_data, "train": stage_train,
            "bench_overhead": _benchmark_stage("trainer_overhead"),
            "bench_reference_models": _benchmark_stage("trainer_reference_models"),
            "bench_input_pipeline": _benchmark_stage("trainer_input_pipeline"),
            "latency": stage_latency, "search_packing": stage_search_packing, "proxies": stage_proxies,
            "ladder": stage_ladder}

