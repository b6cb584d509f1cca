"""Read a run store without writing it: trials and per-epoch records as rows, CSV or pandas.

The dashboard and the exports open ``trials.sqlite`` read-only (an SQLite ``mode=ro`` URI) and read
in short transactions, so they are safe beside a driver that is writing the run: WAL readers
never block the writer and always see a committed state. Rankings stay ``nas.runs.top``'s; this
module only lays the records out as tables (one row per trial, or per distinct architecture with
its repeats folded into the best of them).
"""
from __future__ import annotations

import csv
import json
import sqlite3
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import quote

STORE = "trials.sqlite"
TRIAL_COLUMNS = ("seq", "candidate_id", "spec", "status", "reward", "reason", "attempts",
                 "proposed_at", "finished_at", "elapsed_s")


def store_path(run_dir: str | Path) -> Path:
    path = Path(run_dir) / STORE
    if not path.is_file():
        raise ValueError(f"{str(run_dir)!r} is not a search run directory (no {STORE} in it)")
    return path


def connect_readonly(run_dir: str | Path) -> sqlite3.Connection:
    """A read-only connection to a run's store (never creates, migrates or checkpoints it)."""
    path = store_path(run_dir).resolve()
    try:
        conn = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True, timeout=5,
                               check_same_thread=False)
        conn.execute("SELECT 1 FROM trials LIMIT 1")
    except sqlite3.Error as err:
        raise ValueError(f"{path}: cannot read the run store ({err})") from None
    return conn


def has_epochs(conn: sqlite3.Connection) -> bool:
    """Runs recorded before the epochs table existed have none."""
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'epochs'"
                        ).fetchone() is not None


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, (int, float, str, bool))


def trial_rows(conn: sqlite3.Connection, names: list[str] | None = None) -> list[dict]:
    """Every trial as a flat dict: the store's columns, ``decision.<name>`` (choice index) per
    decision (``names`` from the space, else d0, d1, ...) and ``metric.<key>`` per scalar metric."""
    rows = conn.execute(f"SELECT {', '.join(TRIAL_COLUMNS)}, decisions, metrics FROM trials "
                        "ORDER BY seq").fetchall()
    out = []
    for row in rows:
        record = dict(zip(TRIAL_COLUMNS, row))
        for i, choice in enumerate(json.loads(row[-2])):
            name = names[i] if names and i < len(names) else f"d{i}"
            record[f"decision.{name}"] = choice
        for key, value in json.loads(row[-1]).items():
            if _scalar(value):
                record[f"metric.{key}"] = value
        out.append(record)
    return out


def fold_repeats(rows: list[dict]) -> list[dict]:
    """One row per spec: its best scored trial (earliest among ties, like ``RunStore.top``), else
    its latest trial, with ``repeats`` (how many trials asked for it) and ``best_of`` seq."""
    groups: dict[str, list[dict]] = {}
    for row in rows:
        groups.setdefault(row["spec"], []).append(row)
    folded = []
    for trials in groups.values():
        scored = [t for t in trials if t["reward"] is not None and t["status"] in ("done", "stopped")]
        best = (min(scored, key=lambda t: (-t["reward"], t["seq"])) if scored else trials[-1])
        folded.append({**best, "repeats": len(trials)})
    return sorted(folded, key=lambda r: r["seq"])


def epoch_rows(conn: sqlite3.Connection, candidate_id: int | None = None) -> list[dict]:
    """Per-epoch records (candidate_id, epoch, reported_at, elapsed_s, metrics...)."""
    if not has_epochs(conn):
        return []
    where, args = ("WHERE candidate_id = ?", (int(candidate_id),)) if candidate_id is not None else ("", ())
    rows = conn.execute("SELECT candidate_id, epoch, reported_at, elapsed_s, metrics FROM epochs "
                        f"{where} ORDER BY candidate_id, epoch", args).fetchall()
    out = []
    for cid, epoch, at, elapsed, metrics in rows:
        scalars = {k: v for k, v in json.loads(metrics).items() if _scalar(v)}
        out.append({"candidate_id": cid, "epoch": epoch, "reported_at": at, "elapsed_s": elapsed,
                    **scalars})
    return out


def _read(run_dir: str | Path, fn, *args) -> Any:
    conn = connect_readonly(run_dir)
    try:
        return fn(conn, *args)
    finally:
        conn.close()


def decision_names(run_dir: str | Path) -> list[str] | None:
    """The space's decision names from the run's saved config, for catalog spaces (custom code is
    never imported here); None when they cannot be known."""
    try:
        from nas.config import from_dict, read_yaml
        from nas.search.plan import make_space
        space = make_space(from_dict(read_yaml(Path(run_dir) / "config.yaml")))
        return [d.name for d in space.dimensions()]
    except Exception:  # noqa: BLE001 -- names are a nicety; d0, d1, ... still identify the columns
        return None


def trials(run_dir: str | Path, *, distinct: bool = False) -> list[dict]:
    rows = _read(run_dir, trial_rows, decision_names(run_dir))
    return fold_repeats(rows) if distinct else rows


def trials_frame(run_dir: str | Path, *, distinct: bool = False):
    """The trials as a ``pandas.DataFrame`` (one row per trial, or per architecture with
    ``distinct=True``), indexed by ``seq``."""
    import pandas as pd
    rows = trials(run_dir, distinct=distinct)
    frame = pd.DataFrame(rows, columns=_columns(rows))
    return frame.set_index("seq")


def epochs_frame(run_dir: str | Path):
    """Every trial's per-epoch metrics as a ``pandas.DataFrame`` (long form)."""
    import pandas as pd
    rows = _read(run_dir, epoch_rows)
    return pd.DataFrame(rows, columns=_columns(rows) or ["candidate_id", "epoch", "reported_at", "elapsed_s"])


def _columns(rows: list[dict]) -> list[str]:
    seen: dict[str, None] = {}
    for row in rows:
        seen.update(dict.fromkeys(row))
    return list(seen) or list(TRIAL_COLUMNS)


def write_csv(rows: list[dict], path: str | Path) -> Path:
    path = Path(path)
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=_columns(rows))
        writer.writeheader()
        writer.writerows(rows)
    return path


def export_trials_csv(run_dir: str | Path, path: str | Path, *, distinct: bool = False) -> Path:
    """Write the trials table as CSV (the columns of ``trials_frame``); returns the path."""
    return write_csv(trials(run_dir, distinct=distinct), path)


def iter_runs(paths: list[str | Path]) -> Iterator[Path]:
    """Search run directories among ``paths`` and their direct children (a ``runs/`` folder)."""
    for path in map(Path, paths):
        if (path / STORE).is_file():
            yield path
        elif path.is_dir():
            yield from sorted(p for p in path.iterdir() if (p / STORE).is_file() and not p.is_symlink())
