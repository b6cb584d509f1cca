"""The LUT latency model (OFA, Cai et al. 2020) against measured latency on this machine's CPU,
with analytic MACs beside it (MnasNet, Tan et al. 2019, and HELP, Lee et al. 2021: MACs rank
latency poorly).

For each space (NAS-Bench-201 cells at 32 px; NASNet cell networks N=1 @ F=16, 32 px, ops
restricted to NASNet's 13; MnasNet block networks around MnasNet-B1 at 64 px, 10 classes), a LUT
is built here (every unit the space's plans produce, timed in isolation), ``--calibration`` random
networks (12) and ``--specs`` other random specs are measured whole in the same interleaved rounds
(so load drifting between phases cannot bias one against the other), the LUT's two constants are
fitted on the calibration networks only, and the test specs are compared with the LUT's
prediction: Spearman and median absolute percentage error (MdAPE), and the Spearman of MACs.

Noise control on a shared machine: one torch thread; the *cpu* clock (the thread's CPU time, which
leaves out time the OS gave other processes) is the primary measurement, the wall clock is
recorded beside it; measurements are interleaved (``--rounds`` rounds, each over all specs in a
fresh order) and the median over all rounds' repeats is kept. Usage:

    nice python benchmarks/latency_lut.py [--specs 100] [--spaces nasbench201 cell blocks]
"""
from __future__ import annotations

import argparse
import json
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
from nas.latency.timing import torch_threads  # noqa: E402


def make_space(name: str):
    if name == "nasbench201":
        from search_spaces.nasbench201.space import NB201Space
        return NB201Space()
    if name == "cell":
        from search_spaces.cell.space import NASNET_OPS, CellSpace
        return CellSpace(NASNET_OPS, n=1, filters=16, resolution=32)
    if name == "blocks":
        from search_spaces.blocks import archs
        from search_spaces.blocks.space import BlockSpace
        return BlockSpace(archs.MNASNET_B1.__class__(**{**archs.MNASNET_B1.__dict__, "resolution": 64,
                                                        "num_classes": 10}))
    raise ValueError(f"--spaces: unknown space {name!r}; accepted: nasbench201, cell, blocks")


def measure_all(space, specs, rounds: int, warmup: int, repeats: int, seed: int) -> tuple[list, list]:
    """Median cpu-clock and wall-clock ms per spec, interleaved over rounds."""
    import torch
    rng = np.random.default_rng(seed)
    models = [space.build(s).eval() for s in specs]
    inputs = [torch.randn(1, 3, space.input_resolution(s), space.input_resolution(s)) for s in specs]
    cpu: list[list[float]] = [[] for _ in specs]
    wall: list[list[float]] = [[] for _ in specs]
    with torch_threads(1), torch.inference_mode():
        for _ in range(rounds):
            for i in rng.permutation(len(specs)):
                model, x = models[i], inputs[i]
                for _ in range(warmup):
                    model(x)
                for _ in range(repeats):
                    w0, c0 = time.perf_counter_ns(), time.thread_time_ns()
                    model(x)
                    c1, w1 = time.thread_time_ns(), time.perf_counter_ns()
                    cpu[i].append((c1 - c0) / 1e6)
                    wall[i].append((w1 - w0) / 1e6)
    return [float(np.median(v)) for v in cpu], [float(np.median(v)) for v in wall]


