"""``nas latency``: latency on a named target, the three tiers of ``nas.latency``.

    nas latency profile SPACE_OR_EXPERIMENT --out lut.json   # on the device: build a LUT (OFA)
    nas latency predict lut.json|table.csv SPEC...           # anywhere: the LUT's or table's ms
    nas latency measure SPEC... [--device cuda] [--runtime onnxruntime]   # time on this machine

``profile`` needs only torch on the device; the JSON it writes is carried to the search machine
(``evaluation.latency.lut``). SPEC is anything ``nas inspect`` takes: a name, a spec string, a
JSON file, or a search run directory (its best architecture).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("latency", help="latency tables (profile, predict) and measurements")
    verbs = p.add_subparsers(dest="verb", required=True, metavar="VERB")
    prof = verbs.add_parser("profile", help="build a per-op latency lookup table on this machine")
    prof.add_argument("target", help="a space name (cell, blocks, nasbench201, compound) or an experiment YAML")
    prof.add_argument("--out", required=True, help="the LUT JSON file to write")
    prof.add_argument("--samples", type=int, default=2000, help="random specs whose units are collected")
    prof.add_argument("--calibration", type=int, default=6, help="networks measured whole to fit the constants")
    prof.add_argument("--rounds", type=int, default=3, help="interleaved timing rounds")
    prof.add_argument("--seed", type=int, default=0)
    _timing_flags(prof)
    prof.set_defaults(func=profile)
    pred = verbs.add_parser("predict", help="latency of specs from a LUT (.json) or an imported table (.csv)")
    pred.add_argument("model", help="a LUT from `nas latency profile` or a latency CSV")
    pred.add_argument("specs", nargs="+", help="names, spec strings, JSON files or run directories")
    pred.add_argument("--column", default="latency_ms", help="the CSV's latency column (default latency_ms)")
    pred.set_defaults(func=predict)
    meas = verbs.add_parser("measure", help="measure specs on this machine")
    meas.add_argument("specs", nargs="+", help="names, spec strings, JSON files or run directories")
    meas.add_argument("--device", default="cpu", help="cpu or cuda[:N] (CUDA events)")
    meas.add_argument("--runtime", default="torch", choices=("torch", "onnxruntime"))
    _timing_flags(meas)
    meas.set_defaults(func=measure)


def _timing_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--batch-size", type=int, default=1)
    p.add_argument("--threads", type=int, default=1, help="torch intra-op threads (default 1)")
    p.add_argument("--clock", default="wall", choices=("wall", "cpu"),
                   help="wall time, or the thread's CPU time (robust on a shared machine; needs --threads 1)")
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--repeats", type=int, default=10, help="timed calls per unit and round (measure: in total)")


def _space(text: str):
    from search_spaces import catalog
    if text in catalog.SPACES:
        return catalog.make_space(text), text
    path = Path(text)
    if path.suffix in (".yaml", ".yml") or path.is_file():
        from nas.config import load_config
        from nas.search.plan import make_space
        config = load_config(path)
        return make_space(config), config.space.name
    raise ValueError(f"nas latency profile: {text!r} is neither a space ({', '.join(catalog.SPACES)}) "
                     "nor an experiment YAML")


def profile(args: argparse.Namespace) -> int:
    from nas.latency.profile import build_lut
    for flag, value, least in (("--samples", args.samples, 1), ("--calibration", args.calibration, 0),
                               ("--rounds", args.rounds, 1), ("--repeats", args.repeats, 1),
                               ("--warmup", args.warmup, 0), ("--batch-size", args.batch_size, 1)):
        if value < least:
            raise ValueError(f"{flag} must be >= {least}, got {value}")
    space, name = _space(args.target)

    def progress(done: int, total: int) -> None:
        if done == total or done % 200 == 0:
            print(f"\rprofiled {done}/{total}", end="", file=sys.stderr, flush=True)

    lut = build_lut(space, space_name=name, batch_size=args.batch_size, threads=args.threads, clock=args.clock,
                    warmup=args.warmup, repeats=args.repeats, rounds=args.rounds, calibration=args.calibration,
                    samples=args.samples, seed=args.seed, progress=progress)
    print(file=sys.stderr)
    path = lut.save(args.out)
    print(f"{path}: {len(lut.entries)} units of space {name!r}; fit: {lut.fit.scale:.3f} x sum + "
          f"{lut.fit.offset_ms:.3f} ms over {lut.fit.networks} measured network(s)")
    return 0


def _specs(texts: list[str]) -> list:
    from nas.resolve import resolve
    return [resolve(text) for text in texts]


def predict(args: argparse.Namespace) -> int:
    from nas.latency import load_lut, load_table
    path = Path(args.model)
    if path.suffix == ".csv":
        model = load_table(path, args.column, "model")
    else:
        model = load_lut(path, "model")
    print(f"# {model.describe()}")
    for spec in _specs(args.specs):
        est = model.estimate(spec)
        print(f"{est.ms:10.3f} ms  {est.tier:8s} {spec.to_str()}")
    return 0


def measure(args: argparse.Namespace) -> int:
    from nas.latency import MeasuredLatency
    model = MeasuredLatency(args.device, args.batch_size, args.warmup, args.repeats, args.runtime,
                            args.threads, args.clock)
    print(f"# {model.describe()}")
    for spec in _specs(args.specs):
        est = model.estimate(spec)
        print(f"{est.ms:10.3f} ms +- {est.spread_ms:.3f}  {est.tier:8s} {spec.to_str()}")
    return 0
