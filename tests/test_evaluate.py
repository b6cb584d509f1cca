"""nas.evaluate: proxy evaluation of specs on real images, the way a search trial runs it."""
from __future__ import annotations

from dataclasses import replace

import pytest

from nas.data import DataConfig, load_proxy_data
from nas.evaluate import LatencyTarget, evaluate
from nas.strategies.base import Failure, Result
from nas.train import TrainConfig
from search_spaces.catalog import resolve

SMALL_CELL = ("cell:normal=conv_3x3@0+skip_connect@1,conv_3x3@1+skip_connect@2;"
              "reduce=max_pool_3x3@0+conv_3x3@1,skip_connect@2+max_pool_3x3@1;N=1;F=8;stem=cifar;"
              "wiring=darts;classes=10;res=32;stem_mult=3")


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture
def tiny(tiny_imagenet):
    return tiny_imagenet


@pytest.mark.slow
def test_small_cell_network_learns_cifar10_from_2000_images(shared_data, tmp_path):
    """Acceptance: DARTS-V2 cells at N=1, F=16 on 2,000 real CIFAR-10 training images, two epochs
    on the CPU, clearly above chance (10%) on 500 held-out validation images."""
    data = load_proxy_data(DataConfig(dataset=str(shared_data / "cifar10-jpeg.tar.gz"), per_class=250,
                                      val_fraction=0.2, cache_dir=str(tmp_path)))
    assert (len(data.train), len(data.val)) == (2000, 500)
    spec = replace(resolve("darts_v2"), n=1, filters=16)
    reports = []
    outcome = evaluate(spec, TrainConfig(epochs=2, batch_size=64, lr=0.1, warmup_epochs=0.2), data,
                       report=lambda epoch, metrics: reports.append((epoch, metrics["val_acc"])))
    assert isinstance(outcome, Result), outcome
    assert outcome.reward > 0.25
    assert [e for e, _ in reports] == [1, 2] and reports[-1][1] == outcome.reward
    assert outcome.metrics["params"] == 129_706 and outcome.metrics["epochs"] == 2


def test_result_carries_cost_time_and_latency(tiny):
    outcome = evaluate(resolve(SMALL_CELL), TrainConfig(epochs=1, batch_size=50), tiny,
                       latency=LatencyTarget(device="cpu", batch_size=1, warmup=1, repeats=3))
    assert isinstance(outcome, Result), outcome
    m = outcome.metrics
    assert outcome.reward == m["val_acc"] and 0.0 <= m["val_acc"] <= 1.0
    # retargeted to the data's 16px input: the analytic cost is the 16px network's
    assert m["params"] == 44_706 and m["macs"] < 7_348_864 / 3
    assert m["train_time_s"] > 0 and m["latency_ms"] > 0 and m["epochs"] == 1


def test_report_can_stop_a_trial_early(tiny):
    outcome = evaluate(resolve(SMALL_CELL), TrainConfig(epochs=5, batch_size=50), tiny,
                       report=lambda epoch, metrics: epoch >= 2)
    assert isinstance(outcome, Result) and outcome.metrics["epochs"] == 2 and outcome.metrics["stopped"] == 1.0


def test_divergent_training_is_a_failure(tiny):
    outcome = evaluate(resolve(SMALL_CELL), TrainConfig(epochs=2, batch_size=50, lr=1e30, grad_clip=None), tiny)
    assert isinstance(outcome, Failure)
    assert outcome.reason.startswith("diverged: training loss became nan in epoch 1")


def test_build_error_is_a_failure(tiny):
    outcome = evaluate(resolve(SMALL_CELL), TrainConfig(epochs=1), tiny, extra_build={"width_mult": 2})
    assert isinstance(outcome, Failure)
    assert outcome.reason.startswith("build failed: TypeError:") and "width_mult" in outcome.reason


def test_spec_that_cannot_fit_the_data_is_a_failure(tiny):
    at_18px = replace(tiny, train=tiny.train.take(range(8)), val=tiny.val.take(range(4)))
    at_18px = replace(at_18px, train=replace(at_18px.train, images=at_18px.train.images[..., :14, :14].contiguous()),
                      val=replace(at_18px.val, images=at_18px.val.images[..., :14, :14].contiguous()))
    outcome = evaluate(resolve("nb201_resnet"), TrainConfig(epochs=1), at_18px)
    assert isinstance(outcome, Failure)
    assert "does not fit" in outcome.reason and "multiple of 4" in outcome.reason
