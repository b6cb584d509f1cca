"""The MnasNet reward (hand-computed values) and the MnasNet controller under a hard MACs target on
the real NAS-Bench-201 space and table."""
from __future__ import annotations

import functools
import json

import numpy as np
import pytest

from nas.strategies import make_strategy
from nas.strategies.base import Failure, Result
from nas.strategies.controller import RNNController
from nas.strategies.mnasnet import PRESETS, MnasNetController, mnasnet_reward
from search_spaces.nasbench201.space import NB201Space
from search_spaces.nasbench201.table import NB201Table

# The median analytic MACs over all 15,625 NB201 CIFAR-10 networks: half the space meets it,
# and the most accurate cells of the 12-epoch table do not.
TARGET_MACS = 47_104_640


@pytest.mark.parametrize("acc, lat, target, preset, expected", [
    (0.75, 80.0, 80.0, "soft", 0.75),                          # at the target: ACC itself
    (0.75, 160.0, 80.0, "soft", 0.75 * 2 ** -0.07),            # 2x slower: ~4.7% less
    (0.75, 40.0, 80.0, "soft", 0.75 * 0.5 ** -0.07),           # 2x faster: ~5% more
    (0.75, 40.0, 80.0, "hard", 0.75),                          # faster earns nothing
    (0.75, 160.0, 80.0, "hard", 0.375),                        # 2x slower halves it
    (76.2, 500e6, 400e6, "hard", 76.2 * 0.8),                  # MACs as LAT, B0's T = 400M
])
def test_reward_hand_values(acc, lat, target, preset, expected):
    assert mnasnet_reward(acc, lat, target, *PRESETS[preset]) == pytest.approx(expected, rel=1e-12)


def test_reward_hand_values_written_out():
    assert mnasnet_reward(0.75, 160.0, 80.0, -0.07, -0.07) == pytest.approx(0.714478498532953)
    assert mnasnet_reward(0.75, 40.0, 80.0, -0.07, -0.07) == pytest.approx(0.787287512717300)
    assert PRESETS == {"soft": (-0.07, -0.07), "hard": (0.0, -1.0)}


@pytest.mark.parametrize("args, match", [
    ((0.7, 0.0, 80.0, 0.0, -1.0), "latency and target must be > 0"),
    ((0.7, 50.0, -1.0, 0.0, -1.0), "latency and target must be > 0"),
    ((float("nan"), 50.0, 80.0, 0.0, -1.0), "accuracy must be a finite number"),
    ((0.7, "50", 80.0, 0.0, -1.0), "latency must be a finite number"),
])
def test_reward_rejects_bad_values(args, match):
    with pytest.raises(ValueError, match=match):
        mnasnet_reward(*args)


def test_controller_options_and_missing_metric():
    space = NB201Space()
    with pytest.raises(ValueError, match="constraint 'medium' unknown"):
        MnasNetController(space, metric="macs", target=1e6, constraint="medium")
    with pytest.raises(ValueError, match="target must be a finite number > 0"):
        MnasNetController(space, metric="macs", target=0)
    ctrl = MnasNetController(space, 0, metric="latency_ms", target=5.0, constraint=(-0.1, -0.5))
    assert (ctrl.alpha, ctrl.beta, ctrl.config.algorithm) == (-0.1, -0.5, "ppo")
    [cand] = ctrl.ask(1)
    with pytest.raises(ValueError, match="needs metric 'latency_ms'.*'macs'"):
        ctrl.tell(cand, Result(80.0, {"macs": 1e6}))
    ctrl.tell(cand, Failure("timeout"))   # failures need no metric
    other = MnasNetController(space, 0, metric="latency_ms", target=6.0, constraint=(-0.1, -0.5))
    with pytest.raises(ValueError, match="target=5.0"):
        other.load_state_dict(json.loads(json.dumps(ctrl.state_dict())))
    made = make_strategy("mnasnet", space, 0, metric="macs", target=1e6, constraint="hard")
    assert isinstance(made, MnasNetController) and made.beta == -1.0


def _search(ctrl, table, macs, queries):
    history = []
    for _ in range(queries):
        [cand] = ctrl.ask(1)
        acc, lat = table.query(cand.spec, "cifar10_valid"), macs(cand.spec)
        ctrl.tell(cand, Result(acc, {"macs": lat}))
        history.append((acc, lat))
    return history


def test_hard_macs_target_best_cell_meets_it(shared_data):
    space = NB201Space()
    table = NB201Table(shared_data / "nasbench201-12epoch.csv")
    macs = functools.lru_cache(maxsize=None)(lambda spec: space.cost(spec).macs)
    alpha, beta = PRESETS["hard"]
    for seed in (0, 1):
        hard = _search(MnasNetController(space, seed, metric="macs", target=TARGET_MACS,
                                         constraint="hard"), table, macs, 100)
        best = max(hard, key=lambda h: mnasnet_reward(h[0], h[1], TARGET_MACS, alpha, beta))
        assert best[1] <= TARGET_MACS
        # It learned the constraint: late proposals meet it more often than uniform sampling
        # would (half the space does) ...
        late = np.mean([lat <= TARGET_MACS for _, lat in hard[50:]])
        assert late > 0.6
        # ... whereas the same controller rewarded on accuracy alone drifts over the target.
        plain = _search(RNNController(space, seed), table, macs, 100)
        assert max(plain)[1] > TARGET_MACS
        assert np.mean([lat <= TARGET_MACS for _, lat in plain[50:]]) < 0.4
