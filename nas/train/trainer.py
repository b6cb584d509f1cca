"""The proxy trainer: one candidate's training, honest about failure and reproducible from a seed.

A sample-based search (Zoph et al. 2018; Real et al. 2019; Tan et al. 2019) spends nearly all of
its time here, so the loop keeps the data as device tensors with batched augmentation, syncs the
device only every ``check_every`` steps (to catch a NaN loss) and once per epoch, and turns the
ways a candidate can fail (build error, NaN/inf loss, out of memory, an error in forward) into a
``TrainResult`` with a readable ``failure`` instead of an exception that would kill a search.

Randomness: model initialisation, dropout and drop path draw from torch's global generator inside
``torch.random.fork_rng`` seeded from the config (so nothing leaks to the caller); data order and
augmentation draw from a dedicated ``torch.Generator``. Both states go into checkpoints.
"""
from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Union

import numpy as np
import torch
from torch import nn

from cells.modules.drop_path import set_drop_path_scale
from nas.data.augment import normalize, normalizer
from nas.data.tensors import ImageTensors, ProxyData
from nas.train.checkpoint import Checkpointer, check_compatible
from nas.train.config import TrainConfig, lr_at

ModelOrBuilder = Union[nn.Module, Callable[[], nn.Module]]
EpochCallback = Callable[[int, dict], Any]   # returns truthy to stop training
StepCallback = Callable[[int, int, int], None]  # (epoch, step, steps) for progress displays


class Diverged(RuntimeError):
    """The training loss stopped being finite."""


@dataclass
class TrainResult:
    """Outcome of ``train``. ``failure`` is None on success, else a one-line reason; metrics are
    the last completed epoch's (NaN when no epoch completed)."""

    val_acc: float = float("nan")
    val_loss: float = float("nan")
    best_val_acc: float = float("nan")
    epochs: int = 0
    history: list[dict] = field(default_factory=list)
    wall_time_s: float = 0.0
    params: int = 0
    stopped: bool = False
    failure: str | None = None
    model: nn.Module | None = field(default=None, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return self.failure is None

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("val_acc", "val_loss", "best_val_acc", "epochs", "history",
                                                "wall_time_s", "params", "stopped", "failure")}


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"train.device={name!r} but CUDA is not available; use 'cpu' or 'auto'")
    return device


def derived_seeds(seed: int) -> tuple[int, int]:
    """Independent seeds for (model init / dropout, data order / augmentation)."""
    a, b = np.random.SeedSequence(seed).spawn(2)
    return int(a.generate_state(1)[0]), int(b.generate_state(1)[0])


def reason_of(err: BaseException, where: str) -> str:
    text = str(err).strip().splitlines()[0] if str(err).strip() else ""
    text = text if len(text) <= 300 else text[:297] + "..."
    return f"{where}: {type(err).__name__}: {text}" if text else f"{where}: {type(err).__name__}"


def autocast(device: torch.device, config: TrainConfig) -> tuple[contextlib.AbstractContextManager, bool]:
    """(autocast context, whether a GradScaler is needed); AMP only on CUDA."""
    if device.type != "cuda" or not config.amp:
        return contextlib.nullcontext(), False
    bf16 = torch.cuda.is_bf16_supported()
    dtype = torch.bfloat16 if bf16 else torch.float16
    return torch.autocast("cuda", dtype=dtype), not bf16


@torch.no_grad()
def evaluate_model(model: nn.Module, data: ImageTensors, batch_size: int = 512,
                   config: TrainConfig | None = None) -> tuple[float, float]:
    """(mean cross-entropy, accuracy) of ``model`` on ``data`` without augmentation."""
    config = config or TrainConfig()
    device = next(model.parameters()).device
    data = data.to(device)
    amp, _ = autocast(device, config)
    was_training = model.training
    model.eval()
    loss_sum = torch.zeros((), dtype=torch.float64, device=device)
    correct = torch.zeros((), dtype=torch.int64, device=device)
    stats = normalizer(data.mean, data.std, device)
    for start in range(0, len(data), batch_size):
        x = normalize(data.images[start:start + batch_size], data.mean, data.std, stats)
        if device.type == "cuda" and config.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        y = data.labels[start:start + batch_size]
        with amp:
            out = model(x)
        logits = (out[0] if isinstance(out, tuple) else out).float()
        loss_sum += nn.functional.cross_entropy(logits, y, reduction="sum")
        correct += (logits.argmax(1) == y).sum()
    model.train(was_training)
    return float(loss_sum) / len(data), int(correct) / len(data)


