"""The measured tier: the network built and timed on the target (MnasNet, Tan et al. 2019; the
LUT and table tiers of OFA, Cai et al. 2020, and HELP, Lee et al. 2021, are checked against it).

Runtimes: ``torch`` (CPU threads, or CUDA events when ``device`` names an available GPU, through
``nas.metrics.measure_latency``) and ``onnxruntime`` (the network exported to ONNX in memory and
run by ONNX Runtime's CPU provider, a deployment runtime). Batch size, warm-up, repeats, threads
and clock are named, and the result is the median with its spread.
"""
from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import Any

from nas.latency.base import LatencyEstimate
from nas.latency.timing import Timing, check_clock, time_calls, torch_threads

RUNTIMES = ("torch", "onnxruntime")


@dataclass(frozen=True)
class MeasuredLatency:
    """``estimate(spec, space)`` builds ``spec`` and times it; ``time_module`` times a module."""

    device: str = "cpu"
    batch_size: int = 1
    warmup: int = 5
    repeats: int = 20
    runtime: str = "torch"
    threads: int | None = None
    clock: str = "wall"
    tier: str = "measured"

    def __post_init__(self) -> None:
        if self.runtime not in RUNTIMES:
            raise ValueError(f"latency runtime {self.runtime!r} unknown; accepted: {', '.join(RUNTIMES)}")
        if self.runtime == "onnxruntime" and not self.device.startswith("cpu"):
            raise ValueError(f"latency runtime 'onnxruntime' runs on the CPU here; got device "
                             f"{self.device!r}; accepted: device 'cpu'")
        if self.clock == "cpu" and not self.device.startswith("cpu"):
            raise ValueError(f"latency clock 'cpu' needs device 'cpu', got {self.device!r}")
        check_clock(self.clock, self.threads if self.clock == "cpu" else 1)
        if self.batch_size < 1 or self.repeats < 1 or self.warmup < 0:
            raise ValueError(f"latency needs batch_size >= 1, repeats >= 1, warmup >= 0; got "
                             f"{self.batch_size}, {self.repeats}, {self.warmup}")

    def describe(self) -> str:
        return (f"measured on {self.device} ({self.runtime}, batch {self.batch_size}, "
                f"{self.threads or 'default'} thread(s), {self.clock} clock)")

    def reachable(self) -> str | None:
        """None when this machine can measure on the target, else the reason it cannot."""
        if self.device.startswith("cuda"):
            import torch
            if not torch.cuda.is_available():
                return f"device {self.device!r}: CUDA is not available on this machine"
        if self.runtime == "onnxruntime":
            try:
                import onnxruntime  # noqa: F401
            except ImportError:
                return "runtime 'onnxruntime': the onnxruntime package is not installed"
        return None

    def estimate(self, spec: Any, space: Any = None) -> LatencyEstimate:
        if space is None:
            from search_spaces.catalog import space_for
            space = space_for(spec)
        timing = self.time_module(space.build(spec), space.input_resolution(spec))
        return LatencyEstimate(timing.median_ms, self.tier, timing.std_ms, self.describe())

    def time_module(self, model: Any, resolution: int) -> Timing:
        reason = self.reachable()
        if reason is not None:
            raise ValueError(f"cannot measure latency: {reason}")
        with torch_threads(self.threads):
            if self.runtime == "onnxruntime":
                return self._onnxruntime(model, resolution)
            if self.device.startswith("cuda") or self.clock == "wall":
                from nas.metrics import measure_latency
                lat = measure_latency(model, resolution, batch_size=self.batch_size, device=self.device,
                                      warmup=self.warmup, repeats=self.repeats)
                return Timing(lat.median_ms, lat.std_ms, lat.min_ms, lat.repeats)
            return self._torch_cpu(model, resolution)

    def _torch_cpu(self, model: Any, resolution: int) -> Timing:
        import torch
        model = model.eval()
        x = torch.randn(self.batch_size, 3, resolution, resolution)
        with torch.inference_mode():
            return Timing.of(time_calls(lambda: model(x), warmup=self.warmup, repeats=self.repeats,
                                        clock=self.clock))

    def _onnxruntime(self, model: Any, resolution: int) -> Timing:
        import numpy as np
        import onnxruntime as ort
        import torch
        buffer = io.BytesIO()
        x = torch.randn(self.batch_size, 3, resolution, resolution)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(model.eval(), x, buffer, dynamo=False, input_names=["x"])
        options = ort.SessionOptions()
        if self.threads:
            options.intra_op_num_threads = int(self.threads)
            options.inter_op_num_threads = 1
        session = ort.InferenceSession(buffer.getvalue(), options, providers=["CPUExecutionProvider"])
        feed = {"x": np.random.default_rng(0).standard_normal(tuple(x.shape), dtype=np.float32)}
        return Timing.of(time_calls(lambda: session.run(None, feed), warmup=self.warmup,
                                    repeats=self.repeats, clock=self.clock))
