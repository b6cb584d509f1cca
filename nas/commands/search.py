"""``nas search``: run an architecture search from an experiment YAML.

    nas search experiments/quickstart.yaml data.dataset=../shared/data/cifar10-jpeg.tar.gz
    nas search experiments/cifar10_nasnet_rl.yaml strategy.seed=3 budget.trials=64 --address HOST:PORT
    nas search --resume runs/quickstart-20250101-120000
"""
from __future__ import annotations

import argparse

from nas.config import load_config

_OPTIONS = (("--resume", dict(metavar="RUN_DIR", help="continue a stopped or killed search")),
            ("--address", dict(help="join this Ray cluster (host:port) instead of starting Ray")),
            ("--run-dir", dict(help="where to write the run (default: <output>/<name>-<time>)")),
            ("--backend", dict(choices=("ray", "local"), help="override execution.backend")),
            ("--quiet", dict(action="store_true", default=None, help="no progress output")),
            ("--allow-code", dict(action="store_true", default=None,
                                  help="let the config name custom code ('package.module:attribute' spaces, "
                                       "strategies, evaluators); never implied by a config file")))


def _add_options(parser: argparse.ArgumentParser) -> None:
    for flag, kwargs in _OPTIONS:
        parser.add_argument(flag, **kwargs)


def register(sub) -> None:
    p = sub.add_parser("search", help="run an architecture search from an experiment YAML",
                       description="Run an architecture search. Arguments after the experiment file "
                                   "are dotted overrides, e.g. strategy.seed=3 budget.trials=64; "
                                   "options may come before or after them.")
    _add_options(p)
    p.add_argument("items", nargs=argparse.REMAINDER, metavar="EXPERIMENT.yaml [KEY=VALUE ...]",
                   help="the experiment file, then overrides")
    p.set_defaults(func=run)


def _merge_late_options(args: argparse.Namespace) -> argparse.Namespace:
    """Options written after the experiment file (``nas search exp.yaml --quiet a=b``)."""
    late = argparse.ArgumentParser(prog="nas search")
    _add_options(late)
    late.add_argument("items", nargs="*")
    parsed = late.parse_intermixed_args(args.items)
    for flag, _ in _OPTIONS:
        name = flag.lstrip("-").replace("-", "_")
        if getattr(parsed, name) is not None:
            setattr(args, name, getattr(parsed, name))
    args.items = parsed.items
    return args


def progress_for(config, enabled: bool = True, title: str = "search"):
    """The live progress of a search of ``config``: its proxy epochs refine the ETA."""
    from nas.search.progress import Progress
    epochs = config.evaluation.train.epochs if config.evaluation.kind == "proxy" else None
    progress = Progress(enabled=enabled, epochs_per_trial=epochs, title=title)
    progress.status("preparing data, strategy and workers")
    return progress


def run(args: argparse.Namespace) -> int:
    from nas.search import resume_config, search

    args = _merge_late_options(args)
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
                     progress=progress_for(config, not args.quiet), allow_code=bool(args.allow_code))
    c = summary.counts
    print(f"finished {c['done'] + c['stopped']} trials ({c['failed']} failed) in "
          f"{summary.wall_s:.1f} s")
    if summary.best_spec is not None:
        print(f"best reward {summary.best_reward:.4f}: {summary.best_spec}")
    return 0