class _Run:
    """The mutable state of one training run (model, optimizer, generators, step count)."""

    def __init__(self, model: nn.Module, data: ProxyData, config: TrainConfig, device: torch.device,
                 data_seed: int):
        self.config, self.device, self.data = config, device, data
        self.model = model.to(device)
        if device.type == "cuda" and config.channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=config.lr, momentum=config.momentum,
                                         nesterov=config.nesterov and config.momentum > 0,
                                         weight_decay=config.weight_decay)
        self.amp, use_scaler = autocast(device, config)
        self.scaler = torch.amp.GradScaler("cuda", enabled=use_scaler) if device.type == "cuda" else None
        self.generator = torch.Generator(device=device).manual_seed(data_seed)
        self.criterion = nn.CrossEntropyLoss(label_smoothing=config.label_smoothing)
        self.augment = config.augment
        self.stats = normalizer(data.train.mean, data.train.std, device)
        n = len(data.train)
        self.batch_size = min(config.batch_size, n)
        self.steps_per_epoch = max(1, n // self.batch_size)  # drop the ragged last batch (BN)
        self.step = 0

    def state_dict(self) -> dict[str, Any]:
        state = {"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                 "generator": self.generator.get_state(), "torch_rng": torch.get_rng_state(),
                 "step": self.step}
        if self.scaler is not None:
            state["scaler"] = self.scaler.state_dict()
        if self.device.type == "cuda":
            state["cuda_rng"] = torch.cuda.get_rng_state(self.device)
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.generator.set_state(state["generator"])
        torch.set_rng_state(state["torch_rng"])
        if self.scaler is not None and "scaler" in state:
            self.scaler.load_state_dict(state["scaler"])
        if "cuda_rng" in state and self.device.type == "cuda":
            torch.cuda.set_rng_state(state["cuda_rng"], self.device)
        self.step = int(state["step"])

    def loss(self, out: Any, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(total loss, main logits); an auxiliary head's loss is added with ``aux_weight``."""
        if isinstance(out, tuple):
            logits, aux = out
            loss = self.criterion(logits, y)
            if self.config.aux_weight > 0:
                loss = loss + self.config.aux_weight * self.criterion(aux, y)
            return loss, logits
        return self.criterion(out, y), out

    def train_step(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        for group in self.optimizer.param_groups:
            group["lr"] = lr_at(self.config, self.step, self.steps_per_epoch)
        with self.amp:
            loss, logits = self.loss(self.model(x), y)
        self.optimizer.zero_grad(set_to_none=True)
        scaler_on = self.scaler is not None and self.scaler.is_enabled()
        (self.scaler.scale(loss) if scaler_on else loss).backward()
        if self.config.grad_clip is not None:
            if scaler_on:
                self.scaler.unscale_(self.optimizer)
            nn.utils.clip_grad_norm_(self.model.parameters(), self.config.grad_clip)
        if scaler_on:
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            self.optimizer.step()
        self.step += 1
        return loss.detach(), logits.detach()

    def epoch(self, epoch: int, progress: StepCallback | None) -> dict[str, float]:
        cfg, train = self.config, self.data.train
        self.model.train()
        scale = (epoch - 1) / cfg.epochs if cfg.drop_path_ramp else 1.0
        set_drop_path_scale(self.model, scale)
        start = time.perf_counter()
        order = torch.randperm(len(train), generator=self.generator, device=self.device)
        loss_sum = torch.zeros((), dtype=torch.float64, device=self.device)
        correct = torch.zeros((), dtype=torch.int64, device=self.device)
        for i in range(self.steps_per_epoch):
            idx = order[i * self.batch_size:(i + 1) * self.batch_size]
            x = self.augment(train.images[idx], self.generator, train.mean, train.std, self.stats)
            if self.device.type == "cuda" and cfg.channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            y = train.labels[idx]
            loss, logits = self.train_step(x, y)
            loss_sum += loss.double() * len(idx)
            correct += (logits.argmax(1) == y).sum()
            if (i + 1) % cfg.check_every == 0 or i + 1 == self.steps_per_epoch:
                if not torch.isfinite(loss_sum):
                    raise Diverged(f"training loss became {float(loss):.4g} in epoch {epoch} "
                                   f"(by step {i + 1} of {self.steps_per_epoch})")
            if progress is not None:
                progress(epoch, i + 1, self.steps_per_epoch)
        seen = self.steps_per_epoch * self.batch_size
        val_loss, val_acc = evaluate_model(self.model, self.data.val, cfg.eval_batch_size, cfg)
        if not np.isfinite(val_loss):
            raise Diverged(f"validation loss is {val_loss} after epoch {epoch}")
        return {"epoch": epoch, "lr": self.optimizer.param_groups[0]["lr"],
                "train_loss": float(loss_sum) / seen, "train_acc": int(correct) / seen,
                "val_loss": val_loss, "val_acc": val_acc, "drop_path_scale": scale,
                "epoch_time_s": time.perf_counter() - start}


def _build(model_or_builder: ModelOrBuilder) -> nn.Module:
    model = model_or_builder if isinstance(model_or_builder, nn.Module) else model_or_builder()
    if not isinstance(model, nn.Module):
        raise TypeError(f"the builder returned {type(model).__name__}, not an nn.Module")
    return model


def _finish(result: TrainResult, history: list[dict], started: float, elapsed_before: float) -> TrainResult:
    result.history = history
    result.epochs = len(history)
    result.wall_time_s = elapsed_before + time.perf_counter() - started
    if history:
        result.val_acc, result.val_loss = history[-1]["val_acc"], history[-1]["val_loss"]
        result.best_val_acc = max(h["val_acc"] for h in history)
    return result


def train(model_or_builder: ModelOrBuilder, data: ProxyData, config: TrainConfig,
          callback: EpochCallback | None = None, *, checkpointer: Checkpointer | None = None,
          resume: bool = False, progress: StepCallback | None = None) -> TrainResult:
    """Train a model (or a zero-argument builder, called under the config's seed) on
    ``data.train``, validating on ``data.val`` after every epoch.

    ``callback(epoch, metrics)`` runs after each epoch (and its checkpoint); a truthy return stops
    training. With a ``checkpointer`` every epoch is saved; ``resume=True`` continues from the
    saved epoch with the saved RNG states, so the result equals an uninterrupted run's.
    Failures of the candidate are returned in ``TrainResult.failure``; errors of the caller (bad
    config, incompatible checkpoint, an exception raised by ``callback``) propagate.
    """
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig, got {type(config).__name__}")
    device = resolve_device(config.device)
    init_seed, data_seed = derived_seeds(config.seed)
    data = data.to(device)
    saved = checkpointer.load() if (checkpointer is not None and resume) else None
    if saved is not None:
        check_compatible(saved["config"], config.to_dict())
    started = time.perf_counter()
    elapsed_before = float(saved["elapsed_s"]) if saved else 0.0
    history: list[dict] = list(saved["history"]) if saved else []
    result = TrainResult()
    devices = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(init_seed)
        try:
            model = _build(model_or_builder)
            result.params = sum(p.numel() for p in model.parameters())
            run = _Run(model, data, config, device, data_seed)
        except Exception as err:  # noqa: BLE001 - any build error is the candidate's failure
            result.failure = reason_of(err, "build failed")
            return _finish(result, history, started, elapsed_before)
        if saved is not None:
            run.load_state_dict(saved["run"])
        for epoch in range(len(history) + 1, config.epochs + 1):
            result.failure = _guarded_epoch(run, epoch, progress, history)
            if result.failure is not None:
                break
            if checkpointer is not None:
                checkpointer.save({"run": run.state_dict(), "history": history, "config": config.to_dict(),
                                   "elapsed_s": elapsed_before + time.perf_counter() - started})
            if callback is not None and callback(epoch, dict(history[-1])):
                result.stopped = epoch < config.epochs
                break
    result.model = run.model if result.failure is None else None
    if result.failure is not None:
        del run, model
        if device.type == "cuda":
            torch.cuda.empty_cache()
    return _finish(result, history, started, elapsed_before)


def _guarded_epoch(run: _Run, epoch: int, progress: StepCallback | None, history: list[dict]) -> str | None:
    """Run one epoch, appending its metrics; return a failure reason instead of raising."""
    try:
        history.append(run.epoch(epoch, progress))
        return None
    except Diverged as err:
        return f"diverged: {err}"
    except torch.cuda.OutOfMemoryError as err:
        return reason_of(err, f"out of memory in epoch {epoch} (batch size {run.batch_size})")
    except Exception as err:  # noqa: BLE001 - forward/backward errors are the candidate's failure
        return reason_of(err, f"training failed in epoch {epoch}")
