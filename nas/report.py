"""``nas report RUN_DIR``: a search's progress, trade-offs and best architectures as one HTML page
with PNG figures, written into ``RUN_DIR/report/``.

The page is a list of sections, each a function ``(run, out_dir) -> HTML fragment | None``;
``write_report(..., extra_sections=...)`` appends more (e.g. drawings of the top cells), so other
parts of the toolkit extend the page without editing this file.
"""
from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import yaml

from nas import report_plots
from nas.search.store import RunStore, TrialRecord

Section = Callable[["RunData", Path], "str | None"]
COST_METRICS = (("macs", "MACs"), ("params", "parameters"), ("latency_ms", "latency (ms)"))


@dataclass(frozen=True)
class RunData:
    run_dir: Path
    config: dict
    trials: tuple[TrialRecord, ...]   # every recorded trial, in proposal order

    @property
    def finished(self) -> list[TrialRecord]:
        """Finished trials in the order they finished; in a ladder, those of its highest rung that
        scored anything (rungs score on different scales, so plots never mix them)."""
        done = [t for t in self.trials if t.finished]
        scored_rungs = {t.rung for t in done if t.reward is not None}
        if scored_rungs:
            done = [t for t in done if t.rung == max(scored_rungs)]
        return sorted(done, key=lambda t: (t.finished_at or 0.0, t.seq))

    @property
    def scored(self) -> list[TrialRecord]:
        return [t for t in self.finished if t.status != "failed" and t.reward is not None]

    def top(self, k: int = 10) -> list[TrialRecord]:
        """Best first by the search's own objective, one row per architecture (``nas.runs.top``)."""
        from nas.runs import top
        return top(self.run_dir, k)

    @property
    def objective(self) -> Any:
        """The run's ranking objective (``nas.latency.Objective``)."""
        from nas.runs import objective
        return objective(self.run_dir)

    def finalists(self) -> list[dict]:
        """The measured finalists the driver kept (predicted vs measured latency)."""
        with RunStore(self.run_dir / "trials.sqlite") as store:
            return list(store.meta("finalists", []) or [])


def load_run(run_dir: str | Path) -> RunData:
    run_dir = Path(run_dir)
    if not (run_dir / "trials.sqlite").is_file():
        raise FileNotFoundError(f"{str(run_dir)!r} is not a search run directory (no trials.sqlite)")
    config_path = run_dir / "config.yaml"
    config = yaml.safe_load(config_path.read_text()) if config_path.is_file() else {}
    with RunStore(run_dir / "trials.sqlite") as store:
        trials = tuple(store.trials())
    return RunData(run_dir, config or {}, trials)


# ---------------------------------------------------------------- sections


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.4f}" if abs(value) < 100 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return html.escape(str(value))


def summary_section(run: RunData, out: Path) -> str:
    c = run.config
    counts = {s: sum(t.status == s for t in run.trials) for s in ("done", "stopped", "failed", "running")}
    elapsed = max((t.elapsed_s or 0.0 for t in run.finished), default=0.0)
    best = run.top(1)
    rows = [("experiment", c.get("name")), ("space", (c.get("space") or {}).get("name")),
            ("strategy", (c.get("strategy") or {}).get("name")),
            ("evaluation", (c.get("evaluation") or {}).get("kind")),
            ("budget", (c.get("budget") or {}).get("trials")),
            ("finished", f"{counts['done']} done, {counts['stopped']} stopped early, "
                         f"{counts['failed']} failed"),
            ("still running", counts["running"]), ("search time", f"{elapsed / 60:.1f} min"),
            ("ranked by", run.objective.describe()),
            ("best reward", best[0].reward if best else None)]
    body = "".join(f"<tr><th>{k}</th><td>{_fmt(v)}</td></tr>" for k, v in rows)
    spec = f"<p>Best spec:</p><pre>{html.escape(best[0].spec)}</pre>" if best else ""
    return f"<h2>Summary</h2><table class='kv'>{body}</table>{spec}"


def progress_section(run: RunData, out: Path) -> str | None:
    done = run.finished
    if not done:
        return None
    rewards = [t.reward if t.status != "failed" else None for t in done]
    a = report_plots.progress_plot(range(1, len(done) + 1), rewards, "trials finished",
                                   out / "best_vs_trials.png", "Best so far vs trials")
    b = report_plots.progress_plot([(t.elapsed_s or 0.0) / 60 for t in done], rewards,
                                   "search time (min)", out / "best_vs_time.png",
                                   "Best so far vs time")
    return f"<h2>Progress</h2><img src='{a.name}'><img src='{b.name}'>"


