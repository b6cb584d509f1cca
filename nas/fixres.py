"""FixRes (Touvron et al. 2019, "Fixing the train-test resolution discrepancy"; the fix behind
FixEfficientNet, Touvron et al. 2020): a network trained at one resolution tests better at a
higher one once the classifier and the batch-norm layers are fine-tuned at that resolution,
because random-crop training and centre-crop testing see objects at different apparent sizes and
the activation statistics after pooling shift with the input size.

``fixres_finetune`` freezes every parameter except the classifier's and the batch-norm affine
weights, then trains at the test resolution with test-time preprocessing (flips only, no crops):
batch norm in training mode re-estimates its running statistics, SGD adapts the affine
parameters and the classifier. Frozen parameters get no gradient, so neither the update nor the
weight decay touches them: they stay bitwise identical (the tests assert it).

``fixres_eval`` runs the whole protocol on a ``nas train`` output directory: accuracy at the
training resolution, at the test resolution without the fix, and with it.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import nn

from nas.data.datasets import DataConfig, load_proxy_data
from nas.train.config import TrainConfig
from nas.train.trainer import TrainResult, evaluate_model, train


def fixres_parameters(model: nn.Module) -> list[str]:
    """Names of the parameters FixRes fine-tunes: the classifier's and every batch norm's."""
    classifier = getattr(model, "classifier", None)
    if not isinstance(classifier, nn.Module):
        raise TypeError(f"FixRes needs the network's final layer as a `classifier` attribute; "
                        f"{type(model).__name__} has none")
    chosen = {id(p) for p in classifier.parameters()}
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            chosen.update(id(p) for p in module.parameters())
    return [name for name, p in model.named_parameters() if id(p) in chosen]


def freeze_for_fixres(model: nn.Module) -> list[str]:
    """Leave only the FixRes parameters trainable; returns their names."""
    names = set(fixres_parameters(model))
    for name, p in model.named_parameters():
        p.requires_grad_(name in names)
    return sorted(names)


def finetune_config(base: TrainConfig, *, epochs: int, lr: float | None = None) -> TrainConfig:
    """The fine-tuning recipe: the training recipe's optimizer settings, ``epochs`` epochs at
    ``lr`` (default a tenth of the training rate), no warm-up, drop path, auxiliary loss, crops
    or cutout."""
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"fixres epochs must be a positive integer, got {epochs!r}")
    return dataclasses.replace(base, epochs=epochs, lr=base.lr / 10 if lr is None else lr, min_lr=0.0,
                               warmup_epochs=0.0, drop_path=0.0, aux_weight=0.0, crop_padding=0, cutout=0)


def fixres_finetune(model: nn.Module, data: Any, config: TrainConfig) -> TrainResult:
    """Fine-tune ``model`` in place on ``data`` (a ``ProxyData`` at the test resolution)."""
    freeze_for_fixres(model)
    try:
        result = train(model, data, config)
    finally:
        for p in model.parameters():
            p.requires_grad_(True)
    if not result.ok:
        raise ValueError(f"FixRes fine-tune failed: {result.failure}")
    return result


@dataclass(frozen=True)
class FixResReport:
    train_resolution: int
    test_resolution: int
    acc_at_train_resolution: float
    acc_before: float
    acc_after: float | None
    epochs: int
    finetuned_params: int
    frozen_params: int

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def lines(self) -> list[str]:
        out = [f"test accuracy at the training resolution {self.train_resolution}px: "
               f"{100 * self.acc_at_train_resolution:.2f}%",
               f"test accuracy at {self.test_resolution}px without FixRes: {100 * self.acc_before:.2f}%"]
        if self.acc_after is not None:
            out.append(f"test accuracy at {self.test_resolution}px with FixRes ({self.epochs} epochs, "
                       f"{self.finetuned_params:,} of {self.finetuned_params + self.frozen_params:,} params "
                       f"fine-tuned): {100 * self.acc_after:.2f}%")
        return out


def load_trained(run_dir: Path) -> tuple[Any, nn.Module, DataConfig, TrainConfig]:
    """(spec, model with the checkpoint's weights, data config, train config) of a ``nas train``
    output directory."""
    from nas.runs import trained_spec
    from nas.trained import build_with_weights

    spec, saved = trained_spec(run_dir)
    model = build_with_weights(spec, Path(run_dir) / "checkpoint.pt")
    return spec, model, DataConfig.from_dict(saved["data"]), TrainConfig.from_dict(saved["train"])


def fixres_eval(run_dir: str | Path, test_resolution: int, *, epochs: int = 0, lr: float | None = None,
                cache_dir: str | None = None) -> FixResReport:
    """The FixRes protocol on a ``nas train`` directory (``epochs`` 0: no fine-tune)."""
    if isinstance(test_resolution, bool) or not isinstance(test_resolution, int) or test_resolution < 8:
        raise ValueError(f"test resolution must be an integer >= 8 pixels, got {test_resolution!r}")
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 0:
        raise ValueError(f"fixres epochs must be an integer >= 0, got {epochs!r}")
    spec, model, data_config, train_config = load_trained(Path(run_dir))
    overrides = {"load_test": True, **({"cache_dir": cache_dir} if cache_dir else {})}
    at_train = load_proxy_data(dataclasses.replace(data_config, **overrides))
    at_test = load_proxy_data(dataclasses.replace(data_config, resolution=test_resolution, **overrides))
    batch = train_config.eval_batch_size
    _, acc_train = evaluate_model(model, at_train.test, batch, train_config)
    _, acc_before = evaluate_model(model, at_test.test, batch, train_config)
    acc_after = None
    names = fixres_parameters(model)
    if epochs > 0:
        fixres_finetune(model, at_test, finetune_config(train_config, epochs=epochs, lr=lr))
        _, acc_after = evaluate_model(model, at_test.test, batch, train_config)
    tuned = sum(p.numel() for n, p in model.named_parameters() if n in set(names))
    total = sum(p.numel() for p in model.parameters())
    return FixResReport(at_train.resolution, test_resolution, acc_train, acc_before, acc_after, epochs,
                        tuned, total - tuned)
