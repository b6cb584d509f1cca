"""Grid search: every spec of a small space, once, in a deterministic order (used for the
compound-scaling search of EfficientNet, Tan & Le 2019, which grid-searches alpha, beta, gamma).

The order is lexicographic over the decision indices (last dimension fastest), or a seeded
permutation of it with ``shuffle=True``. Spaces above ``max_size`` are refused up front: a grid
that cannot finish is a configuration error. Once the grid is exhausted ``ask`` returns fewer
candidates (an empty list at the end).
"""
from __future__ import annotations

from nas.strategies.base import Candidate, Outcome, Strategy
from nas.strategies.common import Ledger, check_n, check_outcome, new_rng, seal, space_size, unflatten, unseal


class GridSearch(Strategy):
    kind = "grid"

    def __init__(self, space, seed: int = 0, *, max_size: int = 10_000, shuffle: bool = False):
        if isinstance(max_size, bool) or not isinstance(max_size, int) or max_size < 1:
            raise ValueError(f"max_size must be an int >= 1, got {max_size!r}")
        self.space, self.max_size, self.shuffle = space, max_size, bool(shuffle)
        self.size = space_size(space)
        if self.size > max_size:
            raise ValueError(f"grid over {getattr(space, 'name', space)!r} has {self.size} points, above "
                             f"max_size={max_size}; use random search or raise max_size")
        self.rng = new_rng(seed)
        self.order = [int(i) for i in self.rng.permutation(self.size)] if self.shuffle else None
        self.position = 0
        self.ledger = Ledger()

    @property
    def exhausted(self) -> bool:
        return self.position >= self.size

    def ask(self, n: int = 1) -> list[Candidate]:
        out = []
        for _ in range(min(check_n(n), self.size - self.position)):
            flat = self.order[self.position] if self.order is not None else self.position
            out.append(self.ledger.issue(self.space, unflatten(self.space, flat)))
            self.position += 1
        return out

    def tell(self, candidate: Candidate, outcome: Outcome) -> None:
        # The grid's order never depends on results; a failed point stays failed (no retry).
        check_outcome(outcome)
        self.ledger.take(candidate)

    def _config(self) -> dict:
        return {"max_size": self.max_size, "shuffle": self.shuffle}

    def state_dict(self) -> dict:
        return seal(self, order=self.order, position=self.position, **self.ledger.state())

    def load_state_dict(self, state: dict) -> None:
        state = unseal(self, state)
        self.order = None if state["order"] is None else [int(i) for i in state["order"]]
        self.position = int(state["position"])
        self.ledger.load(state)
