"""``nas search``: run an architecture search from an experiment YAML.

    nas search experiments/quickstart.yaml budget.trials=8 data.root=../shared/data/cifar10-jpeg.tar.gz
    nas search --resume runs/quickstart-20250101-120000
"""
from __future__ import annotations

import argparse

from nas.config import load_config


def register(sub) -> None:
    p = sub.add_parser("search", help="run an architecture search from an experiment YAML",
                       description="Run an architecture search. Arguments after the experiment file "
                                   "are dotted overrides, e.g. strategy.seed=3 budget.trials=64.")
    p.add_argument("items", nargs="*", metavar="EXPERIMENT.yaml | KEY=VALUE",
                   help="the experiment file, then overrides")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue a stopped or killed search")
    p.add_argument("--address", help="join this Ray cluster (host:port) instead of starting Ray")
    p.add_argument("--run-dir", help="where to write the run (default: <output>/<name>-<time>)")
    p.add_argument("--backend", choices=("ray", "local"), help="override execution.backend")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from nas.search import resume_config, search
    from nas.search.progress import Progress

    paths = [i for i in args.items if "=" not in i]
    overrides = [i for i in args.items if "=" in i]
    if args.address:
        overrides.append(f"execution.address={args.address}")
    if args.backend:
        overrides.append(f"execution.backend={args.backend}")
    if args.resume:
        if paths:
            raise ValueError(f"--resume takes its config from the run directory; drop {paths[0]!r}")
        config = resume_config(args.resume, overrides)
    else:
        if len(paths) != 1:
            raise ValueError("expected one experiment file (EXPERIMENT.yaml), then KEY=VALUE "
                             f"overrides; got {paths or 'none'}")
        config = load_config(paths[0], overrides)
    summary = search(config, run_dir=args.resume or args.run_dir, resume=bool(args.resume),
                     progress=Progress(enabled=not args.quiet))
    c = summary.counts
    print(f"finished {c['done'] + c['stopped']} trials ({c['failed']} failed) in "
          f"{summary.wall_s:.1f} s")
    if summary.best_spec is not None:
        print(f"best reward {summary.best_reward:.4f}: {summary.best_spec}")
    return 0
