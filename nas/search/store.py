"""The run store: one SQLite file per run directory, written only by the search driver.

Each proposal and each outcome is one transaction that also holds the strategy's state as it is
right after that ask or tell, so the trials table and the strategy checkpoint can never disagree:
a driver killed at any instant resumes from a consistent pair (finished trials kept, trials that
were running run again, the strategy continuing from its state).
"""
from __future__ import annotations

import json
import math
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from nas.strategies.base import Candidate, Failure, Outcome, Result

FINISHED = ("done", "stopped", "failed")
STATUSES = ("running",) + FINISHED

_SCHEMA = """
CREATE TABLE IF NOT EXISTS trials (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,  -- proposal order
    candidate_id INTEGER NOT NULL UNIQUE,
    spec TEXT NOT NULL,
    decisions TEXT NOT NULL,                -- JSON list of choice indices
    status TEXT NOT NULL,                   -- running | done | stopped | failed
    reward REAL,
    metrics TEXT NOT NULL DEFAULT '{}',     -- JSON: every metric the evaluator returned
    reason TEXT,                            -- failure reason
    ray_trial_id TEXT,
    attempts INTEGER NOT NULL DEFAULT 1,    -- 1 + worker restarts + resumed re-runs
    proposed_at REAL NOT NULL,              -- unix time
    finished_at REAL,
    elapsed_s REAL,                         -- search clock (excludes time the driver was down)
    rung INTEGER NOT NULL DEFAULT 0         -- evaluation ladder rung (0: the only one without a ladder)
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS epochs (                -- every per-epoch report of every trial
    candidate_id INTEGER NOT NULL,
    epoch INTEGER NOT NULL,
    metrics TEXT NOT NULL,                  -- JSON: the scalars the evaluator reported
    reported_at REAL NOT NULL,              -- unix time
    elapsed_s REAL,                         -- search clock
    PRIMARY KEY (candidate_id, epoch)       -- a re-run (resume, worker retry) replaces its rows
);
CREATE INDEX IF NOT EXISTS trials_by_spec ON trials (spec, reward);  -- folding repeats in top()
"""


@dataclass(frozen=True)
class TrialRecord:
    seq: int
    candidate_id: int
    spec: str
    decisions: tuple[int, ...]
    status: str
    reward: float | None
    metrics: dict = field(hash=False)
    reason: str | None
    ray_trial_id: str | None
    attempts: int
    proposed_at: float
    finished_at: float | None
    elapsed_s: float | None
    rung: int = 0

    @property
    def finished(self) -> bool:
        return self.status in FINISHED


