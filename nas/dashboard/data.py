"""What the dashboard shows of one run, as JSON-ready dicts, read from the run store read-only.

``RunSource`` keeps one read-only SQLite connection per run (short autocommit reads: a WAL reader
never blocks the driver) and answers: a change key (``version``: SQLite's ``data_version``, which
moves whenever another connection commits, plus the newest seq), the run's state (status,
progress, ETA, trials with repeats folded, best-so-far, the Pareto front), a trial's epochs, and
decision importances from Optuna's evaluators fed our trials in an in-memory study.
"""
from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any

from nas.runs_export import connect_readonly, epoch_rows, fold_repeats, trial_rows

COSTS = ("macs", "params", "latency_ms")


def pareto(points: list[tuple[float, float, int]]) -> list[int]:
    """Seqs of the (cost, reward, seq) points no other point beats on both (lower cost, higher
    reward), in increasing cost."""
    front, best = [], float("-inf")
    for _cost, reward, seq in sorted(points, key=lambda p: (p[0], -p[1], p[2])):
        if reward > best:
            front.append(seq)
            best = reward
    return front


def driver_alive(run_dir: Path) -> bool:
    """A driver holds the run: its lock file names a live pid (read only; never locked here,
    so the dashboard cannot keep a driver from starting)."""
    try:
        holder = json.loads((run_dir / "driver.lock").read_text() or "{}")
    except (OSError, ValueError):
        return False
    pid = holder.get("pid") if isinstance(holder, dict) else None
    if not isinstance(pid, int):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _space(config: dict) -> Any:
    """The run's space for catalog spaces (custom code is never imported by the dashboard)."""
    try:
        from nas.config import from_dict
        from nas.search.plan import make_space
        return make_space(from_dict(config))
    except Exception:  # noqa: BLE001 -- decisions then show as d0, d1, ... indices
        return None


