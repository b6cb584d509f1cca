"""The NASNet-style RNN controller: an LSTM policy over a space's decision sequence.

Follows Zoph & Le, "Neural Architecture Search with Reinforcement Learning" (ICLR 2017), and Zoph
et al., "Learning Transferable Architectures for Scalable Image Recognition" (CVPR 2018): the
controller emits one categorical decision per step (a softmax over that decision's options), the
chosen option is embedded and fed back as the next input, and the policy is trained on the reward
(validation accuracy) either by REINFORCE with an exponential-moving-average baseline and an
entropy bonus (Zoph & Le) or by PPO's clipped-ratio objective over several epochs (NASNet).

Design choices this module makes, so the caller can rely on them:

* The policy is updated each time ``batch_size`` rewards have arrived, in the order they were told
  (tells may come in any order; asks may run ahead of tells, as with parallel workers). Each
  candidate keeps the log-probability it was sampled with, which is PPO's "old" policy and makes
  the ratio correct even when the policy moved between ask and tell.
* A ``Failure`` is told as ``failure_reward`` (default 0.0: an architecture that crashes or runs
  out of memory should become less likely, not be ignored); ``failure_reward=None`` skips failures.
* Advantages are ``reward - baseline``; with ``normalize_advantage`` they are divided by a running
  RMS of past advantages, so one learning rate works whether rewards are fractions or percents.
* All randomness comes from a ``torch.Generator`` seeded from the strategy's numpy Generator (the
  policy's initial weights too: uniform in +-``init_range`` as Zoph & Le initialised theirs), so no
  global RNG is read or advanced. ``state_dict`` is plain JSON and ``load_state_dict`` continues
  with exactly the asks the original would have made.
* In ``state_dict`` every tensor (policy weights, Adam moments) is ``{"dtype", "shape", "data"}``
  with ``data`` the base64 of its raw little-endian bytes: bitwise exact and ~4x smaller than
  decimal lists (the search driver saves the state after every ask and tell). Checkpoints that
  hold plain float lists, as earlier versions wrote, still load.
"""
from __future__ import annotations

import base64
import contextlib
import dataclasses
import math
from typing import Sequence

import numpy as np
import torch
from torch import nn
from torch.nn.utils import skip_init

from nas.strategies.base import Candidate, Failure, Outcome, Result, Strategy
from nas.strategies.common import Ledger, check_n, check_outcome, new_rng, seal, unseal
from search_spaces.base import SearchSpace

ALGORITHMS = ("reinforce", "ppo")
# Tensor dtypes a checkpoint may hold, with their little-endian numpy equivalents.
_DTYPES = {"float32": (torch.float32, "<f4"), "float64": (torch.float64, "<f8"),
           "int64": (torch.int64, "<i8")}


def pack_tensor(tensor: torch.Tensor) -> dict:
    """A tensor as JSON: dtype, shape and base64 of its raw little-endian bytes (bitwise exact)."""
    name = str(tensor.dtype).removeprefix("torch.")
    if name not in _DTYPES:
        raise TypeError(f"cannot checkpoint a tensor of dtype {tensor.dtype}; accepted: {', '.join(_DTYPES)}")
    raw = tensor.detach().cpu().contiguous().numpy().astype(_DTYPES[name][1], copy=False).tobytes()
    return {"dtype": name, "shape": list(tensor.shape), "data": base64.b64encode(raw).decode("ascii")}


def unpack_tensor(packed, field: str) -> torch.Tensor:
    """Inverse of :func:`pack_tensor`; a plain (nested) float list, the older form, is float32."""
    if isinstance(packed, (list, float, int)):
        return torch.tensor(packed, dtype=torch.float32)
    if not isinstance(packed, dict) or packed.get("dtype") not in _DTYPES:
        found = packed.get("dtype") if isinstance(packed, dict) else type(packed).__name__
        raise ValueError(f"state_dict {field}: expected a packed tensor with dtype in "
                         f"{', '.join(_DTYPES)}, got {found!r}")
    dtype, code = _DTYPES[packed["dtype"]]
    flat = np.frombuffer(base64.b64decode(packed["data"]), dtype=code)
    shape = tuple(int(n) for n in packed["shape"])
    if flat.size != math.prod(shape):
        raise ValueError(f"state_dict {field}: {flat.size} values do not fill shape {list(shape)}")
    return torch.from_numpy(flat.astype(code[1:], copy=True).reshape(shape)).to(dtype)