def _clean(value: Any) -> Any:
    """JSON-safe metric values (NaN/inf become None: SQLite JSON and browsers reject them)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy / torch scalars
        return _clean(value.item())
    return value


class RunStore:
    """Trials table + strategy checkpoint. Not thread-safe by design: only the driver writes."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.conn = sqlite3.connect(str(self.path), isolation_level=None, timeout=30)
            self.conn.execute("PRAGMA journal_mode=WAL")
            # WAL + NORMAL: a committed transaction survives a killed process (what --resume needs);
            # only an OS crash may lose the last ones. Saves an fsync per transaction.
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self.conn.executescript(_SCHEMA)
            columns = {row[1] for row in self.conn.execute("PRAGMA table_info(trials)")}
            if "rung" not in columns:  # a store written before ladders existed
                self.conn.execute("ALTER TABLE trials ADD COLUMN rung INTEGER NOT NULL DEFAULT 0")
        except sqlite3.Error as err:
            raise ValueError(f"{self.path}: cannot open the run store ({err}); check the folder is "
                             "writable and has free space, or restore the file from a copy") from None

    def checkpoint(self) -> None:
        """Copy the WAL into the main file. After a kill every row would otherwise sit in
        ``trials.sqlite-wal``, and copying only ``trials.sqlite`` (the realistic way to lose it)
        silently dropped the run; at each safe point the main file alone holds the whole run."""
        self.conn.execute("PRAGMA wal_checkpoint(PASSIVE)")

    def close(self) -> None:
        try:
            self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error:
            pass  # e.g. a full disk: the WAL keeps the rows and the next open replays it
        self.conn.close()

    def __enter__(self) -> "RunStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- writes (each a single transaction) --------------------------------------------------

    def _txn(self):
        return _Transaction(self.conn)

    def propose(self, cand: Candidate, spec: str, state: dict, ray_trial_id: str | None = None,
                rung: int = 0) -> None:
        with self._txn():
            self.conn.execute(
                "INSERT INTO trials (candidate_id, spec, decisions, status, ray_trial_id, proposed_at, rung)"
                " VALUES (?, ?, ?, 'running', ?, ?, ?)",
                (int(cand.id), spec, json.dumps([int(d) for d in cand.decisions]), ray_trial_id,
                 time.time(), int(rung)))
            self._put(_state_key(rung), state)
        self.checkpoint()

    def restart(self, candidate_id: int, ray_trial_id: str | None = None) -> None:
        """A trial that was running when the driver died starts again (same candidate)."""
        with self._txn():
            self.conn.execute("UPDATE trials SET attempts = attempts + 1, ray_trial_id = ? "
                              "WHERE candidate_id = ? AND status = 'running'",
                              (ray_trial_id, int(candidate_id)))

    def note_retry(self, candidate_id: int) -> None:
        """Ray restarted the trial after its worker process died."""
        with self._txn():
            self.conn.execute("UPDATE trials SET attempts = attempts + 1 WHERE candidate_id = ?",
                              (int(candidate_id),))

    def finish(self, candidate_id: int, outcome: Outcome, state: dict, elapsed_s: float,
               stopped: bool = False) -> None:
        if isinstance(outcome, Result):
            status, reward, metrics, reason = ("stopped" if stopped else "done",
                                               float(outcome.reward), dict(outcome.metrics), None)
        elif isinstance(outcome, Failure):
            status, reward, metrics, reason = "failed", None, {}, str(outcome.reason)
        else:
            raise TypeError(f"outcome must be Result or Failure, got {type(outcome).__name__}")
        with self._txn():
            cur = self.conn.execute(
                "UPDATE trials SET status = ?, reward = ?, metrics = ?, reason = ?, finished_at = ?,"
                " elapsed_s = ? WHERE candidate_id = ? AND status = 'running'",
                (status, reward if reward is None or math.isfinite(reward) else None,
                 json.dumps(_clean(metrics)), reason, time.time(), float(elapsed_s),
                 int(candidate_id)))
            if cur.rowcount != 1:
                raise ValueError(f"candidate {candidate_id} is not a running trial of this run")
            rung = self.conn.execute("SELECT rung FROM trials WHERE candidate_id = ?", (int(candidate_id),))
            self._put(_state_key(rung.fetchone()[0]), state)
        self.checkpoint()

    def record_epoch(self, candidate_id: int, epoch: int, metrics: dict, elapsed_s: float) -> None:
        """One per-epoch report (a re-run's epoch replaces the lost run's, so curves never mix)."""
        with self._txn():
            self.conn.execute("INSERT OR REPLACE INTO epochs (candidate_id, epoch, metrics, reported_at,"
                              " elapsed_s) VALUES (?, ?, ?, ?, ?)",
                              (int(candidate_id), int(epoch), json.dumps(_clean(dict(metrics))),
                               time.time(), float(elapsed_s)))

    def set_meta(self, key: str, value: Any) -> None:
        with self._txn():
            self._put(key, value)

    def _put(self, key: str, value: Any) -> None:
        self.conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                          (key, json.dumps(value)))

    # -- reads -------------------------------------------------------------------------------

    def meta(self, key: str, default: Any = None) -> Any:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return default if row is None else json.loads(row[0])

    def strategy_state(self, rung: int = 0) -> dict | None:
        return self.meta(_state_key(rung))

    def trials(self, statuses: Iterable[str] = STATUSES, rung: int | None = None) -> list[TrialRecord]:
        return self._select(statuses, "ORDER BY seq", rung=rung)

    def top(self, k: int, statuses: Iterable[str] = ("done", "stopped"), *,
            distinct: bool = False, objective: Any = None, rung: int | None = None) -> list[TrialRecord]:
        """The ``k`` best trials (earliest first among ties). By reward they are sorted by SQLite:
        the driver asks after every event, so this must not read the whole table each time.
        ``objective`` (a ``nas.latency.Objective``: shaped reward, feasibility first, Pareto front)
        ranks the scored trials by the search's own objective instead. ``distinct`` folds repeats of
        one architecture (a strategy may re-ask a spec) into its best trial. In a ladder, trials of a
        higher rung rank above every trial of the rungs below (they were judged more faithfully);
        ``rung`` keeps one rung only."""
        statuses = tuple(statuses)
        if objective is not None and objective.kind != "reward":
            ranked = objective.rank(self._select(statuses, "AND reward IS NOT NULL ORDER BY seq", rung=rung))
            ranked.sort(key=lambda r: -r.rung)  # stable: the objective's order within a rung
            if distinct:
                seen: set[str] = set()
                ranked = [r for r in ranked if not (r.spec in seen or seen.add(r.spec))]
            return ranked[:k]
        fold = ""
        if distinct:
            marks = ", ".join("?" * len(statuses))
            within = "" if rung is None else f"AND b.rung = {int(rung)} "
            fold = ("AND seq = (SELECT b.seq FROM trials b WHERE b.spec = trials.spec AND b.reward IS NOT NULL "
                    f"AND b.status IN ({marks}) {within}ORDER BY b.rung DESC, b.reward DESC, b.seq LIMIT 1) ")
        args = (statuses if distinct else ()) + (k,)
        return self._select(statuses, f"AND reward IS NOT NULL {fold}ORDER BY rung DESC, reward DESC, seq LIMIT ?",
                            args, rung=rung)

    def _select(self, statuses: Iterable[str], tail: str, args: tuple = (), rung: int | None = None
                ) -> list[TrialRecord]:
        statuses = tuple(statuses)
        marks = ", ".join("?" * len(statuses))
        where = "" if rung is None else f"AND rung = {int(rung)} "
        rows = self.conn.execute(
            "SELECT seq, candidate_id, spec, decisions, status, reward, metrics, reason, "
            f"ray_trial_id, attempts, proposed_at, finished_at, elapsed_s, rung FROM trials "
            f"WHERE status IN ({marks}) {where}{tail}", statuses + args).fetchall()
        return [TrialRecord(r[0], r[1], r[2], tuple(json.loads(r[3])), r[4], r[5],
                            json.loads(r[6]), *r[7:]) for r in rows]

    def epochs(self, candidate_id: int) -> list[tuple[int, dict]]:
        """(epoch, metrics) of one trial, in epoch order."""
        rows = self.conn.execute("SELECT epoch, metrics FROM epochs WHERE candidate_id = ? ORDER BY epoch",
                                 (int(candidate_id),)).fetchall()
        return [(e, json.loads(m)) for e, m in rows]

    def counts(self, rung: int | None = None) -> dict[str, int]:
        out = dict.fromkeys(STATUSES, 0)
        where = "" if rung is None else f"WHERE rung = {int(rung)} "
        for status, n in self.conn.execute(f"SELECT status, COUNT(*) FROM trials {where}GROUP BY status"):
            out[status] = n
        return out

    def cpu_spent(self, rung: int | None = None) -> float:
        """CPU-seconds the finished trials' evaluations used (their ``cpu_s`` metric), summed."""
        where = "" if rung is None else f"AND rung = {int(rung)}"
        row = self.conn.execute("SELECT SUM(json_extract(metrics, '$.cpu_s')) FROM trials "
                                f"WHERE status != 'running' {where}").fetchone()
        return float(row[0] or 0.0)

    def elapsed(self) -> float:
        """Search clock at the last recorded event (what a resumed search continues from)."""
        row = self.conn.execute("SELECT MAX(elapsed_s) FROM trials").fetchone()
        return max(float(row[0] or 0.0), float(self.meta("elapsed_s", 0.0)))


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on error (autocommit connection underneath)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type, exc, tb) -> None:
        self.conn.execute("ROLLBACK" if exc_type else "COMMIT")


# ---------------------------------------------------------------- one driver per run directory

def _state_key(rung: int) -> str:
    """The strategy checkpoint of a rung: rung 0 keeps the key stores have always used."""
    return "strategy_state" if int(rung) == 0 else f"strategy_state@{int(rung)}"
