"""Regularized (aging) evolution (Real et al. 2019, "Regularized Evolution for Image Classifier
Architecture Search", Algorithm 1).

A population of the ``population_size`` most recently evaluated architectures; each new child is
a ``space.mutate`` of the best of ``sample_size`` members drawn at random (tournament), and the
oldest member (not the worst) leaves when a child joins, which is what regularizes the search.

Asynchronous use, as the paper's workers: ``ask`` may run ahead of ``tell``. The first
``population_size`` asks are uniform random samples (the warm-up); a child is bred whenever the
population holds at least one evaluated member, otherwise ``ask`` falls back to a random sample.
Failures: a failed candidate never joins the population (it would carry no reward to compete
with, and treating it as -inf would only shrink the effective population); a failed warm-up
sample is replaced by another random one, so the warm-up still yields ``population_size``
evaluated members.

``initial`` seeds the warm-up with named networks (or spec strings / JSON files), resolved through
the catalog and mapped into the space's decisions: the first asks are those networks, the rest of
the warm-up is random, so a search can start from MobileNetV2 or ResNet-50 rather than from noise.
"""
from __future__ import annotations

from typing import Sequence

from nas.strategies.base import Candidate, Failure, Outcome, Strategy
from nas.strategies.common import Ledger, check_n, check_outcome, new_rng, seal, unseal


def _positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be an int >= 1, got {value!r}")
    return value


def _text_list(name: str, value) -> list:
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise ValueError(f"{name} must be a list of named architectures or spec strings, got {value!r}")
    return list(value)


def _seed(space, text: str) -> tuple[int, ...]:
    """A named network / spec string / JSON file -> its decisions in ``space``; one ValueError
    naming the entry when it does not resolve or lies outside the space."""
    from search_spaces import catalog
    try:
        return tuple(space.decisions(catalog.resolve(text)))
    except (TypeError, ValueError) as err:
        raise ValueError(f"initial: {text!r} cannot seed this {space.name} search: {err}") from None


class RegularizedEvolution(Strategy):
    kind = "evolution"

    def __init__(self, space, seed: int = 0, *, population_size: int = 100, sample_size: int = 25,
                 initial: Sequence[str] = ()):
        self.initial = [str(text) for text in _text_list("initial", initial)]
        self.seeds = [_seed(space, text) for text in self.initial]
        self.seeded = 0  # seeds asked so far
        self.population_size = _positive_int("population_size", population_size)
        self.sample_size = _positive_int("sample_size", sample_size)
        if sample_size > population_size:
            raise ValueError(f"sample_size ({sample_size}) cannot exceed population_size ({population_size})")
        self.space = space
        self.rng = new_rng(seed)
        self.population: list[list] = []  # [decisions, reward], oldest first
        self.warmup_live = 0  # warm-up samples asked and not failed
        self.ledger = Ledger()

    def ask(self, n: int = 1) -> list[Candidate]:
        out = []
        for _ in range(check_n(n)):
            if self.warmup_live < self.population_size:
                self.warmup_live += 1
                origin = "warmup"
                if self.seeded < len(self.seeds):
                    decisions, self.seeded = self.seeds[self.seeded], self.seeded + 1
                else:
                    decisions = self._random()
            elif not self.population:
                origin, decisions = "random", self._random()
            else:
                origin, decisions = "mutation", self._child()
            out.append(self.ledger.issue(self.space, decisions, origin))
        return out

    def _random(self) -> tuple[int, ...]:
        return self.space.decisions(self.space.sample(self.rng))

    def _child(self) -> tuple[int, ...]:
        size = min(self.sample_size, len(self.population))
        drawn = self.rng.choice(len(self.population), size=size, replace=False)
        parent = max(drawn, key=lambda i: self.population[i][1])  # first drawn wins ties
        spec = self.space.freeze(self.population[parent][0])
        return self.space.decisions(self.space.mutate(spec, self.rng))

    def tell(self, candidate: Candidate, outcome: Outcome) -> None:
        outcome = check_outcome(outcome)
        decisions, origin = self.ledger.take(candidate)
        if isinstance(outcome, Failure):
            if origin == "warmup":
                self.warmup_live -= 1
            return
        self.population.append([list(decisions), float(outcome.reward)])
        if len(self.population) > self.population_size:
            self.population.pop(0)  # aging: the oldest dies, whatever its reward

    def best(self) -> tuple[object, float] | None:
        """The best spec in the current population and its reward (None before any result)."""
        if not self.population:
            return None
        decisions, reward = max(self.population, key=lambda member: member[1])
        return self.space.freeze(decisions), reward

    def _config(self) -> dict:
        config = {"population_size": self.population_size, "sample_size": self.sample_size}
        if self.initial:  # absent when unused, so checkpoints from before the option still load
            config["initial"] = list(self.initial)
        return config

    def state_dict(self) -> dict:
        return seal(self, population=[list(m) for m in self.population], warmup_live=self.warmup_live,
                    seeded=self.seeded, **self.ledger.state())

    def load_state_dict(self, state: dict) -> None:
        state = unseal(self, state)
        self.population = [[list(d), float(r)] for d, r in state["population"]]
        self.warmup_live = int(state["warmup_live"])
        self.seeded = int(state.get("seeded", len(self.seeds)))  # older checkpoints: seeds long used
        self.ledger.load(state)
