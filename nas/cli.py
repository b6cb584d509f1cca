"""The ``nas`` command line: a thin dispatcher over ``nas.commands`` (pycls's lesson: the CLI
only parses and delegates). Each subcommand lives in its own module there.

Exit status: 0 done, 1 a run finished with a failure, 2 bad input or storage (one line on stderr
naming the field or file), 130 interrupted (Ctrl-C; the line says how to continue).
"""
from __future__ import annotations

import argparse
import importlib
import pkgutil
import shlex
import sqlite3
import sys

import nas
import nas.commands


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nas", description="Neural architecture search for CNNs.")
    parser.add_argument("--version", action="version", version=f"nas (cellnas) {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(nas.commands.__path__), key=lambda m: m.name):
        importlib.import_module(f"nas.commands.{info.name}").register(sub)
    return parser


def _version() -> str:
    from importlib import metadata
    try:
        return metadata.version("cellnas")
    except metadata.PackageNotFoundError:  # a source checkout on PYTHONPATH
        return nas.__version__


def _os_error(err: OSError) -> str:
    """``[Errno 28] No space left on device: 'x'`` -> one line naming the file and what to do."""
    where = err.filename or "a file"
    return (f"{where}: {err.strerror or err}; check the path exists, is writable and its disk has "
            "free space")


def _interrupted(command: str, err: KeyboardInterrupt) -> str:
    run_dir = getattr(err, "run_dir", None)
    if run_dir is None:
        return f"nas {command}: interrupted"
    c, budget = err.counts, err.budget
    finished = c.get("done", 0) + c.get("stopped", 0) + c.get("failed", 0)
    return (f"nas {command}: interrupted after {finished}/{budget} finished trials; continue with: "
            f"nas search --resume {shlex.quote(str(run_dir))}")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt as err:
        print(_interrupted(args.command, err), file=sys.stderr)
        return 130
    except BrokenPipeError:  # `nas list | head`: the reader left; not an error of ours
        import os
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (ValueError, KeyError, FileNotFoundError, TypeError) as err:
        # Bad input reaches the user as one line, not a traceback.
        msg = err.args[0] if isinstance(err, KeyError) and err.args else err
        if isinstance(err, FileNotFoundError) and err.filename:
            msg = _os_error(err)
        print(f"nas {args.command}: error: {' '.join(str(msg).split())}", file=sys.stderr)
        return 2
    except OSError as err:  # read-only folder, full disk, permissions
        print(f"nas {args.command}: error: {_os_error(err)}", file=sys.stderr)
        return 2
    except sqlite3.Error as err:
        print(f"nas {args.command}: error: a run store (SQLite) failed: {err}; check the run folder "
              "is writable and has free space", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
