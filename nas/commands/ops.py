"""``nas ops``: list the operation vocabulary with its papers and cost at a reference shape."""
from __future__ import annotations

import argparse

import cells


def register(sub) -> None:
    p = sub.add_parser("ops", help="list the operation vocabulary")
    p.add_argument("--chs", type=int, default=32, help="input channels (default 32)")
    p.add_argument("--out-chs", type=int, default=None, help="output channels (default: --chs)")
    p.add_argument("--size", type=int, default=32, help="input height and width (default 32)")
    p.add_argument("--stride", type=int, default=1, help="stride, 1 or 2 (default 1)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    out_chs = args.chs if args.out_chs is None else args.out_chs
    for flag, value in (("--chs", args.chs), ("--out-chs", out_chs), ("--size", args.size)):
        if value < 1:
            raise ValueError(f"{flag} must be a positive int, got {value}")
    if args.stride not in (1, 2):
        raise ValueError(f"--stride must be 1 or 2, got {args.stride}")
    print(f"{'name':<22} {'params':>10} {'MACs':>13}  paper   (at {args.chs} -> {out_chs} ch, "
          f"{args.size}x{args.size}, stride {args.stride})")
    for name in sorted(cells.OPS):
        if cells.OPS[name].same_chs and out_chs != args.chs:
            print(f"{name:<22} {'-':>10} {'-':>13}  {cells.OPS[name].paper}  (keeps the channel count)")
            continue
        try:
            c = cells.cost(name, args.chs, out_chs, args.stride, args.size)
        except ValueError as err:  # an entry whose shape rule excludes this shape (e.g. dense_layer: out > in)
            rule = str(err).split(": ", 1)[-1]
            print(f"{name:<22} {'-':>10} {'-':>13}  {cells.OPS[name].paper}  (not at this shape: {rule})")
            continue
        print(f"{name:<22} {c.params:>10,} {c.macs:>13,}  {cells.OPS[name].paper}")
    return 0
