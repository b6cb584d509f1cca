"""The Python API: the function behind each ``nas`` verb, and objects that show themselves in a
notebook (an architecture draws its cell as SVG, a run shows an HTML summary).

    from nas import api
    run = api.search("experiments/nasbench201_tpe.yaml", ["budget.trials=50"])   # nas search
    run = api.load_run("runs/latest")                                              # any run dir
    run                       # in a notebook: status, counts, best, top-5 table
    run.trials()              # pandas DataFrame, one row per trial (distinct=True: per architecture)
    run.epochs()              # every trial's per-epoch metrics, long form
    best = run.best()         # an Arch: best.spec, best.cost(), and its drawing in a notebook
    api.scale(best.spec, cells=4, filters=44)       # nas scale (ImageNet size)
    api.train(best.spec, api.DataConfig(...), api.TrainConfig(epochs=10), "runs/train/best")
    api.export(best.spec, "exported/", checkpoint="runs/train/best/checkpoint.pt")
    api.dashboard(["runs/latest"], port=8265)       # nas dashboard (blocks; Ctrl-C stops it)
"""
from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from nas.config import ExperimentConfig, load_config
from nas.data.datasets import DataConfig
from nas.train.config import TrainConfig

__all__ = ["Arch", "DataConfig", "ExperimentConfig", "Run", "TrainConfig", "arch", "dashboard", "export",
           "family", "load_config", "load_run", "scale", "search", "train"]


@dataclass(frozen=True)
class Arch:
    """A spec with its drawing and cost; ``_repr_svg_`` draws its cell (or stages) in a notebook."""

    spec: Any
    title: str = ""

    def cost(self) -> Any:
        """Analytic params / MACs (no model is built)."""
        from search_spaces.catalog import space_for
        return space_for(self.spec).cost(self.spec)

    def svg(self, view: str | None = None) -> str:
        from nas.graphs import draw, drawing_view, graph_of
        text = draw(graph_of(self.spec, view or drawing_view(self.spec)), "svg").data.decode()
        return text[text.find("<svg"):]

    def _repr_svg_(self) -> str:
        return self.svg()

    def __str__(self) -> str:
        return self.spec.to_str()


def arch(text_or_spec: Any) -> Arch:
    """An Arch from a spec, a spec string, a named architecture or a spec JSON file (``nas inspect``)."""
    from nas.resolve import resolve
    return Arch(resolve(text_or_spec) if isinstance(text_or_spec, str) else text_or_spec)


class Run:
    """A search run directory, read through ``nas.runs`` (the store is the truth)."""

    def __init__(self, run_dir: str | Path) -> None:
        from nas.runs import is_search_run
        self.run_dir = Path(run_dir)
        if not is_search_run(self.run_dir):
            raise ValueError(f"{str(run_dir)!r} is not a search run directory (no trials.sqlite in it)")

    def top(self, k: int = 10) -> list:
        """The best ``k`` trials (``TrialRecord``), one per architecture (``nas.runs.top``)."""
        from nas.runs import top
        return top(self.run_dir, k)

    def best(self, rank: int = 1) -> Arch:
        from nas.runs import top_specs
        title, spec = top_specs(self.run_dir, rank)[rank - 1]
        return Arch(spec, title)

    def trials(self, distinct: bool = False):
        from nas.runs import trials_frame
        return trials_frame(self.run_dir, distinct=distinct)

    def epochs(self):
        from nas.runs import epochs_frame
        return epochs_frame(self.run_dir)

    def export_csv(self, path: str | Path, distinct: bool = False) -> Path:
        from nas.runs import export_trials_csv
        return export_trials_csv(self.run_dir, path, distinct=distinct)

    def report(self) -> Path:
        """Write the static HTML report (``nas report``); returns its path."""
        from nas.report import write_report
        return write_report(self.run_dir)

    def summary(self) -> dict:
        """Status, counts, budget, elapsed, ETA and best, as the dashboard shows them."""
        from nas.dashboard.data import RunSource
        source = RunSource(self.run_dir)
        try:
            return source.state()["run"]
        finally:
            source.close()

    def _repr_html_(self) -> str:
        s, rows = self.summary(), self.top(5)
        c = s["counts"]
        best = "-" if not s["best"] else f"{s['best']['reward']:.4f}"
        cells = "".join(f"<tr><td>{i}</td><td>{r.reward:.4f}</td><td><code>{html.escape(r.spec)}</code></td></tr>"
                        for i, r in enumerate(rows, start=1))
        return (f"<div><b>{html.escape(s['name'])}</b> ({html.escape(str(s['space']))} / "
                f"{html.escape(str(s['strategy']))}): {html.escape(s['status'])}, {s['finished']}/{s['budget']} "
                f"finished ({c['failed']} failed), best {html.escape(s['metric'])} {best}"
                f"<table><tr><th>rank</th><th>reward</th><th>spec</th></tr>{cells}</table></div>")

    def __repr__(self) -> str:
        return f"Run({str(self.run_dir)!r})"


def load_run(run_dir: str | Path) -> Run:
    return Run(run_dir)


def search(experiment: str | Path | ExperimentConfig, overrides: Sequence[str] = (), *,
           run_dir: str | Path | None = None, resume: bool = False, progress: bool = True,
           allow_code: bool = False) -> Run:
    """Run (or with ``resume`` continue) a search (``nas search``); returns the finished Run."""
    from nas.commands.search import progress_for
    from nas.search import resume_config
    from nas.search import search as run_search
    if resume:
        config = resume_config(run_dir, list(overrides))
    elif isinstance(experiment, ExperimentConfig):
        config = experiment
    else:
        config = load_config(experiment, list(overrides))
    summary = run_search(config, run_dir=run_dir, resume=resume, progress=progress_for(config, progress),
                         allow_code=allow_code)
    return Run(summary.run_dir)


def scale(spec: Any, **size: Any) -> Any:
    """The ImageNet-size network of a found spec (``nas scale``): ``cells``/``filters`` for cell
    specs, ``width``/``depth`` for block specs, or a ``max_macs``/``max_params`` budget."""
    from nas.scaling.imagenet import to_imagenet
    return to_imagenet(spec, **size)


def family(spec: Any, alpha: float, beta: float, gamma: float, phis: Sequence[float] = (1, 2, 3, 4, 5, 6, 7)) -> list:
    """The compound-scaling family phi = 1..7 of a base spec (``nas scale --family``)."""
    from nas.scaling.family import family as make_family
    return make_family(spec, alpha, beta, gamma, phis)


def train(spec: Any, data: DataConfig, config: TrainConfig, out: str | Path, *, resume: bool = False) -> dict:
    """Train a spec to completion into ``out`` (``nas train``); returns the results record."""
    from nas.train.full import train_full
    return train_full(arch(spec).spec, data, config, Path(out), resume=resume)


def export(spec: Any, out_dir: str | Path, **options: Any) -> Any:
    """ONNX / TorchScript export with the spec beside the model (``nas export``)."""
    from nas.export import export as run_export
    return run_export(arch(spec).spec, out_dir, **options)


def dashboard(run_dirs: Sequence[str | Path], *, host: str = "127.0.0.1", port: int = 8265) -> None:
    """Serve the live dashboard over ``run_dirs`` until interrupted (``nas dashboard``)."""
    from nas.dashboard import serve
    serve(run_dirs, host, port)
