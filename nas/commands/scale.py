"""``nas scale``: a found architecture to ImageNet size, or to a compound-scaled family.

    nas scale darts_v2 --to imagenet --layers 14 --filters 48 -o darts_imagenet.json
    nas scale nasnet_a_cifar --to imagenet --max-macs 600M          # largest N @ F within 600M
    nas scale runs/my-search --to imagenet                          # the run's best spec
    nas scale efficientnet_b0 --family --coefficients 1.2,1.1,1.15 --out-dir family/
    nas scale --search experiments/compound_scaling.yaml            # search alpha/beta/gamma, emit
    nas scale runs/compound-scaling-<time> --family --base efficientnet_b0
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

_SUFFIX = {"k": 1e3, "m": 1e6, "g": 1e9, "b": 1e9}


def amount(text: str) -> float:
    """'600M', '5.3m', '2.5e6', '1G' -> a number."""
    raw = text.strip().lower()
    factor = _SUFFIX.get(raw[-1:], 1.0)
    try:
        value = float(raw[:-1] if raw[-1:] in _SUFFIX else raw) * factor
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an amount (e.g. 600M, 5.3M, 2e9)") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be positive")
    return value


def int_range(text: str) -> list[int]:
    """'4' -> [4]; '2-8' -> [2, ..., 8]."""
    lo, sep, hi = text.partition("-")
    try:
        values = list(range(int(lo), int(hi) + 1)) if sep else [int(lo)]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected an integer or a range like 2-8") from None
    if not values or values[0] < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: expected positive integers")
    return values


def coefficients(text: str) -> tuple[float, float, float]:
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        values = ()
    if len(values) != 3:
        raise argparse.ArgumentTypeError(f"{text!r}: expected alpha,beta,gamma, e.g. 1.2,1.1,1.15")
    return values


def register(sub) -> None:
    p = sub.add_parser("scale", help="scale an architecture to ImageNet or to a compound-scaled family",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("spec", nargs="?", help="named architecture, spec string, JSON file or run directory")
    p.add_argument("items", nargs="*", metavar="KEY=VALUE", help="with --search: config overrides")
    t = p.add_argument_group("ImageNet transfer (default mode)")
    t.add_argument("--to", choices=("imagenet",), default="imagenet", help="target task")
    t.add_argument("--cells", type=int_range, help="N normal cells per stage, or a range like 2-8 to choose from "
                   "(default 4, the papers' mobile N)")
    t.add_argument("--layers", type=int, help="DARTS's total cell count L = 3N + 2 (instead of --cells)")
    t.add_argument("--filters", type=int, help="F, the first stage's filters (default: the largest that fits)")
    t.add_argument("--width", type=float,
                   help="block and macro specs: width multiplier (default: 1, or fitted to a budget)")
    t.add_argument("--depth", type=float, default=1.0, help="block and macro specs: depth multiplier")
    t.add_argument("--max-macs", type=amount, help="MACs budget, e.g. 600M (cells default: the 600M mobile setting)")
    t.add_argument("--max-params", type=amount, help="parameter budget, e.g. 5.3M")
    t.add_argument("--resolution", type=int, default=224, help="input side in pixels")
    t.add_argument("--classes", type=int, default=1000, help="number of classes")
    t.add_argument("--stem-multiplier", type=int, help="NASNet ImageNet stem filters / 32 (mobile 1, large 3)")
    t.add_argument("-o", "--output", type=Path, help="write the spec, its cost and size here (JSON)")
    f = p.add_argument_group("compound scaling (EfficientNet)")
    f.add_argument("--family", action="store_true", help="emit the phi family of SPEC (or of a compound run's best)")
    f.add_argument("--coefficients", type=coefficients, help="alpha,beta,gamma (default: a compound run's best)")
    f.add_argument("--phi", type=int_range, default=list(range(1, 8)), help="phi values, default 1-7")
    f.add_argument("--base", help="the network to scale (default: SPEC, or the compound run's base)")
    f.add_argument("--search", action="store_true", help="SPEC is a compound-scaling experiment YAML: run the "
                   "coefficient search (KEY=VALUE overrides follow), then emit the family")
    f.add_argument("--backend", choices=("ray", "local"), help="with --search: override execution.backend")
    f.add_argument("--run-dir", help="with --search: the run directory")
    f.add_argument("--out-dir", type=Path, help="where the family files go (default: <run>/family or ./family)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.spec is None:
        raise ValueError("SPEC is required (a named architecture, spec string, JSON file, run directory, "
                         "or with --search an experiment YAML)")
    if args.items and not args.search:
        raise ValueError(f"unexpected arguments {args.items}; KEY=VALUE overrides go with --search")
    if args.search:
        return _search(args)
    if args.family:
        return _family(args)
    return _imagenet(args)


def _imagenet(args: argparse.Namespace) -> int:
    from nas.scaling.imagenet import to_imagenet
    from nas.resolve import resolve
    from search_spaces.catalog import space_for
    from search_spaces.cell.spec import layers_to_n

    spec = resolve(args.spec)
    spec = space_for(spec).network(spec)
    if args.layers is not None and args.cells is not None:
        raise ValueError("give --cells or --layers, not both")
    cells = [layers_to_n(args.layers)] if args.layers is not None else args.cells
    if cells is not None and len(cells) == 1:
        cells = cells[0]
    transfer = to_imagenet(spec, cells=cells, filters=args.filters, width=args.width, depth=args.depth,
                           max_macs=args.max_macs, max_params=args.max_params, resolution=args.resolution,
                           num_classes=args.classes, stem_multiplier=args.stem_multiplier)
    size = transfer.to_dict()["size"]
    if size["kind"] == "cell":
        print(f"cell network, ImageNet stem: N={size['N']}, F={size['F']} (NASNet \"{size['nasnet_notation']}\", "
              f"DARTS \"{size['darts_notation']}\")")
    elif size["kind"] == "macro":
        print(f"macro network: stages {', '.join(size['stages'])}")
    else:
        print(f"block network: stages {' '.join(size['stages'])}, head {size['head']}")
    print(f"{transfer.spec.resolution}x{transfer.spec.resolution} input, {transfer.spec.num_classes} classes")
    print(f"params {transfer.cost.params:,} ({transfer.cost.params / 1e6:.2f}M)  "
          f"MACs {transfer.cost.macs:,} ({transfer.cost.macs / 1e6:.0f}M)")
    if transfer.fit is not None:
        print(f"largest fit within {transfer.budget} ({transfer.fit.evaluated} sizes costed)")
    print(transfer.spec.to_str())
    if args.output is not None:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(transfer.to_dict(), indent=2) + "\n")
        print(f"saved {args.output}")
    return 0


def _family(args: argparse.Namespace, run_dir: Path | None = None) -> int:
    from search_spaces.compound.space import ScaledSpec
    from nas.scaling.family import family, markdown, paper_differences, write_family
    from nas.resolve import resolve as resolve_any

    spec = resolve_any(str(run_dir) if run_dir is not None else args.spec)
    found = isinstance(spec, ScaledSpec)
    coeffs = args.coefficients or (spec.coefficients if found else None)
    if coeffs is None:
        raise ValueError("--family needs --coefficients alpha,beta,gamma unless SPEC is a compound-scaling run "
                         "(or compound: spec)")
    base = resolve_any(args.base) if args.base else (spec.base if found else spec)
    members = family(base, *coeffs, phis=args.phi)
    out_dir = args.out_dir or (run_dir / "family" if run_dir is not None else Path("family"))
    source = {"coefficients_from": "search" if found and not args.coefficients else "given",
              "base": base.to_str()}
    paths = write_family(members, out_dir, coeffs, source)
    print(markdown(members, coeffs))
    from search_spaces.catalog import resolve
    for note in paper_differences(members) if base == resolve("efficientnet_b0") else []:
        print(f"differs from the released EfficientNet table: {note}")
    print(f"wrote {paths['markdown']}, {paths['csv']}, {paths['json']} and {len(members)} spec files in {out_dir}")
    return 0


def _search(args: argparse.Namespace) -> int:
    from nas.config import load_config
    from nas.commands.search import progress_for
    from nas.search import search

    overrides = list(args.items)
    if args.backend:
        overrides.append(f"execution.backend={args.backend}")
    config = load_config(args.spec, overrides)
    if config.space.name != "compound":
        raise ValueError(f"--search runs a compound-scaling experiment (space.name: compound), got "
                         f"space.name {config.space.name!r}; use `nas search` for other searches")
    summary = search(config, run_dir=args.run_dir, progress=progress_for(config, title="scale --search"))
    c = summary.counts
    print(f"evaluated {c['done'] + c['stopped']} coefficient triples ({c['failed']} failed) in "
          f"{summary.wall_s:.1f} s; run directory {summary.run_dir}")
    if summary.best_spec is None:
        raise ValueError("no candidate finished; nothing to scale")
    print(f"best reward {summary.best_reward:.4f}: {summary.best_spec}")
    return _family(args, run_dir=summary.run_dir)