class RunSource:
    """One run directory, read-only."""

    def __init__(self, run_dir: str | Path) -> None:
        self.run_dir = Path(run_dir).resolve()
        self.conn = connect_readonly(self.run_dir)
        self.lock = threading.Lock()
        self.config = self._meta("config") or {}
        self.space = _space(self.config) if self.config else None
        dims = self.space.dimensions() if self.space is not None else ()
        self.dims = [{"name": d.name, "choices": [str(c) for c in d.choices]} for d in dims]
        self._cache: dict[str, tuple[str, Any]] = {}

    def _meta(self, key: str) -> Any:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else json.loads(row[0])

    def close(self) -> None:
        self.conn.close()

    def version(self) -> str:
        with self.lock:
            data_version = self.conn.execute("PRAGMA data_version").fetchone()[0]
            seq = self.conn.execute("SELECT MAX(seq) FROM trials").fetchone()[0]
        return f"{data_version}.{seq or 0}.{int(driver_alive(self.run_dir))}"

    def _cached(self, name: str, build) -> Any:
        version = self.version()
        hit = self._cache.get(name)
        if hit is not None and hit[0] == version:
            return hit[1]
        value = build()
        self._cache[name] = (version, value)
        return value

    def state(self) -> dict:
        return self._cached("state", self._state)

    def _state(self) -> dict:
        with self.lock:
            names = [d["name"] for d in self.dims] or None
            rows = trial_rows(self.conn, names)
            elapsed = float(self._meta("elapsed_s") or 0.0)
            running_epochs = self._running_epochs()
        version = self.version()
        trials = [_trial(r, names) for r in rows]
        folded = fold_repeats(rows)
        finished = [t for t in trials if t["status"] != "running"]
        best, curve = None, []
        for t in sorted(finished, key=lambda t: (t["finished_s"] or 0.0, t["seq"])):
            if t["reward"] is not None and t["status"] != "failed" and (best is None or t["reward"] > best):
                best = t["reward"]
            curve.append([t["seq"], t["finished_s"], best])
        return {"run": self.summary(trials, elapsed, running_epochs), "version": version,
                "dims": self.dims, "trials": trials,
                "table": [{**_trial(r, names), "repeats": r["repeats"]} for r in folded],
                "best_curve": curve, "pareto": self._fronts(trials)}

    def _running_epochs(self) -> dict[int, int]:
        try:
            rows = self.conn.execute("SELECT e.candidate_id, MAX(e.epoch) FROM epochs e JOIN trials t "
                                     "ON t.candidate_id = e.candidate_id WHERE t.status = 'running' "
                                     "GROUP BY e.candidate_id").fetchall()
        except Exception:  # noqa: BLE001 -- a run recorded before the epochs table existed
            return {}
        return dict(rows)

    def summary(self, trials: list[dict], elapsed: float, running_epochs: dict[int, int]) -> dict:
        c = self.config
        counts = {s: 0 for s in ("running", "done", "stopped", "failed")}
        for t in trials:
            counts[t["status"]] = counts.get(t["status"], 0) + 1
        budget = int((c.get("budget") or {}).get("trials") or len(trials) or 1)
        ev = c.get("evaluation") or {}
        epochs = (ev.get("train") or {}).get("epochs") if ev.get("kind") == "proxy" else None
        finished = counts["done"] + counts["stopped"] + counts["failed"]
        effective = finished + (sum(min(e, epochs) / epochs for e in running_epochs.values()) if epochs else 0)
        alive = driver_alive(self.run_dir)
        if alive:
            status = "running"
        else:
            status = "finished" if finished >= budget else "stopped (resume with nas search --resume)"
        eta = elapsed * (budget - effective) / effective if alive and effective > 0 else None
        scored = [t for t in trials if t["reward"] is not None and t["status"] != "failed"]
        best = max(scored, key=lambda t: (t["reward"], -t["seq"]), default=None)
        return {"name": self.run_dir.name, "path": str(self.run_dir), "status": status,
                "space": (c.get("space") or {}).get("name"), "strategy": (c.get("strategy") or {}).get("name"),
                "metric": ev.get("metric", "val_acc"), "budget": budget, "counts": counts,
                "finished": finished, "elapsed_s": elapsed, "eta_s": eta, "epochs_per_trial": epochs,
                "running_epochs": {str(k): v for k, v in running_epochs.items()},
                "best": best and {"seq": best["seq"], "id": best["id"], "reward": best["reward"],
                                  "spec": best["spec"]}, "now": time.time()}

    @staticmethod
    def _fronts(trials: list[dict]) -> dict[str, list[int]]:
        fronts = {}
        for cost in COSTS:
            points = [(t["metrics"][cost], t["reward"], t["seq"]) for t in trials
                      if t["reward"] is not None and t["status"] != "failed"
                      and isinstance(t["metrics"].get(cost), (int, float))]
            if points:
                fronts[cost] = pareto(points)
        return fronts

    def epochs(self, candidate_id: int) -> list[dict]:
        with self.lock:
            return epoch_rows(self.conn, candidate_id)

    def importance(self) -> dict:
        return self._cached("importance", self._importance)

    def _importance(self) -> dict:
        """Optuna's importance evaluators over our finished trials, each decision a categorical
        parameter (its choice labels), the reward the objective. fANOVA needs scikit-learn;
        without it Optuna's PED-ANOVA evaluator (no extra dependency) answers."""
        import optuna
        from optuna.distributions import CategoricalDistribution
        trials = [t for t in self.state()["trials"] if t["reward"] is not None and t["status"] != "failed"]
        if len(trials) < 4 or not self.dims:
            return {"evaluator": None, "importances": {}, "note": "needs 4 scored trials of a catalog space"}
        dists = {d["name"]: CategoricalDistribution(d["choices"]) for d in self.dims}
        frozen = [optuna.trial.create_trial(
            params={d["name"]: d["choices"][t["decisions"][i]] for i, d in enumerate(self.dims)},
            distributions=dists, value=float(t["reward"])) for t in trials]
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        study = optuna.create_study(direction="maximize")
        study.add_trials(frozen)
        try:
            import sklearn  # noqa: F401
            evaluator = optuna.importance.FanovaImportanceEvaluator(seed=0)
        except ImportError:
            evaluator = optuna.importance.PedAnovaImportanceEvaluator()
        values = optuna.importance.get_param_importances(study, evaluator=evaluator, normalize=True)
        return {"evaluator": type(evaluator).__name__, "importances": dict(values), "trials": len(frozen)}


def _trial(row: dict, names: list[str] | None) -> dict:
    metrics = {k[len("metric."):]: v for k, v in row.items() if k.startswith("metric.")}
    decisions = [v for k, v in row.items() if k.startswith("decision.")]
    return {"seq": row["seq"], "id": row["candidate_id"], "spec": row["spec"], "status": row["status"],
            "reward": row["reward"], "reason": row["reason"], "attempts": row["attempts"],
            "finished_s": row["elapsed_s"], "decisions": decisions, "metrics": metrics}
