"""Cost and speed of a candidate: parameters, MACs, measured latency and peak memory.

MnasNet (Tan et al. 2019) argued that MACs are a poor proxy for speed and measured latency on
the target device; we keep both. MACs follow ``cells.counting`` (conv + linear
multiply-accumulates, i.e. half of ``torch.utils.flop_counter.FlopCounterMode``'s FLOPs), so the
spec's analytic cost can be checked against the built module. Latency is measured for real: a
warm-up, then timed repeats (CUDA events on a GPU, ``perf_counter`` on the CPU), reported as
median and spread. Peak memory is ``torch.cuda.max_memory_allocated`` on a GPU; on the CPU torch
has no allocator statistics, so it is reported as None rather than guessed.
"""
from __future__ import annotations

import statistics
import time
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def _example(model: nn.Module, resolution: int, batch_size: int, channels: int = 3) -> torch.Tensor:
    param = next(model.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")
    return torch.randn(batch_size, channels, resolution, resolution, device=device)


@torch.no_grad()
def count_macs(model: nn.Module, resolution: int, channels: int = 3) -> int:
    """Multiply-accumulates of one inference forward pass for one image, counted by torch."""
    was_training = model.training
    model.eval()
    counter = FlopCounterMode(display=False)
    with counter:
        model(_example(model, resolution, 1, channels))
    model.train(was_training)
    return counter.get_total_flops() // 2


@dataclass(frozen=True)
class CostCheck:
    params: int
    macs: int
    measured_params: int
    measured_macs: int

    @property
    def match(self) -> bool:
        return self.params == self.measured_params and self.macs == self.measured_macs


def cross_check_cost(space: Any, spec: Any, model: nn.Module | None = None) -> CostCheck:
    """The space's analytic cost of ``spec`` next to torch's count on the built module (built
    here without training options when ``model`` is not given)."""
    cost = space.cost(spec)
    model = model if model is not None else space.build(spec)
    return CostCheck(cost.params, cost.macs, count_params(model), count_macs(model, space.input_resolution(spec)))


@dataclass(frozen=True)
class Latency:
    """Forward-pass latency of one batch, in milliseconds."""

    device: str
    batch_size: int
    resolution: int
    median_ms: float
    mean_ms: float
    std_ms: float
    min_ms: float
    p90_ms: float
    repeats: int
    warmup: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _timings_ms(model: nn.Module, x: torch.Tensor, warmup: int, repeats: int) -> list[float]:
    cuda = x.device.type == "cuda"
    for _ in range(warmup):
        model(x)
    if not cuda:
        out = []
        for _ in range(repeats):
            start = time.perf_counter()
            model(x)
            out.append((time.perf_counter() - start) * 1e3)
        return out
    torch.cuda.synchronize(x.device)
    events = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)) for _ in range(repeats)]
    for start, end in events:
        start.record()
        model(x)
        end.record()
    torch.cuda.synchronize(x.device)
    return [start.elapsed_time(end) for start, end in events]


def measure_latency(model: nn.Module, resolution: int, *, batch_size: int = 1, device: str = "cpu",
                    warmup: int = 10, repeats: int = 50, channels_last: bool | None = None) -> Latency:
    """Inference latency of ``model`` (moved to ``device``, eval mode) on a random batch.
    ``channels_last`` defaults to True on CUDA, where convolutions prefer it."""
    if repeats < 1 or warmup < 0 or batch_size < 1:
        raise ValueError(f"need repeats >= 1, warmup >= 0, batch_size >= 1; got {repeats}, {warmup}, {batch_size}")
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"latency device {device!r} requested but CUDA is not available")
    channels_last = dev.type == "cuda" if channels_last is None else channels_last
    was_training = model.training
    model = model.to(dev).eval()
    x = torch.randn(batch_size, 3, resolution, resolution, device=dev)
    if channels_last:
        model, x = model.to(memory_format=torch.channels_last), x.contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        times = sorted(_timings_ms(model, x, warmup, repeats))
    model.train(was_training)
    return Latency(device=str(dev), batch_size=batch_size, resolution=resolution,
                   median_ms=statistics.median(times), mean_ms=statistics.fmean(times),
                   std_ms=statistics.pstdev(times), min_ms=times[0],
                   p90_ms=times[min(len(times) - 1, int(0.9 * len(times)))], repeats=repeats, warmup=warmup)


def peak_memory(model: nn.Module, resolution: int, *, batch_size: int = 32, device: str = "cpu",
                train: bool = True) -> int | None:
    """Peak bytes allocated on a CUDA device during one forward (and backward when ``train``)
    pass, weights included; None on the CPU, where torch keeps no allocator statistics."""
    dev = torch.device(device)
    if dev.type != "cuda":
        return None
    model = model.to(dev).train(train)
    x = torch.randn(batch_size, 3, resolution, resolution, device=dev)
    torch.cuda.synchronize(dev)
    torch.cuda.reset_peak_memory_stats(dev)
    with torch.set_grad_enabled(train):
        out = model(x)
        out = out[0] if isinstance(out, tuple) else out
        if train:
            out.float().sum().backward()
    torch.cuda.synchronize(dev)
    peak = torch.cuda.max_memory_allocated(dev)
    model.zero_grad(set_to_none=True)
    return int(peak)
