"""Proxy evaluation of one spec: the function a search calls inside each trial.

spec -> retarget to the data's task -> analytic cost -> build under the config's seed -> train
on the training split, validate on the held-out split -> ``Result(reward=val accuracy)`` or a
``Failure`` with a readable reason (invalid spec, build error, NaN loss, out of memory). The
per-epoch ``report`` hook is where a Ray trainable passes ``tune.report`` so ASHA can stop it.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Optional

from nas.strategies.base import Failure, Outcome, Result
from nas.train.config import TrainConfig

if TYPE_CHECKING:  # torch stays out of the config, which names LatencyTarget
    from nas.data.tensors import ProxyData

Report = Callable[[int, dict], Any]


@dataclass(frozen=True)
class LatencyTarget:
    """Latency on a named target (MnasNet, Tan et al. 2019, measured on the phone it targeted).

    The tier follows from the keys: ``table`` (a CSV of architecture -> ms, its ``column``, see
    ``nas.latency.imported``), else ``lut`` (a lookup table built by ``nas latency profile`` on
    the target, see ``nas.latency.lut``), else measured here on ``device`` with ``runtime``
    (``torch`` or ``onnxruntime``), ``batch_size``, ``warmup``, ``repeats``, ``threads`` (None:
    the trial's) and ``clock`` (``wall``, or ``cpu``: the thread's CPU time, with threads=1).
    ``target`` (ms) makes latency a constraint: rankings put architectures meeting it first.
    ``finalists``: at the end of a search whose latency is predicted (lut/table), that many of the
    best architectures are measured on ``device`` (where this machine can reach it)."""

    device: str = "cpu"
    batch_size: int = 1
    warmup: int = 5
    repeats: int = 20
    runtime: str = "torch"
    threads: Optional[int] = None
    clock: str = "wall"
    lut: Optional[str] = None
    table: Optional[str] = None
    column: str = "latency_ms"
    target: Optional[float] = None
    finalists: int = 3

    def __post_init__(self) -> None:
        checks = (("runtime", self.runtime in ("torch", "onnxruntime"), "torch, onnxruntime"),
                  ("clock", self.clock in ("wall", "cpu"), "wall, cpu (with threads: 1)"),
                  ("batch_size", self.batch_size >= 1, "an integer >= 1"),
                  ("repeats", self.repeats >= 1, "an integer >= 1"),
                  ("warmup", self.warmup >= 0, "an integer >= 0"),
                  ("threads", self.threads is None or self.threads >= 1, "null or an integer >= 1"),
                  ("finalists", self.finalists >= 0, "an integer >= 0"),
                  ("target", self.target is None or self.target > 0, "null or a number of ms > 0"),
                  ("column", bool(self.column), "a column name of the table"))
        for key, ok, accepted in checks:
            if not ok:
                raise ValueError(f"config key 'evaluation.latency.{key}': bad value "
                                 f"{getattr(self, key)!r}; accepted: {accepted}")
        if self.clock == "cpu" and self.threads != 1:
            raise ValueError(f"config key 'evaluation.latency.clock': 'cpu' needs threads: 1 (thread CPU "
                             f"time is latency only on one thread), got threads={self.threads!r}")
        if self.lut and self.table:
            raise ValueError("config keys 'evaluation.latency.lut' and 'evaluation.latency.table': give one "
                             "(a LUT predicts per op, a table lists architectures), not both")

    @property
    def tier(self) -> str:
        return "table" if self.table else "lut" if self.lut else "measured"


def build_options(config: TrainConfig) -> dict[str, Any]:
    """Training-time build keywords (not part of the spec): passed only when the recipe uses
    them, so spaces without drop path or an auxiliary head still build."""
    options: dict[str, Any] = {}
    if config.drop_path > 0:
        options["drop_path"] = config.drop_path
    if config.aux_weight > 0:
        options["auxiliary"] = True
    return options


def prepare(spec: Any, data: ProxyData, space: Any = None) -> tuple[Any, Any]:
    """(space, spec retargeted to the data's classes and resolution); ValueError/TypeError when
    the spec cannot describe that task. ``space`` is the search's own space when there is one."""
    if space is None:
        from search_spaces.catalog import space_for
        space = space_for(spec)
    spec = space.retarget(spec, num_classes=data.num_classes, resolution=data.resolution)
    space.validate(spec)
    return space, spec


def width_spaces() -> tuple[str, ...]:
    """The catalog's spaces with a scaling rule: the ones a reduced-width proxy can narrow."""
    from search_spaces import catalog
    return tuple(name for name in catalog.SPACES if catalog.package(name).Space.scales())


def check_width(key: str, width: Any, space: Any = None) -> float:
    """``width`` as a multiplier > 0, or a ValueError naming ``key``; also when ``space`` (a space,
    or a catalog name; a custom name is left to plan time) has no scaling rule to narrow with."""
    if isinstance(width, bool) or not isinstance(width, (int, float)) or not math.isfinite(width) or width <= 0:
        raise ValueError(f"{key}: bad value {width!r}; accepted: a width multiplier > 0 (channels scaled "
                         "by the space's own rule; 1 trains the candidate as it is)")
    if isinstance(space, str):
        from search_spaces import catalog
        space = catalog.package(space).Space if space in catalog.SPACES else None
    scales = getattr(space, "scales", None)
    if space is not None and not (scales() if callable(scales) else callable(getattr(space, "scale", None))):
        name = getattr(space, "name", type(space).__name__)
        raise ValueError(f"{key}: bad value {width!r}; space {name!r} has no scaling rule (its network "
                         f"is fixed); accepted: a width in spaces {', '.join(width_spaces())}")
    return float(width)


def narrow(space: Any, spec: Any, width: float | None) -> Any:
    """The network a reduced-width proxy trains: ``spec`` at ``width`` by its space's rule
    (EcoNAS, Zhou et al. 2020: fewer channels keep the ranking); ``spec`` itself at None or 1."""
    return spec if width is None or width == 1 else space.scale(spec, width=width)


def resize_data(data: ProxyData, resolution: int) -> ProxyData:
    """``data`` with every split resized to ``resolution`` (antialiased bilinear; the
    normalisation statistics carry over, resizing barely moves them)."""
    from nas.data.cifar import resize_uint8
    if data.resolution == resolution:
        return data
    parts = {name: getattr(data, name) for name in ("train", "val", "test")}
    return dataclasses.replace(data, **{
        name: None if part is None else dataclasses.replace(part, images=resize_uint8(part.images, resolution))
        for name, part in parts.items()})


# evaluation.reward: what a trained candidate is ranked by, higher is better.
REWARDS = {"val_acc": lambda result: result.val_acc, "val_loss": lambda result: -result.val_loss}


def evaluate(spec: Any, config: TrainConfig, data: ProxyData, report: Report | None = None, *,
             latency: LatencyTarget | None = None, extra_build: dict[str, Any] | None = None,
             space: Any = None, width: float | None = None, reward: str = "val_acc") -> Outcome:
    """Train ``spec`` with the proxy ``config`` on ``data``; the reward is the last epoch's
    validation accuracy (``reward="val_acc"``) or its validation loss negated (``"val_loss"``).
    ``report(epoch, metrics)`` runs after each epoch; a truthy return stops.
    A spec whose network expects another input size than the data's (a compound-scaled one) is
    trained on the images resized to it. ``width`` trains the spec narrowed (``narrow``): params,
    MACs and latency stay the candidate's, ``width`` and ``trained_params``/``trained_macs`` say
    what was trained."""
    from nas.train.trainer import reason_of, train
    if reward not in REWARDS:
        raise ValueError(f"reward: bad value {reward!r}; accepted: {', '.join(map(repr, REWARDS))}")
    try:
        space, spec = prepare(spec, data, space)
        cost = space.cost(spec)
        trained = narrow(space, spec, width)
        trained_cost = cost if trained is spec else space.cost(trained)
        data = resize_data(data, space.input_resolution(trained))
    except (ValueError, TypeError, KeyError) as err:
        return Failure(reason_of(err, f"spec does not fit {data.name} ({data.num_classes} classes, "
                                      f"{data.resolution}px)"))
    predicted: dict[str, Any] = {}
    if latency is not None and getattr(latency, "tier", "measured") != "measured":
        # a table or LUT answers before training: a missing architecture costs no training
        outcome = _latency_or_failure(space, spec, latency)
        if isinstance(outcome, Failure):
            return outcome
        predicted = outcome
    options = {**build_options(config), **(extra_build or {})}
    result = train(lambda: space.build(trained, **options), data, config, callback=report)
    if not result.ok:
        return Failure(result.failure)
    last = result.history[-1]
    metrics = {"val_acc": result.val_acc, "val_loss": result.val_loss, "best_val_acc": result.best_val_acc,
               "train_loss": last["train_loss"], "train_acc": last["train_acc"],
               "params": cost.params, "macs": cost.macs, "train_time_s": result.wall_time_s,
               "epochs": result.epochs, "stopped": float(result.stopped), **space.describe(spec), **predicted}
    if width is not None:
        metrics.update(width=float(width), trained_params=trained_cost.params, trained_macs=trained_cost.macs)
    if latency is not None and not predicted:
        outcome = _latency_or_failure(space, spec, latency)
        if isinstance(outcome, Failure):
            return outcome
        metrics.update(outcome)
    return Result(reward=REWARDS[reward](result), metrics=metrics)


def _latency_or_failure(space: Any, spec: Any, latency: Any) -> dict[str, Any] | Failure:
    try:
        return _latency_metrics(space, spec, latency)
    except KeyError as err:  # an architecture the imported table (or a unit the LUT) lacks
        return Failure(f"latency: {err.args[0] if err.args else err}")
    except Exception as err:  # noqa: BLE001 - e.g. OOM at the latency batch size
        from nas.train.trainer import reason_of
        return Failure(reason_of(err, f"latency ({getattr(latency, 'tier', 'measured')}) failed"))


def _latency_metrics(space: Any, spec: Any, target: Any) -> dict[str, Any]:
    """``latency_ms`` and ``latency_tier`` (and a measurement's spread) from ``target``: a
    ``LatencyTarget`` (measured here) or any ``nas.latency.LatencyModel``."""
    from nas.latency import measurer
    model = measurer(target) if isinstance(target, LatencyTarget) else target
    return model.estimate(spec, space).metrics()
