"""``nas report RUN_DIR``: write the search report (HTML + PNG plots) into the run directory."""
from __future__ import annotations

import argparse


def register(sub) -> None:
    p = sub.add_parser("report", help="write a search's report page and plots",
                       description="Best-so-far vs trials and time, accuracy vs cost with the "
                                   "Pareto front, and the top architectures, as RUN_DIR/report/"
                                   "index.html with PNG plots.")
    p.add_argument("run_dir", metavar="RUN_DIR", help="a directory written by nas search")
    p.add_argument("--top", type=int, default=5, help="architectures to list here (default 5)")
    p.set_defaults(func=run)


def check_run_dir(run_dir: str) -> None:
    """A search run whose config and store can be read, or one line naming the bad file."""
    from pathlib import Path
    from nas.config import read_yaml
    from nas.search.store import RunStore

    path = Path(run_dir)
    if not (path / "trials.sqlite").is_file():
        raise FileNotFoundError(f"{run_dir}: not a search run directory (no trials.sqlite)")
    if (path / "config.yaml").is_file():
        read_yaml(path / "config.yaml")
    import sqlite3
    try:
        conn = sqlite3.connect(str(path / "trials.sqlite"))
        try:  # read before RunStore would create the tables in an empty (truncated) file
            if conn.execute("SELECT name FROM sqlite_master WHERE name = 'trials'").fetchone() is None:
                raise sqlite3.DatabaseError("no trials table: empty or truncated")
        finally:
            conn.close()
        with RunStore(path / "trials.sqlite") as store:
            store.counts()  # a corrupt database fails here, named, rather than deep in the report
    except sqlite3.Error as err:
        raise ValueError(f"{path / 'trials.sqlite'}: the run store is unreadable ({err}); restore it "
                         "from a copy") from None


def run(args: argparse.Namespace) -> int:
    from nas.graphs.report_section import cell_drawings_section
    from nas.report import load_run, write_report

    if args.top < 1:
        raise ValueError(f"--top: bad value {args.top}; accepted: an integer >= 1")
    check_run_dir(args.run_dir)
    page = write_report(args.run_dir, extra_sections=(cell_drawings_section,))
    run_data = load_run(args.run_dir)
    print(f"report: {page}")
    for rank, t in enumerate(run_data.top(args.top), 1):
        cost = t.metrics.get("macs")
        cost_text = f"  {cost / 1e6:.1f}M MACs" if isinstance(cost, (int, float)) else ""
        print(f"{rank:>2}. trial {t.candidate_id:<4} reward {t.reward:.4f}{cost_text}  {t.spec}")
    return 0