def pareto_section(run: RunData, out: Path) -> str | None:
    from nas.strategies.pareto import pareto_front
    parts = []
    objective = run.objective
    top = run.top(1)
    pick = top[0].candidate_id if top else None
    for key, label in COST_METRICS:
        rows = [t for t in run.scored if isinstance(t.metrics.get(key), (int, float))]
        if len(rows) < 2:
            continue
        cost = [float(t.metrics[key]) for t in rows]
        rewards = [t.reward for t in rows]
        front = [int(i) for i in pareto_front(list(zip(rewards, cost)), maximize=(True, False))]
        target = objective.target if objective.metric == key else None
        chosen = [i for i, t in enumerate(rows) if t.candidate_id == pick]
        img = report_plots.pareto_plot(cost, rewards, front, label, out / f"pareto_{key}.png",
                                       f"Reward vs {label}", target=target, chosen=chosen[0] if chosen else None)
        listed = ", ".join(f"#{rows[i].candidate_id}" for i in sorted(front, key=lambda i: cost[i]))
        parts.append(f"<img src='{img.name}'><p>Pareto front ({label}): {listed}</p>")
    if not parts:
        return None
    return "<h2>Accuracy vs cost</h2>" + "".join(parts)


def top_section(run: RunData, out: Path, k: int = 10) -> str | None:
    top = run.top(k)
    if not top:
        return None
    objective = run.objective
    keys = [key for key, _ in COST_METRICS if any(key in t.metrics for t in top)]
    extra = [key for key in ("val_acc", "test_acc") if any(key in t.metrics for t in top)]
    tiers = any("latency_tier" in t.metrics for t in top)
    meets = objective.target is not None
    shaped = objective.kind == "mnasnet"
    head = ["rank", "trial", "reward", *(["objective"] if shaped else []), *extra, *keys,
            *(["latency tier"] if tiers else []),
            *([f"meets target ({objective.metric} &le; {objective.target:g})"] if meets else []), "spec"]
    rows = []
    for rank, t in enumerate(top, 1):
        cells = ([rank, t.candidate_id, t.reward] + ([objective.score(t.reward, t.metrics)] if shaped else [])
                 + [t.metrics.get(x) for x in extra + keys] + ([t.metrics.get("latency_tier")] if tiers else []))
        if meets:
            ok = objective.feasible(t.metrics)
            cells.append("-" if ok is None else "yes" if ok else "NO")
        cells_html = "".join(f"<td>{_fmt(v)}</td>" for v in cells)
        rows.append(f"<tr>{cells_html}<td><code>{html.escape(t.spec)}</code></td></tr>")
    head_html = "".join(f"<th>{h}</th>" for h in head)
    return (f"<h2>Top architectures</h2><p>Ranked by the search's objective: {html.escape(objective.describe())}."
            f"</p><table><tr>{head_html}</tr>{''.join(rows)}</table>")


def finalists_section(run: RunData, out: Path) -> str | None:
    rows = run.finalists()
    if not rows:
        return None
    body = []
    for f in rows:
        pred, meas = f.get("predicted_ms"), f.get("measured_ms")
        err = (pred - meas) / meas * 100 if isinstance(pred, (int, float)) and isinstance(meas, (int, float)) else None
        cells = [f.get("candidate_id"), pred, f.get("tier"), meas, f.get("spread_ms"),
                 None if err is None else f"{err:+.1f}%", f.get("note") or ""]
        body.append("<tr>" + "".join(f"<td>{_fmt(v)}</td>" for v in cells)
                    + f"<td><code>{html.escape(str(f.get('spec')))}</code></td></tr>")
    where = html.escape(str(rows[0].get("on", "")))
    return (f"<h2>Measured finalists</h2><p>The best architectures measured at the end of the search ({where}), "
            "against the latency the search used.</p><table><tr><th>trial</th><th>predicted (ms)</th><th>tier</th>"
            "<th>measured (ms)</th><th>spread (ms)</th><th>error</th><th>note</th><th>spec</th></tr>"
            + "".join(body) + "</table>")


def failures_section(run: RunData, out: Path) -> str | None:
    failed = [t for t in run.trials if t.status == "failed"]
    if not failed:
        return None
    rows = "".join(f"<tr><td>{t.candidate_id}</td><td>{_fmt(t.reason)}</td>"
                   f"<td><code>{html.escape(t.spec)}</code></td></tr>" for t in failed)
    return (f"<h2>Failed trials ({len(failed)})</h2><table><tr><th>trial</th><th>reason</th>"
            f"<th>spec</th></tr>{rows}</table>")


def _ladder(run: RunData, out: Path) -> str | None:
    from nas.report_ladder import ladder_section
    return ladder_section(run, out)


DEFAULT_SECTIONS: tuple[Section, ...] = (summary_section, progress_section, _ladder, pareto_section,
                                         top_section, finalists_section, failures_section)

_STYLE = ("body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}"
          "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;"
          "text-align:left;vertical-align:top}code,pre{font-size:85%;word-break:break-all;"
          "white-space:pre-wrap}img{max-width:49%}")


def write_report(run_dir: str | Path, extra_sections: Sequence[Section] = ()) -> Path:
    """Write ``RUN_DIR/report/index.html`` and its PNGs; returns the page's path."""
    run = load_run(run_dir)
    out = run.run_dir / "report"
    out.mkdir(exist_ok=True)
    parts = [section(run, out) for section in (*DEFAULT_SECTIONS, *extra_sections)]
    title = html.escape(f"Search report: {run.config.get('name', run.run_dir.name)}")
    page = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title>"
            f"<style>{_STYLE}</style></head><body><h1>{title}</h1>"
            + "\n".join(p for p in parts if p) + "</body></html>\n")
    path = out / "index.html"
    path.write_text(page)
    return path
