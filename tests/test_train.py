"""nas.train: the proxy trainer on real images with plain modules: reproducibility, exact resume,
failure records, callbacks, auxiliary heads, drop-path schedule, the LR schedule."""
from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from cells.modules.drop_path import DropPath
from nas.train import Checkpointer, TrainConfig, lr_at, train
from nas.train.trainer import derived_seeds


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture
def tiny(tiny_imagenet):
    return tiny_imagenet


def small_net(num_classes: int = 10, drop: float = 0.0) -> nn.Module:
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
                         DropPath(drop) if drop else nn.Identity(), nn.Dropout(0.1),
                         nn.Conv2d(8, 16, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, num_classes))


CFG = TrainConfig(epochs=3, batch_size=32, lr=0.1, warmup_epochs=0.5, label_smoothing=0.1, cutout=4)


def test_same_seed_same_result_bitwise_and_no_global_rng_leak(tiny):
    torch.manual_seed(123)
    before = torch.get_rng_state()
    a = train(small_net, tiny, CFG)
    assert torch.equal(torch.get_rng_state(), before)  # fork_rng: the caller's RNG is untouched
    b = train(small_net, tiny, CFG)
    assert a.ok and b.ok and a.epochs == 3
    for ha, hb in zip(a.history, b.history):
        assert {k: v for k, v in ha.items() if k != "epoch_time_s"} == \
               {k: v for k, v in hb.items() if k != "epoch_time_s"}
    other = train(small_net, tiny, TrainConfig(**{**CFG.to_dict(), "seed": 1}))
    assert other.history[-1]["train_loss"] != a.history[-1]["train_loss"]


def test_resume_continues_exactly_where_it_stopped(tiny, tmp_path):
    full = train(small_net, tiny, CFG)
    ckpt = Checkpointer(tmp_path / "ckpt.pt")
    first = train(small_net, tiny, CFG, callback=lambda epoch, m: epoch == 1, checkpointer=ckpt)
    assert first.stopped and first.epochs == 1
    seen = []
    rest = train(small_net, tiny, CFG, callback=lambda epoch, m: seen.append(epoch), checkpointer=ckpt, resume=True)
    assert seen == [2, 3] and [h["epoch"] for h in rest.history] == [1, 2, 3]
    assert rest.val_acc == full.val_acc and rest.val_loss == full.val_loss
    assert rest.history[-1]["train_loss"] == full.history[-1]["train_loss"]
    with pytest.raises(ValueError, match="cannot resume.*lr"):
        train(small_net, tiny, TrainConfig(**{**CFG.to_dict(), "lr": 0.2}), checkpointer=ckpt, resume=True)


class NaNAfterFirstStep(nn.Module):
    """A model that learns normally for one step, then emits NaN (a divergent candidate)."""

    def __init__(self):
        super().__init__()
        self.net, self.calls = small_net(), 0

    def forward(self, x):
        self.calls += 1
        out = self.net(x)
        return out * float("nan") if self.calls > 1 and self.training else out


def test_failures_are_records_not_exceptions(tiny):
    nan = train(NaNAfterFirstStep, tiny, CFG)
    assert not nan.ok and nan.failure.startswith("diverged: training loss became nan in epoch 1")

    def broken_builder():
        raise ValueError("op 'sep_conv_9x9' is not in the vocabulary")
    build = train(broken_builder, tiny, CFG)
    assert build.failure == "build failed: ValueError: op 'sep_conv_9x9' is not in the vocabulary"
    assert build.epochs == 0 and math.isnan(build.val_acc)

    wrong = train(lambda: nn.Sequential(nn.Flatten(), nn.Linear(99, 10)), tiny, CFG)
    assert wrong.failure.startswith("training failed in epoch 1: RuntimeError: mat1 and mat2 shapes")

    not_a_module = train(lambda: "resnet", tiny, CFG)
    assert "not an nn.Module" in not_a_module.failure


def test_callback_exceptions_propagate(tiny):
    def boom(epoch, metrics):
        raise KeyError("the search's own bug must not be hidden")
    with pytest.raises(KeyError):
        train(small_net, tiny, TrainConfig(epochs=1, batch_size=64), callback=boom)


class WithAux(nn.Module):
    def __init__(self):
        super().__init__()
        self.body, self.aux = small_net(), nn.Linear(3, 10)

    def forward(self, x):
        logits = self.body(x)
        return (logits, self.aux(x.mean(dim=(2, 3)))) if self.training else logits


def test_auxiliary_head_loss_is_weighted_in(tiny):
    torch.manual_seed(derived_seeds(0)[0])  # the trainer's init seed for config seed 0
    init = WithAux().aux.weight.detach().clone()
    cfg = TrainConfig(epochs=1, batch_size=80, weight_decay=0)
    unused = train(WithAux, tiny, cfg).model.aux.weight.detach()
    used = train(WithAux, tiny, TrainConfig(**{**cfg.to_dict(), "aux_weight": 0.4})).model.aux.weight.detach()
    assert torch.equal(unused, init)  # weight 0: the aux head gets no gradient
    assert not torch.allclose(used, init)


def test_drop_path_scale_ramps_over_epochs(tiny):
    result = train(lambda: small_net(drop=0.2), tiny, TrainConfig(epochs=3, batch_size=80))
    assert [h["drop_path_scale"] for h in result.history] == [0.0, 1 / 3, 2 / 3]
    flat = train(lambda: small_net(drop=0.2), tiny, TrainConfig(epochs=2, batch_size=80, drop_path_ramp=False))
    assert [h["drop_path_scale"] for h in flat.history] == [1.0, 1.0]


def test_learning_rate_warms_up_then_follows_the_cosine():
    cfg = TrainConfig(epochs=10, lr=0.1, min_lr=0.001, warmup_epochs=1)
    steps = 20
    assert lr_at(cfg, 0, steps) == pytest.approx(0.1 / 20)
    assert lr_at(cfg, 19, steps) == pytest.approx(0.1)
    assert lr_at(cfg, 20, steps) == pytest.approx(0.1)
    assert lr_at(cfg, 20 + 90, steps) == pytest.approx(0.001 + 0.5 * 0.099)
    assert lr_at(cfg, 199, steps) == pytest.approx(0.001, abs=1e-4)


@pytest.mark.parametrize("field, value", [("epochs", 0), ("lr", -1.0), ("label_smoothing", 1.0),
                                          ("grad_clip", 0.0), ("device", "tpu"), ("batch_size", 2.5)])
def test_config_rejects_bad_values_naming_the_field(field, value):
    with pytest.raises(ValueError, match=f"train.{field}"):
        TrainConfig(**{field: value})
    with pytest.raises(ValueError, match="unknown train option.*'epoch'"):
        TrainConfig.from_dict({"epoch": 3})
