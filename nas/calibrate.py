"""Calibration of evaluation rungs: how faithfully does each cheap evaluator rank a space's cells?

``nas calibrate`` samples N candidates of an experiment's space (seeded), scores each with every
zero-cost proxy named (Abdelfattah et al. 2021, "Zero-Cost Proxies for Lightweight NAS"; Mellor
et al. 2021, NASWOT) and trains each at every training fidelity named (overrides of the
experiment's ``evaluation.train`` and of its ``data`` subset, each with several seeds), then
rank-correlates every pair of columns (Spearman, Kendall) and measures the seed-to-seed noise of
each fidelity. In the NAS-Bench-201 space the shared 12-epoch table (``cifar10_valid``,
``cifar10_test``) adds two columns. Fidelities are named as in the fast CIFAR-10 recipes we
calibrated against (airbench: Keller Jordan 2024): epochs, images per class, batch size, lr;
and ``width``, a reduced-width proxy (EcoNAS, Zhou et al. 2020): each candidate trained with its
channels scaled by its space's rule (``SearchSpace.scale``; the fixed NB201 network has none).

    plan = plan_calibration(load_config("experiments/nasbench201_ladder.yaml"), n=24,
                            fidelities=[parse_fidelity("epochs=1,per_class=25")])
    result = run_calibration(plan)           # {"columns": ..., "spearman": ..., ...}

Everything a user can get wrong (unknown proxy, bad fidelity key or value, N < 3) fails in
``plan_calibration`` with one line naming the option, the value and what is accepted.
"""
from __future__ import annotations

import dataclasses
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from nas.config import ExperimentConfig, parse_yaml
from nas.data.config import DataConfig
from nas.train.config import TrainConfig

# The data keys a fidelity may change: the subset, not the dataset.
DATA_KEYS = ("per_class", "val_fraction", "split_seed", "resolution")
TRAIN_KEYS = tuple(f.name for f in dataclasses.fields(TrainConfig))
TABLE_COLUMNS = ("cifar10_valid", "cifar10_test")
WIDTH_KEY = ("width",)  # the candidate's channels, by its space's scaling rule (nas.evaluate.narrow)


@dataclass(frozen=True)
class Fidelity:
    """One training fidelity: ``train`` overrides ``evaluation.train``, ``data`` the data subset,
    ``width`` trains each candidate narrowed by its space's scaling rule (EcoNAS, Zhou et al. 2020)."""

    name: str
    train: Mapping[str, Any] = field(default_factory=dict)
    data: Mapping[str, Any] = field(default_factory=dict)
    width: float | None = None


@dataclass(frozen=True)
class CalibrationPlan:
    config: ExperimentConfig
    space: Any
    specs: tuple
    proxies: tuple[str, ...]
    fidelities: tuple[Fidelity, ...]
    train_configs: tuple[TrainConfig, ...]
    data_configs: tuple[DataConfig, ...]
    seeds: int
    table: Any = None          # NB201Table in the NAS-Bench-201 space, else None


def parse_fidelity(text: str) -> Fidelity:
    """``'epochs=1,per_class=50,width=0.5'`` -> Fidelity; keys are TrainConfig fields, data subset
    keys and ``width``."""
    from nas.evaluate import check_width
    train, data, named, width = {}, {}, [], None
    for item in (part.strip() for part in text.split(",")):
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ValueError(f"--fidelity: bad value {text!r}; accepted: KEY=VALUE pairs separated by commas, "
                             "e.g. epochs=1,per_class=50")
        if key not in TRAIN_KEYS + DATA_KEYS + WIDTH_KEY:
            raise ValueError(f"--fidelity: bad key {key!r} in {text!r}; accepted keys: "
                             f"{', '.join(TRAIN_KEYS + DATA_KEYS + WIDTH_KEY)}")
        parsed = parse_yaml(value, f"--fidelity {text!r}")
        if key in WIDTH_KEY:
            width = check_width(f"--fidelity {text!r}: key 'width'", parsed)
        else:
            (data if key in DATA_KEYS else train)[key] = parsed
        named.append(f"{key}={value.strip()}")
    if not train and not data and width is None:
        raise ValueError(f"--fidelity: bad value {text!r}; accepted: KEY=VALUE pairs, e.g. epochs=1,per_class=50")
    return Fidelity(",".join(named), train, data, width)


def parse_proxies(text: str) -> tuple[str, ...]:
    from nas.proxies import names
    chosen = tuple(p.strip() for p in text.split(",") if p.strip())
    for name in chosen:
        if name not in names():
            raise ValueError(f"--proxies: bad value {name!r}; accepted: comma-separated names from "
                             f"{', '.join(names())}")
    return chosen


