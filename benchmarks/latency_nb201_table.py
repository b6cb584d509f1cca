"""An imported-latency table for NAS-Bench-201 (Dong & Yang 2020), made on this machine's CPU in the
CSV format of ``nas.latency.imported`` (HELP, Lee et al. 2021, and HW-NAS-Bench ship such tables
for other devices).

Measuring all 15,625 networks here would take too long on a shared 2-core machine, so: a LUT is
built for the space (``nas.latency.profile``, thread CPU clock, one torch thread, batch 1, 32 px),
``--measure`` cells drawn at random are measured whole (interleaved rounds, median), and the
table's ``latency_ms`` is the measurement where there is one and the LUT's prediction elsewhere;
the ``source`` column says which, and ``lut_ms`` / ``measured_ms`` keep both. The LUT's two
constants are refitted on the first 100 measured cells (so its half of the table sits on the same
scale as the measured half, whatever the machine's load was while profiling) and its agreement is
reported on the other measured cells. Usage:

    nice python benchmarks/latency_nb201_table.py [--measure 500] [--out benchmarks/results/latency_nb201_cpu.csv]
"""
from __future__ import annotations

import argparse
import csv
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nas.latency.lut import fit_constants  # noqa: E402
from nas.latency.profile import build_lut  # noqa: E402
from nas.latency.stats import mdape, spearman  # noqa: E402
from search_spaces.nasbench201.space import NB201Space  # noqa: E402
from search_spaces.nasbench201.spec import NB201Spec, OPS  # noqa: E402

sys.path.insert(0, str(ROOT / "benchmarks"))
from latency_lut import measure_all  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--measure", type=int, default=500, help="cells measured whole (the rest: LUT)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "latency_nb201_cpu.csv"))
    args = parser.parse_args(argv)
    import itertools

    import torch
    space = NB201Space()
    lut = build_lut(space, space_name="nasbench201", clock="cpu", threads=1, calibration=10, seed=args.seed)
    cells = [NB201Spec(ops) for ops in itertools.product(OPS, repeat=6)]
    rng = np.random.default_rng(args.seed + 7)
    chosen = rng.choice(len(cells), size=min(args.measure, len(cells)), replace=False).tolist()  # random order
    measured, _ = measure_all(space, [cells[i] for i in chosen], rounds=3, warmup=2, repeats=4, seed=args.seed)
    by_index = dict(zip(chosen, measured))
    fit_n = min(100, len(chosen) // 2)
    lut = lut.with_fit(fit_constants([lut.unit_sum(cells[i], space) for i in chosen[:fit_n]], measured[:fit_n]))
    lut_ms = [lut.predict_ms(c, space) for c in cells]
    held = chosen[fit_n:]
    agree_s = spearman([lut_ms[i] for i in held], measured[fit_n:])
    agree_e = mdape([lut_ms[i] for i in held], measured[fit_n:])
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="") as handle:
        handle.write(f"# NAS-Bench-201 CIFAR-10 networks (32 px, 10 classes), batch 1, CPU, torch {torch.__version__}, "
                     f"1 thread, thread-CPU-time clock; host {platform.node()}, {time.strftime('%Y-%m-%d')}\n")
        handle.write(f"# latency_ms: measured whole (source=measured, {len(chosen)} random cells, median of 3 "
                     f"interleaved rounds x 4 repeats) else the LUT prediction (source=lut, "
                     f"{len(lut.entries)} units, fit {lut.fit.scale:.3f} x sum + {lut.fit.offset_ms:.3f} ms)\n")
        handle.write(f"# LUT constants fitted on {fit_n} measured cells; LUT vs measured on the other "
                     f"{len(held)}: Spearman {agree_s:.3f}, MdAPE {agree_e:.1f}%\n")
        writer = csv.writer(handle)
        writer.writerow(["arch", "latency_ms", "source", "lut_ms", "measured_ms"])
        for i, cell in enumerate(cells):
            m = by_index.get(i)
            writer.writerow([cell.cell_str(), f"{m if m is not None else lut_ms[i]:.4f}",
                             "measured" if m is not None else "lut", f"{lut_ms[i]:.4f}",
                             "" if m is None else f"{m:.4f}"])
    print(f"wrote {out}: {len(cells)} cells, {len(chosen)} measured; LUT vs measured Spearman {agree_s:.3f}, "
          f"MdAPE {agree_e:.1f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