def run_space(name: str, n_specs: int, rounds: int, seed: int, calibration: int = 12) -> dict:
    space = make_space(name)
    t0, c0 = time.perf_counter(), time.process_time()
    lut = build_lut(space, space_name=name, clock="cpu", threads=1, calibration=0, seed=seed)
    lut_s = time.perf_counter() - t0
    rng = np.random.default_rng(seed + 1000)
    cal_specs = [space.sample(rng) for _ in range(calibration)]
    specs = [space.sample(rng) for _ in range(n_specs)]
    cpu_all, wall_all = measure_all(space, cal_specs + specs, rounds, warmup=2, repeats=6, seed=seed)
    lut = lut.with_fit(fit_constants([lut.unit_sum(s, space) for s in cal_specs], cpu_all[:calibration]))
    cpu, wall = cpu_all[calibration:], wall_all[calibration:]
    pred = [lut.predict_ms(s, space) for s in specs]
    macs = [space.cost(s).macs for s in specs]
    out = {"space": name, "specs": n_specs, "lut_units": len(lut.entries),
           "fit": {"scale": lut.fit.scale, "offset_ms": lut.fit.offset_ms, "networks": lut.fit.networks},
           "lut_build_s": lut_s, "cpu_s": time.process_time() - c0,
           "spearman_lut": spearman(pred, cpu), "mdape_lut_pct": mdape(pred, cpu),
           "spearman_macs": spearman(macs, cpu),
           "wall_clock": {"spearman_lut": spearman(pred, wall), "mdape_lut_pct": mdape(pred, wall),
                          "spearman_macs": spearman(macs, wall)},
           "measured_ms_range": [min(cpu), max(cpu)],
           "rows": [{"spec": space.to_str(s), "predicted_ms": p, "measured_cpu_ms": c, "measured_wall_ms": w,
                     "macs": m} for s, p, c, w, m in zip(specs, pred, cpu, wall, macs)]}
    print(f"{name:12s} units {out['lut_units']:5d}  Spearman LUT {out['spearman_lut']:.3f}  MdAPE "
          f"{out['mdape_lut_pct']:.1f}%  Spearman MACs {out['spearman_macs']:.3f}  (wall clock: "
          f"{out['wall_clock']['spearman_lut']:.3f}, {out['wall_clock']['mdape_lut_pct']:.1f}%)  "
          f"measured {min(cpu):.2f}-{max(cpu):.2f} ms  cpu {out['cpu_s']:.0f}s", flush=True)
    return out


def markdown(results: list[dict], meta: dict) -> str:
    lines = ["# LUT latency model vs measured latency (this CPU, batch 1, one torch thread)", "",
             f"Host `{meta['host']}`, torch {meta['torch']}, {meta['date']}. Primary clock: thread CPU time "
             "(median over interleaved rounds); wall clock beside it. Targets: Spearman >= 0.93, MdAPE <= 10%. "
             "LUT constants fitted on 12 other networks measured in the same rounds; MACs: analytic.",
             "", "| space | specs | LUT units | Spearman LUT | MdAPE LUT | Spearman MACs | wall: Spearman LUT | "
             "wall: MdAPE LUT | wall: Spearman MACs | measured range (ms) |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        w = r["wall_clock"]
        lines.append(f"| {r['space']} | {r['specs']} | {r['lut_units']} | {r['spearman_lut']:.3f} | "
                     f"{r['mdape_lut_pct']:.1f}% | {r['spearman_macs']:.3f} | {w['spearman_lut']:.3f} | "
                     f"{w['mdape_lut_pct']:.1f}% | {w['spearman_macs']:.3f} | "
                     f"{r['measured_ms_range'][0]:.2f}-{r['measured_ms_range'][1]:.2f} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--specs", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--calibration", type=int, default=12, help="networks measured whole to fit the constants")
    parser.add_argument("--spaces", nargs="+", default=["nasbench201", "cell", "blocks"])
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    args = parser.parse_args(argv)
    import torch
    meta = {"host": platform.node(), "torch": torch.__version__, "date": time.strftime("%Y-%m-%d %H:%M"),
            "rounds": args.rounds, "seed": args.seed, "clock": "cpu (thread_time), wall beside"}
    t0 = time.process_time()
    results = [run_space(name, args.specs, args.rounds, args.seed, args.calibration) for name in args.spaces]
    meta["cpu_s_total"] = time.process_time() - t0
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "latency_lut.json").write_text(json.dumps({"meta": meta, "results": results}, indent=1) + "\n")
    (out / "latency_lut.md").write_text(markdown(results, meta))
    print(f"total CPU {meta['cpu_s_total']:.0f}s; wrote {out / 'latency_lut.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
