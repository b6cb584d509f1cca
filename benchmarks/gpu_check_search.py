"""The GPU check's Ray stages: ``nas search`` with several trials packed on one GPU (fractional
``execution.gpus_per_trial``) against one trial at a time, with the GPU's utilisation sampled
over time, and a small evaluation ladder; plus the utilisation sampler (NVML through ``pynvml``,
or Ray's bundled copy of it, else ``nvidia-smi -lms``)."""
from __future__ import annotations

import statistics
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import yaml
from gpu_check_common import ROOT, Context, StageFailed

PERIOD_S = 0.2
UTIL_TARGET = 85.0


def _nvml() -> Any:
    try:
        import pynvml
        return pynvml
    except ImportError:
        pass
    try:
        from ray._private.thirdparty import pynvml  # Ray ships a copy
        return pynvml
    except ImportError:
        return None


def utilisation_source(cuda: bool) -> str | None:
    if not cuda:
        return None
    return "nvml" if _nvml() is not None else "nvidia-smi"


def _device_index(device: str) -> int:
    return int(device.split(":")[1]) if ":" in device else 0


class GpuSampler:
    """Samples (seconds since start, utilisation %, memory used MiB) every PERIOD_S in a thread
    (NVML) or from ``nvidia-smi -lms`` in a subprocess; on a CPU device it records why it did not."""

    def __init__(self, device: str) -> None:
        self.device, self.samples = device, []
        self.skipped: str | None = None
        self.source: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._proc: subprocess.Popen | None = None

    def __enter__(self) -> "GpuSampler":
        if not self.device.startswith("cuda"):
            self.skipped = f"no GPU: device {self.device!r}, utilisation not sampled"
            return self
        self._t0 = time.perf_counter()
        nvml = _nvml()
        if nvml is not None:
            try:
                nvml.nvmlInit()
                handle = nvml.nvmlDeviceGetHandleByIndex(_device_index(self.device))
                self.source = "nvml"
                self._thread = threading.Thread(target=self._poll_nvml, args=(nvml, handle), daemon=True)
                self._thread.start()
                return self
            except Exception as err:  # noqa: BLE001 - fall back to nvidia-smi
                self.skipped = f"nvml failed ({err}); "
        cmd = ["nvidia-smi", "--query-gpu=utilization.gpu,memory.used", "--format=csv,noheader,nounits",
               f"--loop-ms={int(PERIOD_S * 1000)}", f"--id={_device_index(self.device)}"]
        try:
            self._proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        except OSError as err:
            self.skipped = (self.skipped or "") + f"nvidia-smi unavailable: {err}"
            return self
        self.source, self.skipped = "nvidia-smi", None
        self._thread = threading.Thread(target=self._read_smi, daemon=True)
        self._thread.start()
        return self

    def _poll_nvml(self, nvml: Any, handle: Any) -> None:
        while not self._stop.is_set():
            util = nvml.nvmlDeviceGetUtilizationRates(handle)
            mem = nvml.nvmlDeviceGetMemoryInfo(handle)
            self.samples.append((time.perf_counter() - self._t0, float(util.gpu), mem.used / 2**20))
            self._stop.wait(PERIOD_S)

    def _read_smi(self) -> None:
        for line in self._proc.stdout:
            parts = [p.strip() for p in line.split(",")]
            if len(parts) == 2 and all(p.replace(".", "", 1).isdigit() for p in parts):
                self.samples.append((time.perf_counter() - self._t0, float(parts[0]), float(parts[1])))

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        if self._proc is not None:
            self._proc.terminate()
            self._proc.wait(timeout=10)
        if self._thread is not None:
            self._thread.join(timeout=5)

    def summary(self) -> dict:
        if self.skipped is not None and not self.samples:
            return {"skipped": self.skipped}
        return utilisation_summary(self.samples, self.source)


