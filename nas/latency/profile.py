"""Building a LUT on the target (OFA, Cai et al. 2020): enumerate the units a space's plans
produce, time each once in isolation, then measure a few whole networks to fit the LUT's two
constants. Needs torch only; run it on the device, carry the JSON file to the search machine.

Timing on a shared machine: units are timed in ``rounds``, each round in a fresh seeded order
(interleaving, so a burst of load spreads over many units instead of biasing a few), and the
median over all rounds' samples is kept.
"""
from __future__ import annotations

import platform
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from nas.latency.lut import Fit, LookupTable, fit_constants
from nas.latency.timing import check_clock, time_calls, torch_threads
from nas.latency.units import Unit, units


def space_units(space: Any, rng: np.random.Generator, *, samples: int = 2000, patience: int = 300,
                specs: Iterable[Any] = ()) -> list[Unit]:
    """The distinct units of ``specs`` and of random specs of ``space``, sampled until ``patience``
    samples in a row add none (or ``samples`` are drawn): a space's unit set is a product of
    per-position choices, which sampling covers long before it covers the space."""
    found: dict[str, Unit] = {}
    for spec in specs:
        found.update((u.key, u) for u in units(spec, space))
    quiet = 0
    for _ in range(samples):
        before = len(found)
        found.update((u.key, u) for u in units(space.sample(rng), space))
        quiet = quiet + 1 if len(found) == before else 0
        if quiet >= patience:
            break
    return list(found.values())


def profile_units(unit_list: Sequence[Unit], *, batch_size: int = 1, warmup: int = 3, repeats: int = 10,
                  rounds: int = 3, clock: str = "wall", threads: int | None = 1, seed: int = 0,
                  progress: Callable[[int, int], None] | None = None) -> dict[str, float]:
    """Median ms of each unit's forward on the CPU, interleaved over ``rounds``."""
    import torch
    from nas.latency.modules import module_and_inputs
    check_clock(clock, threads)
    rng = np.random.default_rng(seed)
    built = [(u.key, *module_and_inputs(u, batch_size)) for u in unit_list]
    samples: dict[str, list[float]] = {key: [] for key, _, _ in built}
    with torch_threads(threads), torch.inference_mode():
        for m in (m for _, m, _ in built):
            m.eval()
        for r in range(rounds):
            for done, i in enumerate(rng.permutation(len(built))):
                key, module, inputs = built[i]
                samples[key] += time_calls(lambda: module(*inputs), warmup=warmup, repeats=repeats, clock=clock)
                if progress is not None:
                    progress(r * len(built) + done + 1, rounds * len(built))
    return {key: float(np.median(v)) for key, v in samples.items()}


def calibrate(lut: LookupTable, space: Any, specs: Sequence[Any], measure: Any) -> LookupTable:
    """``lut`` with its constants fitted on ``specs`` measured whole by ``measure`` (a
    ``MeasuredLatency`` on the same target)."""
    sums = [lut.unit_sum(s, space) for s in specs]
    measured = [measure.estimate(s, space).ms for s in specs]
    return lut.with_fit(fit_constants(sums, measured))


def build_lut(space: Any, *, space_name: str = "", batch_size: int = 1, threads: int | None = 1,
              clock: str = "wall", warmup: int = 3, repeats: int = 10, rounds: int = 3,
              calibration: int = 6, samples: int = 2000, seed: int = 0, specs: Iterable[Any] = (),
              progress: Callable[[int, int], None] | None = None) -> LookupTable:
    """Profile every unit ``space`` (and ``specs``) can produce on this CPU and fit the constants on
    ``calibration`` random networks measured whole with the same batch, threads and clock."""
    import torch
    from nas.latency.measured import MeasuredLatency
    unit_rng, cal_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2))
    found = space_units(space, unit_rng, samples=samples, specs=specs)
    entries = profile_units(found, batch_size=batch_size, warmup=warmup, repeats=repeats, rounds=rounds,
                            clock=clock, threads=threads, seed=seed, progress=progress)
    target = {"device": "cpu", "runtime": "torch", "batch_size": batch_size, "threads": threads,
              "clock": clock, "host": platform.node(), "processor": platform.processor() or platform.machine(),
              "torch": torch.__version__}
    lut = LookupTable(entries, target, space_name or getattr(space, "name", ""), Fit())
    if calibration <= 0:
        return lut
    measure = MeasuredLatency("cpu", batch_size, warmup=max(warmup, 3), repeats=max(repeats, 10) * rounds,
                              threads=threads, clock=clock)
    return calibrate(lut, space, [space.sample(cal_rng) for _ in range(calibration)], measure)
