"""The report's ladder section: how many candidates each rung judged and at what compute, and the
path the best architecture took up the ladder (successive halving across fidelities; Jamieson &
Talwalkar 2016), so a user sees whether the cheap rung found what the expensive one kept."""
from __future__ import annotations

import html
from pathlib import Path
from typing import Any


def ladder_section(run: Any, out: Path) -> str | None:
    rungs = sorted({t.rung for t in run.trials})
    if rungs == [0] and (run.config.get("evaluation") or {}).get("kind") != "ladder":
        return None
    rows = []
    for r in rungs:
        trials = [t for t in run.trials if t.rung == r]
        scored = [t for t in trials if t.reward is not None and t.status != "failed"]
        cpu = sum(float(t.metrics.get("cpu_s", 0.0)) for t in trials)
        best = max((t.reward for t in scored), default=None)
        rows.append(f"<tr><td>{r}</td><td>{_kind(run.config, r)}</td><td>{len(trials)}</td><td>{len(scored)}</td>"
                    f"<td>{cpu:.1f}</td><td>{'-' if best is None else f'{best:.4g}'}</td></tr>")
    table = ("<table><tr><th>rung</th><th>evaluation</th><th>candidates</th><th>scored</th><th>CPU-s</th>"
             f"<th>best score</th></tr>{''.join(rows)}</table>")
    return "<h2>Evaluation ladder</h2>" + table + _path_of_best(run)


def _kind(config: dict, r: int) -> str:
    rungs = (config.get("evaluation") or {}).get("ladder") or []
    if r >= len(rungs):
        return "-"
    rung = rungs[r]
    extra = ", ".join(f"{k}={v}" for k, v in (rung.get("train") or {}).items())
    return html.escape(rung.get("kind", "?") + (f" ({extra})" if extra else ""))


def _path_of_best(run: Any) -> str:
    """The best architecture's score at every rung it reached (matched by its spec string)."""
    top = run.top(1)
    if not top:
        return ""
    spec = top[0].spec
    steps = [f"rung {t.rung}: trial #{t.candidate_id} scored {t.reward:.4g}"
             for t in sorted(run.trials, key=lambda t: t.rung) if t.spec == spec and t.reward is not None]
    return f"<p>Where the best came from: {' &rarr; '.join(steps)}</p>"
