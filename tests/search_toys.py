"""A tiny search space, a seeded strategy and trivial evaluators for the search-loop tests.

Real components in miniature: the space implements the whole ``SearchSpace`` contract, the
strategy the whole ask/tell contract (its proposals depend on what it was told, so a resume that
lost or repeated a tell would change them), and the evaluators are pure functions of the spec
(plus deliberate failures), so every recorded value can be checked exactly.
"""
from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cells.counting import Cost
from nas.strategies.base import Candidate, Result, Strategy
from search_spaces.base import Dimension, SearchSpace


@dataclass(frozen=True)
class ToySpec:
    width: int
    depth: int
    act: str

    def to_str(self) -> str:
        return f"toy:w{self.width}-d{self.depth}-{self.act}"

    def to_dict(self) -> dict:
        return {"width": self.width, "depth": self.depth, "act": self.act}


class ToySpace(SearchSpace):
    name = "toy"

    def __init__(self, widths=(8, 16, 32, 64), depths=(1, 2, 3, 4)) -> None:
        self.widths, self.depths = tuple(widths), tuple(depths)

    def dimensions(self):
        return (Dimension("width", self.widths), Dimension("depth", self.depths),
                Dimension("act", ("relu", "swish")))

    def freeze(self, decisions):
        w, d, a = self.check_decisions(decisions)
        return ToySpec(self.widths[w], self.depths[d], ("relu", "swish")[a])

    def decisions(self, spec):
        return (self.widths.index(spec.width), self.depths.index(spec.depth),
                ("relu", "swish").index(spec.act))

    def validate(self, spec):
        self.decisions(spec)

    def cost(self, spec, **kwargs):
        return Cost(params=spec.width * spec.width * spec.depth,
                    macs=spec.width * spec.width * spec.depth * 64)

    def to_graph(self, spec):
        import networkx as nx
        return nx.DiGraph(space="toy", spec=spec.to_str())

    def build(self, spec, **kwargs):
        raise NotImplementedError("toy specs are never trained")

    def retarget(self, spec, *, num_classes=None, resolution=None):
        return spec

    def from_str(self, text):
        if not text.startswith("toy:"):
            raise ValueError(f"not a toy spec: {text!r}")
        w, d, a = text[4:].split("-")
        return ToySpec(int(w[1:]), int(d[1:]), a)

    def from_dict(self, data):
        return ToySpec(**data)


class ToyHillClimb(Strategy):
    """Seeded: half the proposals are random, half mutate the best spec told so far."""

    def __init__(self, space, seed=0, explore=0.5):
        self.space, self.explore = space, explore
        self.rng = np.random.default_rng(seed)
        self.next_id, self.best, self.told = 0, None, 0

    def ask(self, n=1):
        out = []
        for _ in range(n):
            if self.best is None or self.rng.random() < self.explore:
                spec = self.space.sample(self.rng)
            else:
                spec = self.space.mutate(self.space.from_str(self.best[1]), self.rng)
            out.append(Candidate(self.next_id, spec, self.space.decisions(spec)))
            self.next_id += 1
        return out

    def tell(self, candidate, outcome):
        self.told += 1
        if isinstance(outcome, Result) and (self.best is None or outcome.reward > self.best[0]):
            self.best = (outcome.reward, self.space.to_str(candidate.spec))

    def state_dict(self):
        return {"rng": self.rng.bit_generator.state, "next_id": self.next_id,
                "best": self.best, "told": self.told}

    def load_state_dict(self, state):
        self.rng.bit_generator.state = state["rng"]
        self.next_id, self.told = state["next_id"], state["told"]
        self.best = tuple(state["best"]) if state["best"] else None


class FixedList(Strategy):
    """Proposes the given spec strings in order (then wraps around): a strategy whose order is
    known, for tests whose outcome depends on it (early stopping)."""

    def __init__(self, space, seed=0, specs=()):
        self.space, self.specs, self.next_id = space, [space.from_str(s) for s in specs], 0

    def ask(self, n=1):
        out = []
        for _ in range(n):
            spec = self.specs[self.next_id % len(self.specs)]
            out.append(Candidate(self.next_id, spec, self.space.decisions(spec)))
            self.next_id += 1
        return out

    def tell(self, candidate, outcome):
        pass

    def state_dict(self):
        return {"next_id": self.next_id}

    def load_state_dict(self, state):
        self.next_id = state["next_id"]


def toy_score(spec: ToySpec) -> float:
    """The 'accuracy' of a toy spec: a pure function, best at width 32, depth 3, swish."""
    return round(0.9 - abs(spec.width - 32) / 100 - abs(spec.depth - 3) / 20
                 + (0.02 if spec.act == "swish" else 0.0), 6)


def score(spec, *, report, seed, epochs=2, sleep=0.0):
    """Trivial evaluator: reports ``epochs`` per-epoch values, then the exact toy score."""
    for epoch in range(1, epochs + 1):
        time.sleep(sleep / epochs)
        report(epoch, {"val_acc": toy_score(spec) * epoch / epochs})
    return Result(toy_score(spec), {"val_acc": toy_score(spec), "params": spec.width ** 2 * spec.depth,
                                    "macs": spec.width ** 2 * spec.depth * 64, "seed": seed})


def faulty(spec, *, report, seed):
    """Width 8 raises inside the evaluator; width 64 diverges (NaN reward); others score."""
    if spec.width == 8:
        raise RuntimeError(f"cannot build {spec.to_str()}")
    if spec.width == 64:
        report(1, {"val_acc": float("nan")})
        return Result(float("nan"), {"train_loss": float("nan")})
    return score(spec, report=report, seed=seed, epochs=1)


def where(spec, *, report, seed):
    """Scores, and records which Ray cluster (GCS address) and process ran the trial."""
    import ray
    result = score(spec, report=report, seed=seed, epochs=1)
    gcs = ray.get_runtime_context().gcs_address if ray.is_initialized() else "no-ray"
    return Result(result.reward, {**result.metrics, "gcs": gcs, "pid": os.getpid()})


def kill_once(spec, *, report, seed, marker_dir):
    """The first attempt at each spec SIGKILLs its own worker process; the retry scores."""
    marker = Path(marker_dir) / spec.to_str().replace(":", "_")
    if not marker.exists():
        marker.write_text(str(os.getpid()))
        os.kill(os.getpid(), signal.SIGKILL)
    return score(spec, report=report, seed=seed, epochs=1)


def kill_group(pgid: int) -> None:
    """SIGKILL what is left of a process group this test started (a killed driver's Ray daemons)."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def group_alive(pgid: int) -> list[int]:
    """Pids still in process group ``pgid`` (zombies excluded)."""
    alive = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                alive.append(int(entry.name))
    return alive


def spec_id(spec) -> str:
    """A stable test id: the spec string's digest (``hash`` changes between interpreter runs)."""
    import hashlib
    return hashlib.sha256(spec.to_str().encode()).hexdigest()[:8]
