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
        """Finished trials in the order they finished."""
        done = [t for t in self.trials if t.finished]
        return sorted(done, key=lambda t: (t.finished_at or 0.0, t.seq))

    @property
    def scored(self) -> list[TrialRecord]:
        return [t for t in self.finished if t.status != "failed" and t.reward is not None]

    def top(self, k: int = 10) -> list[TrialRecord]:
        """Best first, one row per architecture: the run store's ranking (``nas.runs.top``)."""
        from nas.runs import top
        return top(self.run_dir, k)


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
    for key, label in COST_METRICS:
        rows = [t for t in run.scored if isinstance(t.metrics.get(key), (int, float))]
        if len(rows) < 2:
            continue
        cost = [float(t.metrics[key]) for t in rows]
        rewards = [t.reward for t in rows]
        front = [int(i) for i in pareto_front(list(zip(rewards, cost)), maximize=(True, False))]
        img = report_plots.pareto_plot(cost, rewards, front, label, out / f"pareto_{key}.png",
                                       f"Reward vs {label}")
        listed = ", ".join(f"#{rows[i].candidate_id}" for i in sorted(front, key=lambda i: cost[i]))
        parts.append(f"<img src='{img.name}'><p>Pareto front ({label}): {listed}</p>")
    if not parts:
        return None
    return "<h2>Accuracy vs cost</h2>" + "".join(parts)


def top_section(run: RunData, out: Path, k: int = 10) -> str | None:
    top = run.top(k)
    if not top:
        return None
    keys = [key for key, _ in COST_METRICS if any(key in t.metrics for t in top)]
    extra = [key for key in ("val_acc", "test_acc") if any(key in t.metrics for t in top)]
    head = "".join(f"<th>{h}</th>" for h in ["rank", "trial", "reward", *extra, *keys, "spec"])
    rows = []
    for rank, t in enumerate(top, 1):
        cells = [rank, t.candidate_id, t.reward] + [t.metrics.get(x) for x in extra + keys]
        cells_html = "".join(f"<td>{_fmt(v)}</td>" for v in cells)
        rows.append(f"<tr>{cells_html}<td><code>{html.escape(t.spec)}</code></td></tr>")
    return f"<h2>Top architectures</h2><table><tr>{head}</tr>{''.join(rows)}</table>"


def failures_section(run: RunData, out: Path) -> str | None:
    failed = [t for t in run.trials if t.status == "failed"]
    if not failed:
        return None
    rows = "".join(f"<tr><td>{t.candidate_id}</td><td>{_fmt(t.reason)}</td>"
                   f"<td><code>{html.escape(t.spec)}</code></td></tr>" for t in failed)
    return (f"<h2>Failed trials ({len(failed)})</h2><table><tr><th>trial</th><th>reason</th>"
            f"<th>spec</th></tr>{rows}</table>")


DEFAULT_SECTIONS: tuple[Section, ...] = (summary_section, progress_section, pareto_section,
                                         top_section, failures_section)

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
