"""``nas list``: the named architectures of every space, with their analytic size (no torch)."""
from __future__ import annotations

import argparse


def register(sub) -> None:
    p = sub.add_parser("list", help="list the named architectures of every search space")
    p.add_argument("--space", default=None, help="only this space (cell, blocks, macro, nasbench201, compound)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from search_spaces import catalog

    names = [args.space] if args.space else list(catalog.SPACES)
    packages = [(name, catalog.package(name)) for name in names]  # an unknown --space fails here
    print(f"{'name':<28} {'space':<12} {'params':>14} {'MACs':>16}  input")
    for space_name, package in packages:
        for arch, spec in sorted(package.NAMED.items()):
            space = catalog.space_for(spec)
            cost = space.cost(spec)
            print(f"{arch:<28} {space_name:<12} {cost.params:>14,} {cost.macs:>16,}  "
                  f"{space.input_resolution(spec)}px, {space.network(spec).num_classes} classes")
    return 0
