"""nas.metrics: analytic cost vs torch's counter on built specs, measured latency, peak memory."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from nas.metrics import count_macs, count_params, cross_check_cost, measure_latency, peak_memory
from search_spaces.catalog import resolve, space_for

SMALL_CELL = ("cell:normal=conv_3x3@0+skip_connect@1,sep_conv_3x3@1+skip_connect@2;"
              "reduce=max_pool_3x3@0+conv_3x3@1,skip_connect@2+max_pool_3x3@1;N=1;F=8;stem=cifar;"
              "wiring=darts;classes=10;res=32;stem_mult=3")


def test_count_macs_of_a_conv_and_a_linear():
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.Flatten(), nn.Linear(8 * 16 * 16, 10))
    assert count_macs(model, 16) == 8 * 3 * 9 * 16 * 16 + 8 * 16 * 16 * 10
    assert count_params(model) == 8 * 3 * 9 + 8 * 16 * 16 * 10 + 10


@pytest.mark.parametrize("text", [SMALL_CELL, "nb201_resnet"])
def test_analytic_cost_matches_the_built_module(text):
    spec = resolve(text)
    check = cross_check_cost(space_for(spec), spec)
    assert check.match, check
    assert check.params > 10_000 and check.macs > 1_000_000


def test_latency_is_measured_with_warmup_and_repeats():
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1))
    model.train()
    lat = measure_latency(model, 16, batch_size=2, device="cpu", warmup=2, repeats=7)
    assert lat.repeats == 7 and lat.batch_size == 2 and lat.device == "cpu"
    assert 0 < lat.min_ms <= lat.median_ms <= lat.p90_ms
    assert model.training  # the caller's mode is restored
    with pytest.raises(ValueError, match="repeats"):
        measure_latency(model, 16, repeats=0)


def test_peak_memory_is_none_on_cpu_and_bytes_on_cuda():
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.AdaptiveAvgPool2d(1), nn.Flatten())
    assert peak_memory(model, 16, device="cpu") is None
    if torch.cuda.is_available():
        peak = peak_memory(model, 16, batch_size=4, device="cuda")
        assert peak >= 4 * 8 * 16 * 16 * 4  # at least the conv output activations
