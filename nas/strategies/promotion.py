"""The upper rungs of an evaluation ladder: a fixed list of promoted architectures, proposed once
each, best first (successive halving's promotion, Jamieson & Talwalkar 2016; Li et al. 2018).

The list is the previous rung's best ``keep`` fraction, read from the run store, so it is the same
list after a resume; candidate ids start at ``id_base`` so they never collide with the rung below.
"""
from __future__ import annotations

from typing import Any, Sequence

from nas.strategies.base import Candidate, Outcome, Strategy
from nas.strategies.common import Ledger, check_n, check_outcome, new_rng, seal, unseal


class Promotion(Strategy):
    kind = "promotion"

    def __init__(self, space: Any, seed: int = 0, *, specs: Sequence[Any] = (), id_base: int = 0):
        if isinstance(id_base, bool) or not isinstance(id_base, int) or id_base < 0:
            raise ValueError(f"id_base must be an int >= 0, got {id_base!r}")
        self.space, self.id_base = space, id_base
        self.decisions = [tuple(space.decisions(spec)) for spec in specs]
        self.rng = new_rng(seed)  # unused: promotion is deterministic, kept for the one envelope
        self.position = 0
        self.ledger = Ledger()
        self.ledger.next_id = id_base

    def ask(self, n: int = 1) -> list[Candidate]:
        out = []
        for _ in range(min(check_n(n), len(self.decisions) - self.position)):
            out.append(self.ledger.issue(self.space, self.decisions[self.position]))
            self.position += 1
        return out

    def tell(self, candidate: Candidate, outcome: Outcome) -> None:
        check_outcome(outcome)
        self.ledger.take(candidate)

    def _config(self) -> dict:
        return {"id_base": self.id_base, "promoted": [list(d) for d in self.decisions]}

    def state_dict(self) -> dict:
        return seal(self, position=self.position, **self.ledger.state())

    def load_state_dict(self, state: dict) -> None:
        state = unseal(self, state)
        self.position = int(state["position"])
        self.ledger.load(state)
