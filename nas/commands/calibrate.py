"""``nas calibrate EXPERIMENT.yaml``: rank correlations between a space's evaluation rungs
(zero-cost proxies, training fidelities, and the NAS-Bench-201 12-epoch table in that space), the
seed-to-seed noise of each fidelity, and the share of the best cells each rung keeps: how a user
picks a ladder for a space (see ``nas.calibrate``).

    nas calibrate experiments/nasbench201_ladder.yaml --n 24 --proxies params,naswot,jacob_cov \\
        --fidelity epochs=1,per_class=25 --fidelity epochs=2,per_class=50 --seeds 2
    nas calibrate experiments/cifar10_ladder.yaml --n 10 --fidelity epochs=1,per_class=50,width=0.5 \\
        --fidelity epochs=3,per_class=100 data.dataset=../shared/data/cifar10-jpeg.tar.gz
    nas calibrate experiments/quickstart.yaml --n 8 --proxies params,naswot --fidelity epochs=1 \\
        data.dataset=../shared/data/cifar10-jpeg.tar.gz

Writes calibration.md (also printed), calibration.json and calibration.png (heat-maps) into --out.
"""
from __future__ import annotations

import argparse
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("calibrate", help="rank correlations between zero-cost proxies and training fidelities",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("experiment", metavar="EXPERIMENT.yaml", help="an experiment file (its space, data, recipe)")
    p.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="dotted config overrides")
    p.add_argument("--n", type=int, default=24, help="candidates sampled from the space (default 24, >= 3)")
    p.add_argument("--proxies", default=None,
                   help="comma-separated zero-cost proxies (default: all; '' for none)")
    p.add_argument("--fidelity", action="append", default=None, metavar="KEY=VALUE,...",
                   help="a training fidelity: evaluation.train keys and data per_class/val_fraction/"
                        "split_seed/resolution, and width (a multiplier: the candidates trained narrowed "
                        "by their space's scaling rule) (repeatable; default: a ladder experiment's proxy rungs)")
    p.add_argument("--seeds", type=int, default=2, help="training seeds per fidelity (default 2)")
    p.add_argument("--out", type=Path, default=None, help="output folder (default OUTPUT/calibrate-NAME)")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from nas.calibrate import parse_fidelity, parse_proxies, plan_calibration, run_calibration, stderr_progress
    from nas.calibrate_report import format_markdown, write_outputs
    from nas.config import load_config

    config = load_config(args.experiment, args.overrides)
    proxies = None if args.proxies is None else parse_proxies(args.proxies)
    fidelities = None if args.fidelity is None else [parse_fidelity(f) for f in args.fidelity]
    plan = plan_calibration(config, n=args.n, proxies=proxies, fidelities=fidelities, seeds=args.seeds)
    result = run_calibration(plan, None if args.quiet else stderr_progress)
    out = args.out or Path(config.output) / f"calibrate-{config.name}"
    paths = write_outputs(result, out)
    print(format_markdown(result), end="")
    print("saved " + ", ".join(str(p) for p in paths.values()))
    return 0