@dataclasses.dataclass(frozen=True)
class ControllerConfig:
    """Hyperparameters of the controller and its policy-gradient update."""

    algorithm: str = "reinforce"      # "reinforce" (Zoph & Le) or "ppo" (NASNet)
    batch_size: int = 10              # rewards per policy update
    lr: float = 0.02                  # Adam; the papers' 6e-4 suits tens of thousands of samples
    hidden: int = 64                  # LSTM width (Zoph & Le: 35, NASNet: 100)
    entropy_weight: float = 0.1       # bonus on the policy's (summed) entropy, keeps it exploring
    baseline_decay: float = 0.9       # EMA of the batch-mean reward
    normalize_advantage: bool = True  # divide by a running RMS of advantages
    temperature: float | None = None  # logits / temperature (ENAS-style), None = off
    tanh_constant: float | None = None  # C * tanh(logits) clipping (ENAS-style), None = off
    init_range: float = 0.1           # uniform(-r, r) initial weights
    ppo_epochs: int = 4               # passes over each batch (PPO only)
    ppo_clip: float = 0.2             # ratio clip epsilon (PPO only)
    failure_reward: float | None = 0.0  # reward for a Failure; None skips failures

    def __post_init__(self) -> None:
        if self.algorithm not in ALGORITHMS:
            raise ValueError(f"algorithm {self.algorithm!r} unknown; accepted: {ALGORITHMS}")
        for name in ("batch_size", "hidden", "ppo_epochs"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        for name in ("lr", "init_range", "ppo_clip"):
            _check_float(name, getattr(self, name), positive=True)
        _check_float("entropy_weight", self.entropy_weight)
        if not 0.0 <= self.baseline_decay < 1.0:
            raise ValueError(f"baseline_decay must be in [0, 1), got {self.baseline_decay!r}")
        for name in ("temperature", "tanh_constant"):
            if getattr(self, name) is not None:
                _check_float(name, getattr(self, name), positive=True)
        if self.failure_reward is not None:
            _check_float("failure_reward", self.failure_reward)


def _check_float(name: str, value, positive: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if positive and value <= 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")


@contextlib.contextmanager
def _single_thread():
    """Run the policy on one intra-op thread, restoring the caller's setting afterwards.

    The policy's matrices are tiny (hidden ~64): with several threads the fan-out and spin-waiting
    cost far more than the arithmetic (measured ~30x slower with 2 threads on a busy 2-core box).
    """
    previous = torch.get_num_threads()
    if previous != 1:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        if previous != 1:
            torch.set_num_threads(previous)


class ControllerPolicy(nn.Module):
    """A one-layer LSTM emitting one categorical decision per step; the choice is fed back."""

    def __init__(self, sizes: Sequence[int], config: ControllerConfig, generator: torch.Generator):
        super().__init__()
        self.sizes = tuple(int(k) for k in sizes)
        self.temperature = config.temperature
        self.tanh_constant = config.tanh_constant
        h = config.hidden
        # skip_init: no draw from torch's global RNG; every weight comes from ``generator`` below.
        self.start = nn.Parameter(torch.empty(1, h))
        self.cell = skip_init(nn.LSTMCell, h, h)
        self.embeds = nn.ModuleList(skip_init(nn.Embedding, k, h) for k in self.sizes[:-1])
        self.heads = nn.ModuleList(skip_init(nn.Linear, h, k) for k in self.sizes)
        with torch.no_grad():
            for p in self.parameters():
                p.uniform_(-config.init_range, config.init_range, generator=generator)

    def forward(self, n: int, decisions: torch.Tensor | None = None,
                generator: torch.Generator | None = None):
        """Sample ``n`` sequences (``decisions`` None) or score the given ``(n, D)`` ones.

        Returns ``(decisions, log_prob, entropy)``: the sequences, each one's summed log-probability
        and the summed entropy of the per-step distributions along it.
        """
        h = torch.zeros(n, self.start.shape[1])
        c = torch.zeros_like(h)
        x = self.start.expand(n, -1)
        picks, logps, ents = [], [], []
        for t, head in enumerate(self.heads):
            h, c = self.cell(x, (h, c))
            logits = head(h)
            if self.temperature is not None:
                logits = logits / self.temperature
            if self.tanh_constant is not None:
                logits = self.tanh_constant * torch.tanh(logits)
            logp_all = torch.log_softmax(logits, dim=-1)
            if decisions is None:
                pick = torch.multinomial(logp_all.exp(), 1, generator=generator).squeeze(1)
            else:
                pick = decisions[:, t]
            picks.append(pick)
            logps.append(logp_all.gather(1, pick[:, None]).squeeze(1))
            ents.append(-(logp_all.exp() * logp_all).sum(dim=-1))
            if t + 1 < len(self.heads):
                x = self.embeds[t](pick)
        return torch.stack(picks, 1), torch.stack(logps, 1).sum(1), torch.stack(ents, 1).sum(1)


class RNNController(Strategy):
    """NASNet-style controller: ``RNNController(space, seed, algorithm="ppo", lr=0.02, ...)``.

    Keyword options are the fields of :class:`ControllerConfig`. ``seed`` is an int, a
    ``numpy.random.SeedSequence`` (e.g. one child of ``spawn``) or a ``numpy.random.Generator``.
    """

    kind = "rnn_controller"

    def __init__(self, space: SearchSpace, seed: int | np.random.SeedSequence | np.random.Generator = 0,
                 **options):
        if not isinstance(space, SearchSpace):
            raise TypeError(f"space must be a SearchSpace, got {type(space).__name__}")
        self.space = space
        self.config = ControllerConfig(**options)
        self.sizes = tuple(len(d.choices) for d in space.dimensions())
        if not self.sizes:
            raise ValueError(f"space {space.name!r} has no dimensions to decide")
        self.rng = seed if isinstance(seed, np.random.Generator) else new_rng(seed)
        self.generator = torch.Generator().manual_seed(int(self.rng.integers(2**63)))
        self.policy = ControllerPolicy(self.sizes, self.config, self.generator)
        self.optimizer = torch.optim.Adam(self.policy.parameters(), lr=self.config.lr)
        self.baseline: float | None = None
        self.adv_sq: float | None = None   # running mean of squared advantages
        self.updates = 0
        self.ledger = Ledger()             # pending records: [decisions, sampling log-prob]
        self._told: list[tuple[tuple[int, ...], float, float]] = []

    # -- the seam -------------------------------------------------------------------------------
    def ask(self, n: int = 1) -> list[Candidate]:
        n = check_n(n)
        if n == 0:
            return []
        with torch.no_grad(), _single_thread():
            picks, logp, _ = self.policy(n, generator=self.generator)
        return [self.ledger.issue(self.space, row, float(lp))
                for row, lp in zip(picks.tolist(), logp.tolist())]

    def tell(self, candidate: Candidate, outcome: Outcome) -> None:
        outcome = check_outcome(outcome)
        if isinstance(outcome, Failure):
            reward = self.config.failure_reward
        else:
            reward = float(self.reward_of(outcome))
            if not math.isfinite(reward):
                raise ValueError(f"tell: shaped reward for candidate {candidate.id} is {reward!r}")
        decisions, logp = self.ledger.take(candidate)   # only now: a rejected tell stays pending
        if reward is None:   # failure_reward=None: failures are skipped
            return
        self._told.append((tuple(decisions), float(logp), reward))
        if len(self._told) >= self.config.batch_size:
            batch, self._told = self._told[:self.config.batch_size], self._told[self.config.batch_size:]
            with _single_thread():
                self._update(batch)

    def reward_of(self, result: Result) -> float:
        """The scalar the policy maximizes; subclasses shape it (see nas.strategies.mnasnet)."""
        return float(result.reward)

    # -- learning -------------------------------------------------------------------------------
    def _advantages(self, rewards: np.ndarray) -> torch.Tensor:
        cfg = self.config
        if self.baseline is None:    # first batch: its own mean, not 0 (rewards may be ~90)
            self.baseline = float(rewards.mean())
        adv = rewards - self.baseline
        self.baseline = cfg.baseline_decay * self.baseline + (1 - cfg.baseline_decay) * float(rewards.mean())
        if cfg.normalize_advantage:
            sq = float((adv ** 2).mean())
            self.adv_sq = sq if self.adv_sq is None else (
                cfg.baseline_decay * self.adv_sq + (1 - cfg.baseline_decay) * sq)
            adv = adv / (math.sqrt(self.adv_sq) + 1e-8)
        return torch.tensor(adv, dtype=torch.float32)

    def _update(self, batch: list[tuple[tuple[int, ...], float, float]]) -> None:
        cfg = self.config
        decisions = torch.tensor([b[0] for b in batch], dtype=torch.long)
        old_logp = torch.tensor([b[1] for b in batch], dtype=torch.float32)
        adv = self._advantages(np.array([b[2] for b in batch], dtype=np.float64))
        epochs = cfg.ppo_epochs if cfg.algorithm == "ppo" else 1
        for _ in range(epochs):
            _, logp, entropy = self.policy(len(batch), decisions=decisions)
            if cfg.algorithm == "ppo":
                ratio = torch.exp(logp - old_logp)
                clipped = torch.clamp(ratio, 1 - cfg.ppo_clip, 1 + cfg.ppo_clip)
                objective = torch.minimum(ratio * adv, clipped * adv)
            else:
                objective = logp * adv
            loss = -(objective.mean() + cfg.entropy_weight * entropy.mean())
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
        self.updates += 1

    # -- checkpointing --------------------------------------------------------------------------
    def _config(self) -> dict:
        return dataclasses.asdict(self.config)

    def state_dict(self) -> dict:
        opt = self.optimizer.state_dict()["state"]
        return seal(
            self, torch_generator=base64.b64encode(self.generator.get_state().numpy().tobytes()).decode(),
            policy={k: pack_tensor(v) for k, v in self.policy.state_dict().items()},
            optimizer={str(i): {k: pack_tensor(v) for k, v in s.items()} for i, s in opt.items()},
            baseline=self.baseline, adv_sq=self.adv_sq, updates=self.updates,
            told=[[list(d), lp, r] for d, lp, r in self._told], **self.ledger.state())

    def load_state_dict(self, state: dict) -> None:
        state = unseal(self, state)
        raw = np.frombuffer(base64.b64decode(state["torch_generator"]), dtype=np.uint8).copy()
        self.generator.set_state(torch.from_numpy(raw))
        self.policy.load_state_dict({k: unpack_tensor(v, f"policy.{k}")
                                     for k, v in state["policy"].items()})
        opt = self.optimizer.state_dict()
        opt["state"] = {int(i): {k: unpack_tensor(v, f"optimizer.{i}.{k}") for k, v in s.items()}
                        for i, s in state["optimizer"].items()}
        self.optimizer.load_state_dict(opt)
        self.baseline = state["baseline"]
        self.adv_sq = state["adv_sq"]
        self.updates = int(state["updates"])
        self._told = [(tuple(int(x) for x in d), float(lp), float(r)) for d, lp, r in state["told"]]
        self.ledger.load(state)
