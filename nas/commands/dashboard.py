"""``nas dashboard``: a live local web page over one or more search runs.

    nas dashboard runs/latest                      # http://127.0.0.1:8265/
    nas dashboard runs/ --port 8080                # every run folder under runs/, side by side
    nas dashboard runs/a runs/b --port 0           # a free port, printed
"""
from __future__ import annotations

import argparse


def register(sub) -> None:
    p = sub.add_parser("dashboard", help="serve a live local web page over search runs",
                       description="Serve a read-only dashboard of search runs (safe while a search "
                                   "writes them). Folders holding run folders (e.g. runs/) add each run.")
    p.add_argument("runs", nargs="*", default=["runs"], metavar="RUN_DIR",
                   help="search run directories, or folders of them (default: runs)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this "
                                                       "machine only)")
    p.add_argument("--port", type=int, default=8265, help="port (default 8265; 0 picks a free one)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from nas.dashboard import serve
    from nas.runs_export import iter_runs

    if not 0 <= args.port <= 65535:
        raise ValueError(f"--port: bad value {args.port}; accepted 0..65535")
    runs = list(dict.fromkeys(p.resolve() for p in iter_runs(args.runs)))
    if not runs:
        raise ValueError(f"no search run directory (a folder holding trials.sqlite) in or under "
                         f"{', '.join(map(repr, args.runs))}")
    try:
        serve(runs, args.host, args.port)
    except KeyboardInterrupt:
        print("dashboard stopped")
    return 0
