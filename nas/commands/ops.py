"""``nas ops``: list the operation vocabulary with its papers and cost at a reference shape."""
from __future__ import annotations

import argparse

import cells


def register(sub) -> None:
    p = sub.add_parser("ops", help="list the operation vocabulary")
    p.add_argument("--chs", type=int, default=32, help="input and output channels (default 32)")
    p.add_argument("--size", type=int, default=32, help="input height and width (default 32)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    print(f"{'name':<22} {'params':>10} {'MACs':>12}  paper   (at {args.chs} -> {args.chs} ch, "
          f"{args.size}x{args.size}, stride 1)")
    for name in sorted(cells.OPS):
        c = cells.cost(name, args.chs, args.chs, 1, args.size)
        print(f"{name:<22} {c.params:>10,} {c.macs:>12,}  {cells.OPS[name].paper}")
    return 0
