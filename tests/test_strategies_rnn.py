"""The NASNet-style RNN controller: reproducibility, exact resume, out-of-order tells, failures,
bad input; on the real NAS-Bench-201 space with rewards from the real 12-epoch table."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from nas.strategies.base import Candidate, Failure, Result
from nas.strategies.controller import ControllerConfig, RNNController, pack_tensor, unpack_tensor
from search_spaces.nasbench201.space import NB201Space
from search_spaces.nasbench201.table import NB201Table

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def table(shared_data) -> NB201Table:
    return NB201Table(shared_data / "nasbench201-12epoch.csv")


def drive(ctrl: RNNController, table: NB201Table, rounds: int, width: int = 4) -> list[str]:
    """Ask ``width`` at a time, tell them in reverse order (as parallel workers might finish)."""
    asked = []
    for _ in range(rounds):
        cands = ctrl.ask(width)
        asked += [c.spec.to_str() for c in cands]
        for c in reversed(cands):
            ctrl.tell(c, Result(table.query(c.spec, "cifar10_valid")))
    return asked


@pytest.mark.parametrize("algorithm", ["reinforce", "ppo"])
def test_same_seed_same_asks_different_seed_different(table, algorithm):
    space = NB201Space()
    a = drive(RNNController(space, seed=7, algorithm=algorithm, batch_size=5), table, 10)
    b = drive(RNNController(space, seed=7, algorithm=algorithm, batch_size=5), table, 10)
    c = drive(RNNController(space, seed=8, algorithm=algorithm, batch_size=5), table, 10)
    assert a == b
    assert a != c
    assert len(set(a)) > 10   # it samples, it does not repeat one cell


def test_same_seed_same_asks_in_a_fresh_process(table, shared_data):
    script = (
        "import json, sys\n"
        "from nas.strategies.base import Result\n"
        "from nas.strategies.controller import RNNController\n"
        "from search_spaces.nasbench201.space import NB201Space\n"
        "from search_spaces.nasbench201.table import NB201Table\n"
        "table = NB201Table(sys.argv[1])\n"
        "ctrl = RNNController(NB201Space(), seed=11, algorithm='ppo', batch_size=5)\n"
        "out = []\n"
        "for _ in range(8):\n"
        "    cands = ctrl.ask(3)\n"
        "    out += [c.spec.to_str() for c in cands]\n"
        "    for c in reversed(cands):\n"
        "        ctrl.tell(c, Result(table.query(c.spec, 'cifar10_valid')))\n"
        "print(json.dumps(out))\n")
    proc = subprocess.run([sys.executable, "-c", script, str(shared_data / "nasbench201-12epoch.csv")],
                          cwd=ROOT, capture_output=True, text=True, timeout=120, check=True)
    here = drive(RNNController(NB201Space(), seed=11, algorithm="ppo", batch_size=5), table, 8, width=3)
    assert json.loads(proc.stdout) == here


@pytest.mark.parametrize("algorithm", ["reinforce", "ppo"])
def test_state_dict_mid_search_continues_exactly(table, algorithm):
    space = NB201Space()
    original = RNNController(space, seed=3, algorithm=algorithm, batch_size=4)
    drive(original, table, 5, width=3)               # 15 told: 3 updates, 3 rewards waiting
    pending = original.ask(5)                          # asked, not yet told
    for c in pending[:2]:
        original.tell(c, Result(table.query(c.spec, "cifar10_valid")))
    assert original.updates == 4

    state = json.loads(json.dumps(original.state_dict()))   # must survive real JSON
    resumed = RNNController(space, seed=999, algorithm=algorithm, batch_size=4)
    resumed.load_state_dict(state)

    for ctrl in (original, resumed):   # the untold candidates are told to both, then both go on
        for c in pending[2:]:
            ctrl.tell(c, Result(table.query(c.spec, "cifar10_valid")))
    assert drive(original, table, 6) == drive(resumed, table, 6)
    assert original.updates == resumed.updates == 11
    for (name, p), q in zip(original.policy.state_dict().items(), resumed.policy.state_dict().values()):
        assert torch.equal(p, q), name


def test_checkpoint_tensors_are_packed_bitwise_exact(table):
    for tensor in (torch.randn(3, 4, generator=torch.Generator().manual_seed(0)),
                   torch.tensor(7.0), torch.tensor([[1e-30, -0.0, float("inf")]], dtype=torch.float64),
                   torch.arange(6, dtype=torch.int64).reshape(2, 3).t()):
        back = unpack_tensor(json.loads(json.dumps(pack_tensor(tensor))), "t")
        assert back.dtype == tensor.dtype and back.shape == tensor.shape
        assert back.numpy().tobytes() == tensor.contiguous().numpy().tobytes()
    assert pack_tensor(torch.tensor([1.0]))["data"] == "AACAPw=="   # little-endian float32 bytes
    with pytest.raises(TypeError, match="dtype torch.bool"):
        pack_tensor(torch.tensor([True]))
    with pytest.raises(ValueError, match=r"policy.start: 3 values do not fill shape \[2, 2\]"):
        unpack_tensor({"dtype": "float32", "shape": [2, 2], "data": "AAAAAAAAAAAAAAAA"}, "policy.start")
    with pytest.raises(ValueError, match="optimizer.0.step: expected a packed tensor .* got 'float16'"):
        unpack_tensor({"dtype": "float16", "shape": [], "data": ""}, "optimizer.0.step")

    ctrl = RNNController(NB201Space(), seed=5, batch_size=4)
    drive(ctrl, table, 3)
    state = ctrl.state_dict()
    # The flat float-list form earlier versions wrote (no nested body, tensors as lists).
    legacy = json.loads(json.dumps({**{k: v for k, v in state.items() if k != "body"}, **state["body"]}))
    legacy["policy"] = {k: unpack_tensor(v, k).tolist() for k, v in legacy["policy"].items()}
    legacy["optimizer"] = {i: {k: unpack_tensor(v, k).tolist() for k, v in s.items()}
                           for i, s in legacy["optimizer"].items()}
    assert len(json.dumps(state)) * 3 < len(json.dumps(legacy))
    resumed = [RNNController(NB201Space(), seed=9, batch_size=4) for _ in range(2)]
    resumed[0].load_state_dict(json.loads(json.dumps(state)))
    resumed[1].load_state_dict(legacy)
    assert drive(resumed[0], table, 4) == drive(resumed[1], table, 4) == drive(ctrl, table, 4)


def test_out_of_order_tells_update_in_arrival_order(table):
    space = NB201Space()
    ctrl = RNNController(space, seed=0, batch_size=4)
    before = {k: v.clone() for k, v in ctrl.policy.state_dict().items()}
    cands = ctrl.ask(6)
    for c in (cands[4], cands[1], cands[5]):
        ctrl.tell(c, Result(table.query(c.spec)))
    assert ctrl.updates == 0
    ctrl.tell(cands[0], Result(table.query(cands[0].spec)))
    assert ctrl.updates == 1
    assert any(not torch.equal(before[k], v) for k, v in ctrl.policy.state_dict().items())
    assert sorted(i for i, _, _ in ctrl.state_dict()["body"]["pending"]) == [cands[2].id, cands[3].id]
    with pytest.raises(ValueError, match="not pending"):
        ctrl.tell(cands[0], Result(80.0))
    with pytest.raises(ValueError, match="not pending"):
        ctrl.tell(Candidate(1234, cands[2].spec, cands[2].decisions), Result(80.0))
    with pytest.raises(ValueError, match="were asked"):
        ctrl.tell(Candidate(cands[2].id, cands[3].spec, cands[3].decisions), Result(80.0))
    with pytest.raises(ValueError, match="finite number"):
        ctrl.tell(cands[2], Result(float("nan")))
    ctrl.tell(cands[2], Result(70.0))   # the rejected tells left it pending


def test_failures_count_as_failure_reward_or_are_skipped():
    space = NB201Space()
    counted = RNNController(space, seed=0, batch_size=3, failure_reward=0.0)
    skipped = RNNController(space, seed=0, batch_size=3, failure_reward=None)
    for ctrl in (counted, skipped):
        for c in ctrl.ask(3):
            ctrl.tell(c, Failure("out of memory"))
    assert counted.updates == 1 and counted.baseline == 0.0
    assert skipped.updates == 0 and skipped.state_dict()["body"]["told"] == []
    assert skipped.state_dict()["body"]["pending"] == []


def test_candidates_are_frozen_specs_of_their_decisions():
    space = NB201Space()
    cands = RNNController(space, seed=5).ask(16)
    assert [c.id for c in cands] == list(range(16))
    for c in cands:
        assert c.spec == space.freeze(c.decisions)
        assert space.decisions(c.spec) == c.decisions


def test_policy_draws_nothing_from_torch_global_rng():
    before = torch.get_rng_state()
    ctrl = RNNController(NB201Space(), seed=1, algorithm="ppo", batch_size=2)
    for c in ctrl.ask(2):
        ctrl.tell(c, Result(50.0 + c.id))
    assert torch.equal(before, torch.get_rng_state())


def test_numpy_generator_as_seed_matches_its_integer_seed():
    space = NB201Space()
    a = [c.spec for c in RNNController(space, seed=np.random.default_rng(4)).ask(8)]
    b = [c.spec for c in RNNController(space, seed=4).ask(8)]
    assert a == b


@pytest.mark.parametrize("options, match", [
    ({"algorithm": "a2c"}, "algorithm 'a2c' unknown"),
    ({"batch_size": 0}, "batch_size must be an integer >= 1, got 0"),
    ({"lr": -1.0}, "lr must be > 0"),
    ({"baseline_decay": 1.0}, "baseline_decay must be in"),
    ({"temperature": float("inf")}, "temperature must be a finite number"),
])
def test_bad_options_raise_naming_the_field(options, match):
    with pytest.raises(ValueError, match=match):
        RNNController(NB201Space(), **options)


def test_bad_calls_raise_clear_errors():
    ctrl = RNNController(NB201Space(), seed=0)
    assert ctrl.ask(0) == []
    with pytest.raises(ValueError, match="n must be an int >= 0, got -1"):
        ctrl.ask(-1)
    with pytest.raises(TypeError, match="seed must be an int"):
        RNNController(NB201Space(), seed="x")
    with pytest.raises(TypeError, match="unexpected keyword"):
        RNNController(NB201Space(), learning_rate=0.1)
    other = RNNController(NB201Space(), seed=0, lr=0.1)
    with pytest.raises(ValueError, match="config lr=0.1 differs"):
        ctrl.load_state_dict(other.state_dict())
    with pytest.raises(ValueError, match="not 'rnn_controller'"):
        ctrl.load_state_dict({"strategy": "evolution"})
    assert ControllerConfig().algorithm == "reinforce"