def utilisation_summary(samples: list[tuple[float, float, float]], source: str | None) -> dict:
    """Mean utilisation over the whole window and over the active one (first to last sample above
    0 %: Ray's start-up and shutdown left out), share of active samples >= the 85 % target, peak
    memory, and the samples themselves ([seconds, %, MiB])."""
    util = [u for _, u, _ in samples]
    if not util:
        return {"skipped": f"{source}: no samples"}
    busy = [i for i, u in enumerate(util) if u > 0]
    active = util[busy[0]:busy[-1] + 1] if busy else []
    return {"source": source, "period_s": PERIOD_S, "samples_n": len(util),
            "mean_pct": statistics.fmean(util), "active_mean_pct": statistics.fmean(active) if active else 0.0,
            "active_s": round(len(active) * PERIOD_S, 1), "median_pct": statistics.median(util),
            "share_at_or_above_target": sum(u >= UTIL_TARGET for u in active) / max(1, len(active)),
            "max_memory_mib": max(m for _, _, m in samples),
            "samples": [[round(t, 2), u, round(m)] for t, u, m in samples]}


def _execution(ctx: Context, gpus_per_trial: float, concurrent: int) -> dict:
    s = ctx.sizes
    ex = {"backend": "ray", "device": "gpu" if ctx.cuda else "auto", "cpus_per_trial": s.cpus_per_trial,
          "gpus_per_trial": gpus_per_trial, "max_concurrent": concurrent}
    if s.num_cpus:
        ex["num_cpus"] = s.num_cpus
    return ex


def _data_section(ctx: Context) -> dict:
    cfg = ctx.data_config()
    return {"dataset": cfg.dataset, "per_class": cfg.per_class, "val_fraction": cfg.val_fraction,
            "cache_dir": cfg.cache_dir}


def _search_config(ctx: Context, name: str, gpus_per_trial: float, concurrent: int, trials: int) -> Any:
    from nas.config import from_dict
    s = ctx.sizes
    return from_dict({
        "name": name, "seed": 0, "output": str(ctx.scratch / "runs"),
        "space": {"name": "cell", "options": {"ops": ["sep_conv_3x3", "conv_3x3", "max_pool_3x3", "skip_connect"],
                                              "blocks": 3, "n": 1, "filters": s.filters, "resolution": 32}},
        "strategy": {"name": "random"},  # same seed: both modes train the same specs in the same order
        "evaluation": {"kind": "proxy", "metric": "val_acc",
                       "train": {"epochs": s.search_epochs, "batch_size": s.batch_size, "lr": 0.05,
                                 "device": "cuda" if ctx.cuda else "cpu"}},
        "data": _data_section(ctx), "execution": _execution(ctx, gpus_per_trial, concurrent),
        "budget": {"trials": trials}})


def _trials(run_dir: Path) -> list:
    from nas.search.store import RunStore
    with RunStore(run_dir / "trials.sqlite") as store:
        return store.trials()


def _one_search(ctx: Context, name: str, gpus_per_trial: float, concurrent: int, trials: int) -> dict:
    from nas.search import search
    from nas.search.progress import Progress
    config = _search_config(ctx, name, gpus_per_trial, concurrent, trials)
    ctx.ray(config.execution)
    with GpuSampler(ctx.device) as sampler:
        summary = search(config, ctx.scratch / "runs" / name, progress=Progress(enabled=False))
    rows = _trials(summary.run_dir)
    done = [r for r in rows if r.status == "done"]
    train_images = len(ctx.proxy_data().train)
    ips = [train_images * r.metrics["epochs"] / r.metrics["train_time_s"] for r in done
           if r.metrics.get("train_time_s")]
    return {"gpus_per_trial": gpus_per_trial, "max_concurrent": concurrent, "trials": trials,
            "done": len(done), "failed": [r.reason for r in rows if r.status == "failed"][:3],
            "wall_s": round(summary.wall_s, 2), "trials_per_hour": len(done) * 3600 / summary.wall_s,
            "trial_wall_s_median": statistics.median(r.metrics["wall_s"] for r in done) if done else None,
            "trial_images_per_s_median": statistics.median(ips) if ips else None,
            "specs": [r.spec for r in rows], "utilisation": sampler.summary()}


