"""The ``nas`` command line: a thin dispatcher over ``nas.commands`` (pycls's lesson: the CLI
only parses and delegates). Each subcommand lives in its own module there."""
from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

import nas.commands


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nas", description="Neural architecture search for CNNs.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(nas.commands.__path__), key=lambda m: m.name):
        importlib.import_module(f"nas.commands.{info.name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (ValueError, KeyError, FileNotFoundError, TypeError) as err:
        # Bad input reaches the user as one line, not a traceback.
        msg = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"nas {args.command}: error: {msg}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
