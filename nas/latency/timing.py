"""Timing a callable on the target: warm-up, repeats, median and spread (MnasNet, Tan et al. 2019,
measured each child on the phone; the protocol here is the usual one: warm up, then time repeated
forwards and report the median, which ignores the preemptions a shared machine adds).

Two clocks: ``wall`` (``perf_counter``; what a user waits) and ``cpu`` (the calling thread's CPU
time, ``thread_time``): with one torch thread every op runs in the calling thread, so its CPU time
is the forward's latency with other processes' preemptions removed, the robust choice on a
shared, noisy machine. ``cpu`` therefore needs ``threads == 1``.
"""
from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Callable, Sequence

CLOCKS = ("wall", "cpu")


@dataclass(frozen=True)
class Timing:
    median_ms: float
    std_ms: float
    min_ms: float
    repeats: int

    @classmethod
    def of(cls, samples_ms: Sequence[float]) -> "Timing":
        values = sorted(samples_ms)
        return cls(statistics.median(values), statistics.pstdev(values), values[0], len(values))


def check_clock(clock: str, threads: int | None) -> None:
    if clock not in CLOCKS:
        raise ValueError(f"latency clock {clock!r} unknown; accepted: {', '.join(CLOCKS)}")
    if clock == "cpu" and threads != 1:
        raise ValueError(f"latency clock 'cpu' (thread CPU time) measures latency only with one "
                         f"thread; got threads={threads!r}; accepted: threads=1, or clock='wall'")


def clock_ns(clock: str) -> Callable[[], int]:
    return time.thread_time_ns if clock == "cpu" else time.perf_counter_ns


def time_calls(fn: Callable[[], object], *, warmup: int, repeats: int, clock: str = "wall") -> list[float]:
    """``repeats`` timings of ``fn()`` in milliseconds, after ``warmup`` untimed calls."""
    now = clock_ns(clock)
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repeats):
        start = now()
        fn()
        out.append((now() - start) / 1e6)
    return out


class torch_threads:
    """Context manager: torch intra-op threads set to ``n`` (None: unchanged), restored after, so a
    library call leaves the process as it found it."""

    def __init__(self, n: int | None) -> None:
        self.n, self.before = n, None

    def __enter__(self) -> "torch_threads":
        import torch
        if self.n is not None:
            self.before = torch.get_num_threads()
            torch.set_num_threads(int(self.n))
        return self

    def __exit__(self, *exc) -> None:
        import torch
        if self.before is not None:
            torch.set_num_threads(self.before)