def ladder_fidelities(config: ExperimentConfig) -> tuple[Fidelity, ...]:
    """The training rungs of a ladder experiment, as fidelities (the default when none is named)."""
    if config.evaluation.kind != "ladder":
        return ()
    rungs = [r for r in config.evaluation.ladder if r.kind == "proxy"]
    return tuple(Fidelity(",".join([f"{k}={v}" for k, v in r.train.items()]
                                   + ([] if r.width is None else [f"width={r.width:g}"])) or "experiment",
                          dict(r.train), width=r.width) for r in rungs)


def find_data_file(path_text: str) -> str:
    """A dataset path as given, else the same name in a ``shared/data`` folder above the repository."""
    path = Path(path_text).expanduser()
    if path.exists() or path_text in ("cifar10", "cifar100"):
        return path_text
    for parent in Path(__file__).resolve().parents[1].parents:
        candidate = parent / "shared" / "data" / path.name
        if candidate.exists():
            return str(candidate)
    return path_text


def sample_specs(space: Any, n: int, seed: int) -> tuple:
    """``n`` distinct specs drawn with a generator of their own (the same seed, the same cells)."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 12]))
    seen: dict[str, Any] = {}
    for _ in range(100 * n):
        spec = space.sample(rng)
        seen.setdefault(spec.to_str(), spec)
        if len(seen) == n:
            return tuple(seen.values())
    raise ValueError(f"--n: bad value {n}; the space yielded only {len(seen)} distinct candidates")


def plan_calibration(config: ExperimentConfig, *, n: int = 24, proxies: Sequence[str] | None = None,
                     fidelities: Sequence[Fidelity] | None = None, seeds: int = 2) -> CalibrationPlan:
    """Check every input and sample the candidates; no network is built and no image is read."""
    from nas.evaluate import check_width
    from nas.proxies import names
    from nas.search.plan import make_space

    if isinstance(n, bool) or not isinstance(n, int) or n < 3:
        raise ValueError(f"--n: bad value {n!r}; accepted: an integer >= 3 (rank correlations need 3 candidates)")
    if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1:
        raise ValueError(f"--seeds: bad value {seeds!r}; accepted: an integer >= 1 (2 or more measure noise)")
    proxies = tuple(names() if proxies is None else proxies)
    parse_proxies(",".join(proxies))
    fidelities = tuple(ladder_fidelities(config) if fidelities is None else fidelities)
    data = dataclasses.replace(config.data, dataset=find_data_file(config.data.dataset))
    trains, datas = [], []
    for fid in fidelities:
        try:
            trains.append(dataclasses.replace(config.evaluation.train, **fid.train))
            datas.append(dataclasses.replace(data, **fid.data))
        except (TypeError, ValueError) as err:
            raise ValueError(f"--fidelity: bad value {fid.name!r} ({err}); accepted: values "
                             "TrainConfig / DataConfig accept") from None
    space = make_space(config)
    for fid in fidelities:
        if fid.width is not None:
            check_width(f"--fidelity {fid.name!r}: key 'width'", fid.width, space)
    table = None
    if getattr(space, "name", None) == "nasbench201":
        from nas.search.evaluators import _find
        from search_spaces.nasbench201.table import NB201Table
        table = NB201Table(_find(config.evaluation.tabular.table, "evaluation.tabular.table"))
    if len(proxies) + len(fidelities) + (2 if table is not None else 0) < 2:
        raise ValueError("--proxies/--fidelity: nothing to correlate; accepted: at least two columns "
                         "(proxies, fidelities, or the NB201 table)")
    specs = sample_specs(space, n, config.seed)
    return CalibrationPlan(dataclasses.replace(config, data=data), space, specs, proxies, fidelities,
                           tuple(trains), tuple(datas), seeds, table)


def stderr_progress(message: str) -> None:
    print(f"calibrate: {message}", file=sys.stderr, flush=True)


def _score_proxies(plan: CalibrationPlan, specs: Sequence[Any], progress: Callable[[str], None]) -> dict:
    from nas.proxies import score_detail
    from nas.search.zero_cost import zero_cost_batches

    if not plan.proxies:
        return {}
    from nas.data import load_proxy_data
    data = load_proxy_data(plan.config.data)
    zc = plan.config.evaluation.zero_cost
    batches = list(zero_cost_batches(data, zc.batch_size, zc.batches, plan.config.seed))
    specs = [plan.space.retarget(s, num_classes=data.num_classes, resolution=data.resolution) for s in specs]
    columns = {p: {"kind": "proxy", "values": [], "cpu_s": [], "fallbacks": 0} for p in plan.proxies}
    start = time.time()
    for i, spec in enumerate(specs):
        for name in plan.proxies:
            cpu = time.process_time()
            detail = score_detail(name, spec, batches, seed=plan.config.seed, space=plan.space, threads=1)
            col = columns[name]
            col["values"].append(detail.value)
            col["cpu_s"].append(time.process_time() - cpu)
            col["fallbacks"] += int(detail.fallback)
        progress(_eta("proxies", i + 1, len(specs), start))
    return columns


def _train_fidelities(plan: CalibrationPlan, progress: Callable[[str], None]) -> tuple[dict, dict]:
    from nas.data import load_proxy_data
    from nas.evaluate import evaluate

    columns, runs = {}, {}
    for fid, train, data_config in zip(plan.fidelities, plan.train_configs, plan.data_configs):
        data = load_proxy_data(data_config)
        label = f"train[{fid.name}]"
        per_seed, losses, cpu = [], [], []
        start = time.time()
        for s in range(plan.seeds):
            accs, neg_losses = [], []
            for i, spec in enumerate(plan.specs):
                before = time.process_time()
                config = dataclasses.replace(train, seed=train.seed + s)
                outcome = evaluate(spec, config, data, space=plan.space, width=fid.width)
                metrics = getattr(outcome, "metrics", {}) or {}
                accs.append(float(metrics.get("val_acc", math.nan)))
                neg_losses.append(-float(metrics.get("val_loss", math.nan)))
                cpu.append(time.process_time() - before)
                progress(_eta(f"{label} seed {s}", s * len(plan.specs) + i + 1, plan.seeds * len(plan.specs), start))
            per_seed.append(accs)
            losses.append(neg_losses)
        common = {"kind": "train", "cpu_s": cpu, "train": dict(fid.train), "data": dict(fid.data),
                  "width": fid.width, "images": len(data.train), "val_images": len(data.val)}
        # Both rewards a rung can rank by (evaluation.reward): accuracy, and the loss negated.
        for column, values in ((label, per_seed), (f"{label}:val_loss", losses)):
            arr = np.asarray(values, dtype=float)
            mean = np.nanmean(arr, axis=0) if plan.seeds > 1 else arr[0]
            columns[column] = {**common, "values": [float(v) for v in mean],
                               "fallbacks": int(np.isnan(arr).any(axis=0).sum())}
        runs[label] = per_seed
    return columns, runs


def _eta(what: str, done: int, total: int, start: float) -> str:
    elapsed = time.time() - start
    eta = elapsed / done * (total - done) if done else float("nan")
    return f"{what}: {done}/{total}, {elapsed:.0f} s elapsed, ETA {eta:.0f} s"


def run_calibration(plan: CalibrationPlan, progress: Callable[[str], None] | None = stderr_progress) -> dict:
    """Score, train and correlate; returns the JSON-ready result (see ``nas.calibrate_report``).
    Runs with one torch intra-op thread (bitwise reproducible on the CPU), restored afterwards."""
    import torch

    from nas.calibrate_report import summarize

    progress = progress or (lambda message: None)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        start_cpu, start = time.process_time(), time.time()
        columns = _score_proxies(plan, plan.specs, progress)
        trained, runs = _train_fidelities(plan, progress)
        columns.update(trained)
    finally:
        torch.set_num_threads(threads)
    if plan.table is not None:
        for metric in TABLE_COLUMNS:
            columns[f"nb201_12ep_{metric}"] = {"kind": "table", "values": [plan.table.query(s, metric)
                                                                             for s in plan.specs],
                                                "cpu_s": [0.0], "fallbacks": 0}
    meta = {"experiment": plan.config.name, "space": plan.config.space.name, "n": len(plan.specs),
            "seed": plan.config.seed, "seeds": plan.seeds, "proxies": list(plan.proxies),
            "candidates": [s.to_str() for s in plan.specs],
            "nb201_index": [plan.table.index(s) for s in plan.specs] if plan.table is not None else None,
            "zero_cost": {"batch_size": plan.config.evaluation.zero_cost.batch_size,
                          "batches": plan.config.evaluation.zero_cost.batches},
            "cpu_seconds": time.process_time() - start_cpu, "wall_seconds": time.time() - start,
            "torch": torch.__version__}
    return summarize(meta, columns, runs)