def stage_search_packing(ctx: Context) -> dict:
    """Trials/hour and GPU utilisation with ``packed_concurrent`` trials sharing the GPU against
    one trial at a time (whole GPU per trial). Packed runs first, so its cold worker starts count
    against it and the one-at-a-time run finds Ray warm: the gain is, if anything, understated."""
    s = ctx.sizes
    out: dict[str, Any] = {"train_images": len(ctx.proxy_data().train), "epochs": s.search_epochs}
    out["packed"] = _one_search(ctx, "packed", s.packed_gpus_per_trial, s.packed_concurrent, s.packed_trials)
    out["serial"] = _one_search(ctx, "serial", 1.0, 1, s.serial_trials)
    out["trials_per_hour_gain"] = out["packed"]["trials_per_hour"] / out["serial"]["trials_per_hour"]
    common = min(s.serial_trials, s.packed_trials)
    out["same_specs"] = out["packed"]["specs"][:common] == out["serial"]["specs"][:common]
    problems = [f"{mode}: {out[mode]['done']} of {out[mode]['trials']} trials done"
                + (f" ({out[mode]['failed'][0]})" if out[mode]["failed"] else "")
                for mode in ("packed", "serial") if out[mode]["done"] < out[mode]["trials"]]
    if problems:
        raise StageFailed("; ".join(problems), out)
    return out


def _ladder_config(ctx: Context) -> Any:
    from nas.config import from_dict
    s = ctx.sizes
    data = yaml.safe_load((ROOT / "experiments" / "cifar10_ladder.yaml").read_text())
    data.update(name="ladder", output=str(ctx.scratch / "runs"), data=_data_section(ctx),
                execution=_execution(ctx, s.ladder_gpus_per_trial, s.ladder_concurrent), budget={"trials": 100})
    data["space"]["options"].update(filters=s.filters, blocks=3)
    ev = data["evaluation"]
    ev["zero_cost"].update(batch_size=s.proxy_batch, reference=8 if not ctx.smoke else 4)
    ev["train"].update(epochs=s.search_epochs, batch_size=s.batch_size, device="cuda" if ctx.cuda else "cpu")
    promoted = max(2, int(s.ladder_zero_cost_trials * s.ladder_keep))
    rungs = [{"kind": "zero_cost", "keep": s.ladder_keep, "trials": s.ladder_zero_cost_trials},
             {"kind": "proxy", "keep": 0.5, "trials": promoted},
             {"kind": "proxy", "train": {"epochs": s.search_epochs + 1}}]
    ev["ladder"] = rungs[:s.ladder_rungs - 1] + rungs[-1:]  # the smoke run keeps zero-cost + one training
    return from_dict(data)


def stage_ladder(ctx: Context) -> dict:
    """A small ladder (zero-cost, short training, longer training; the smoke run drops the middle
    rung) on Ray, trials sharing the GPU; every rung must finish all its trials."""
    from nas.search import search
    from nas.search.progress import Progress
    config = _ladder_config(ctx)
    ctx.ray(config.execution)
    with GpuSampler(ctx.device) as sampler:
        summary = search(config, ctx.scratch / "runs" / "ladder", progress=Progress(enabled=False))
    rows = _trials(summary.run_dir)
    rungs = {}
    for rung in sorted({r.rung for r in rows}):
        mine = [r for r in rows if r.rung == rung]
        rewards = [r.reward for r in mine if r.status == "done" and r.reward is not None]
        rungs[str(rung)] = {"trials": len(mine), "done": len(rewards), "best_reward": max(rewards) if rewards else None,
                            "failed": [r.reason for r in mine if r.status == "failed"][:2]}
    out = {"wall_s": round(summary.wall_s, 2), "rungs": rungs, "best_spec": summary.best_spec,
           "best_reward": summary.best_reward, "gpus_per_trial": config.execution.gpus_per_trial,
           "utilisation": sampler.summary()}
    want = len(config.evaluation.ladder)
    problems = [f"rung {k}: {v['done']} of {v['trials']} done" for k, v in rungs.items() if v["done"] < v["trials"]]
    if len(rungs) < want:
        problems.append(f"reached {len(rungs)} of {want} rungs")
    if problems:
        raise StageFailed("; ".join(problems), out)
    return out
