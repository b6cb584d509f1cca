"""Proxy evaluation of one spec: the function a search calls inside each trial.

spec -> retarget to the data's task -> analytic cost -> build under the config's seed -> train
on the training split, validate on the held-out split -> ``Result(reward=val accuracy)`` or a
``Failure`` with a readable reason (invalid spec, build error, NaN loss, out of memory). The
per-epoch ``report`` hook is where a Ray trainable passes ``tune.report`` so ASHA can stop it.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from nas.strategies.base import Failure, Outcome, Result
from nas.train.config import TrainConfig

if TYPE_CHECKING:  # torch stays out of the config, which names LatencyTarget
    from nas.data.tensors import ProxyData

Report = Callable[[int, dict], Any]


@dataclass(frozen=True)
class LatencyTarget:
    """Where latency is measured: a named device and batch size (MnasNet measured on the phone
    it targeted; we measure on the machine the user names)."""

    device: str = "cpu"
    batch_size: int = 1
    warmup: int = 5
    repeats: int = 20


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


def evaluate(spec: Any, config: TrainConfig, data: ProxyData, report: Report | None = None, *,
             latency: LatencyTarget | None = None, extra_build: dict[str, Any] | None = None,
             space: Any = None) -> Outcome:
    """Train ``spec`` with the proxy ``config`` on ``data``; the reward is the last epoch's
    validation accuracy. ``report(epoch, metrics)`` runs after each epoch; a truthy return stops.
    A spec whose network expects another input size than the data's (a compound-scaled one) is
    trained on the images resized to it."""
    from nas.train.trainer import reason_of, train
    try:
        space, spec = prepare(spec, data, space)
        cost = space.cost(spec)
        data = resize_data(data, space.input_resolution(spec))
    except (ValueError, TypeError, KeyError) as err:
        return Failure(reason_of(err, f"spec does not fit {data.name} ({data.num_classes} classes, "
                                      f"{data.resolution}px)"))
    options = {**build_options(config), **(extra_build or {})}
    result = train(lambda: space.build(spec, **options), data, config, callback=report)
    if not result.ok:
        return Failure(result.failure)
    last = result.history[-1]
    metrics = {"val_acc": result.val_acc, "val_loss": result.val_loss, "best_val_acc": result.best_val_acc,
               "train_loss": last["train_loss"], "train_acc": last["train_acc"],
               "params": cost.params, "macs": cost.macs, "train_time_s": result.wall_time_s,
               "epochs": result.epochs, "stopped": float(result.stopped), **space.describe(spec)}
    if latency is not None:
        try:
            metrics.update(_latency_metrics(space, spec, latency))
        except Exception as err:  # noqa: BLE001 - e.g. OOM at the latency batch size
            return Failure(reason_of(err, f"latency measurement on {latency.device} failed"))
    return Result(reward=result.val_acc, metrics=metrics)


def _latency_metrics(space: Any, spec: Any, target: LatencyTarget) -> dict[str, float]:
    from nas.metrics import measure_latency

    lat = measure_latency(space.build(spec), space.input_resolution(spec), batch_size=target.batch_size,
                          device=target.device, warmup=target.warmup, repeats=target.repeats)
    return {"latency_ms": lat.median_ms, "latency_std_ms": lat.std_ms}
