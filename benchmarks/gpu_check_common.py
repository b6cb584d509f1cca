"""Shared parts of the GPU check (``gpu_check.py``): the stage list and caps, the sizes of the full
and the smoke run, the per-worker context (device, decoded data, the one Ray instance) and the
ways a stage reports that it failed or was skipped."""
from __future__ import annotations

import contextlib

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run as `python benchmarks/gpu_check.py` from anywhere

STAGES = ("environment", "data", "train", "bench_overhead", "bench_reference_models", "bench_input_pipeline",
          "latency", "search_packing", "proxies", "ladder")
# Seconds per stage on the full run; the smoke run scales them by Sizes.cap_scale. Expected times on
# one H100/H200 are well below (see benchmarks/README.md); a cap only bounds a hang.
CAPS = {"environment": 30, "data": 120, "train": 120, "bench_overhead": 90, "bench_reference_models": 150,
        "bench_input_pipeline": 120, "latency": 60, "search_packing": 200, "proxies": 60, "ladder": 120}
MIN_STAGE_S = 5.0
CELL_SPEC = ("cell:normal=conv_3x3@0+skip_connect@1,conv_3x3@1+skip_connect@2;"
             "reduce=max_pool_3x3@0+conv_3x3@1,skip_connect@2+max_pool_3x3@1;N=1;F={filters};stem=cifar;"
             "wiring=darts;classes=10;res=32;stem_mult=3")  # trainer_overhead.py's network, F varied
BLOCK_SPEC = "mnasnet_b1"  # the block space's MnasNet-B1, retargeted to the data's 10 classes / 32 px


class StageTimeout(BaseException):
    """The stage's cap passed (raised by the worker's timer; a BaseException so that the trainer's
    and the trial's ``except Exception`` guards do not swallow it)."""


class StageFailed(Exception):
    """A stage ran but a check failed; its figures so far are kept."""

    def __init__(self, reason: str, figures: dict | None = None) -> None:
        super().__init__(reason)
        self.figures = figures or {}


class StageSkipped(StageFailed):
    """A stage that cannot run here (e.g. GPU utilisation without a GPU), with the reason."""


@dataclass(frozen=True)
class Sizes:
    """How big each stage runs. ``per_class``: CIFAR-10 training images per class (20% of them
    held out for validation), shared by the train, search and ladder stages."""

    budget_s: float
    cap_scale: float
    per_class: int
    train_epochs: int
    batch_size: int
    filters: int
    latency_batches: tuple[int, ...]
    latency_resolution: int | None  # None: each spec's own
    latency_warmup: int
    latency_repeats: int
    proxy_batch: int
    proxy_specs: tuple[str, ...]
    search_epochs: int
    cpus_per_trial: float
    num_cpus: int | None
    packed_gpus_per_trial: float
    packed_concurrent: int
    packed_trials: int
    serial_trials: int
    ladder_zero_cost_trials: int
    ladder_keep: float
    ladder_gpus_per_trial: float
    ladder_concurrent: int
    ladder_rungs: int
    bench_args: dict[str, tuple[str, ...]] = field(default_factory=dict)


FULL = Sizes(
    budget_s=540, cap_scale=1.0, per_class=500, train_epochs=5, batch_size=128, filters=16,
    latency_batches=(1, 64), latency_resolution=None, latency_warmup=10, latency_repeats=50,
    proxy_batch=64, proxy_specs=("cell", "block"), search_epochs=2, cpus_per_trial=1.0, num_cpus=None,
    packed_gpus_per_trial=0.125, packed_concurrent=8, packed_trials=16, serial_trials=4,
    ladder_zero_cost_trials=16, ladder_keep=0.25, ladder_gpus_per_trial=0.25, ladder_concurrent=4, ladder_rungs=3,
    bench_args={"trainer_overhead": ("--repeats", "7"),
                "trainer_reference_models": ("--repeats", "3"),
                "trainer_input_pipeline": ("--repeats", "3")})

SMOKE = Sizes(
    budget_s=150, cap_scale=0.5, per_class=4, train_epochs=1, batch_size=8, filters=8,
    latency_batches=(1,), latency_resolution=32, latency_warmup=1, latency_repeats=3,
    proxy_batch=8, proxy_specs=("cell",), search_epochs=1, cpus_per_trial=0.5, num_cpus=2,
    packed_gpus_per_trial=0.5, packed_concurrent=2, packed_trials=2, serial_trials=2,
    ladder_zero_cost_trials=2, ladder_keep=0.5, ladder_gpus_per_trial=0.5, ladder_concurrent=2, ladder_rungs=2,
    bench_args={"trainer_overhead": ("--per-class", "4", "--epochs", "1", "--batch-size", "8", "--repeats", "1"),
                "trainer_reference_models": ("--batch-size", "2", "--steps", "1", "--repeats", "1",
                                             "--resolution", "32"),
                "trainer_input_pipeline": ("--per-class", "4", "--epochs", "1", "--batch-size", "8",
                                           "--repeats", "1", "--workers", "0")})


def sizes_for(smoke: bool) -> Sizes:
    return SMOKE if smoke else FULL


def find_shared_data() -> Path:
    env = os.environ.get("NAS_SHARED_DATA")
    if env and Path(env).is_dir():
        return Path(env)
    for parent in ROOT.parents:
        if (parent / "shared" / "data").is_dir():
            return parent / "shared" / "data"
    raise FileNotFoundError("shared/data not found beside the repository (set NAS_SHARED_DATA)")


@dataclass
class Context:
    """What the stages of one worker share: the device, the sizes, folders, decoded data, Ray."""

    device: str
    sizes: Sizes
    smoke: bool
    out: Path
    cache_dir: Path
    scratch: Path
    _data: dict = field(default_factory=dict)
    _ray: contextlib.ExitStack | None = None  # open while this worker's Ray runs; closing it shuts Ray down

    @property
    def cuda(self) -> bool:
        return self.device.startswith("cuda")

    def data_config(self) -> Any:
        from nas.data import DataConfig
        return DataConfig(dataset=str(find_shared_data() / "cifar10-jpeg.tar.gz"), per_class=self.sizes.per_class,
                          val_fraction=0.2, cache_dir=str(self.cache_dir))

    def proxy_data(self) -> Any:
        """The CIFAR-10 images of the train, search and ladder stages (decoded once, on the CPU)."""
        if "proxy" not in self._data:
            from nas.data import load_proxy_data
            self._data["proxy"] = load_proxy_data(self.data_config())
        return self._data["proxy"]

    def ray(self, execution: Any) -> None:
        """Start Ray once per worker with ``nas``'s own ``connect`` (loopback, no dashboard), so
        every search of the check shares it; searches then find it running and leave it so."""
        if self._ray:
            return
        from nas.config import ExperimentConfig
        from nas.search.ray_backend import connect
        stack = contextlib.ExitStack()
        connect(ExperimentConfig(execution=execution), stack, self.scratch / "ray_notices.log")
        self._ray = stack

    def release_memory(self) -> None:
        """Between stages: the worker's cached CUDA blocks go back, so trials see the whole GPU."""
        if self.cuda:
            import gc

            import torch
            gc.collect()
            torch.cuda.empty_cache()

    def after_timeout(self) -> None:
        """A stage cut by its cap may leave trials running: Ray goes down, the next stage restarts it."""
        self.close()

    def close(self) -> None:
        if self._ray is not None:
            self._ray.close()
            self._ray = None
