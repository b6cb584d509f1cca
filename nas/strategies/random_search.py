"""Random search with de-duplication: the baseline every NAS paper compares against (Li & Talwalkar
2019, "Random Search and Reproducibility for NAS"; Yang et al. 2020, "NAS evaluation is
frustratingly hard").

Never asks a spec twice while the space still has unasked specs. A uniform draw is retried up to
``max_retries`` times; when every retry collides the space is nearly used up, so (for spaces of
up to ``ENUMERATE_LIMIT`` specs) the unasked specs are listed once, shuffled, and dealt in that
order from then on: still uniform among the unasked, and O(1) per ask. Once everything has been
asked (or a huge space keeps colliding) duplicates are allowed, so ``ask`` never stalls.
"""
from __future__ import annotations

from nas.strategies.base import Candidate, Outcome, Strategy
from nas.strategies.common import (Ledger, check_n, check_outcome, flatten, new_rng, seal, space_size,
                                   unflatten, unseal)

ENUMERATE_LIMIT = 100_000


class RandomSearch(Strategy):
    kind = "random"

    def __init__(self, space, seed: int = 0, *, max_retries: int = 100):
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 1:
            raise ValueError(f"max_retries must be an int >= 1, got {max_retries!r}")
        self.space, self.max_retries = space, max_retries
        self.rng = new_rng(seed)
        self.size = space_size(space)
        self.seen: set[tuple[int, ...]] = set()
        self.deck: list[int] | None = None  # shuffled flat indices of the unasked, once collisions start
        self.ledger = Ledger()

    def ask(self, n: int = 1) -> list[Candidate]:
        out = []
        for _ in range(check_n(n)):
            decisions = self._draw()
            self.seen.add(decisions)
            out.append(self.ledger.issue(self.space, decisions))
        return out

    def _draw(self) -> tuple[int, ...]:
        if self.deck:
            return unflatten(self.space, self.deck.pop())
        if self.deck is None:
            for _ in range(self.max_retries):
                decisions = tuple(self.space.decisions(self.space.sample(self.rng)))
                if decisions not in self.seen:
                    return decisions
            if self.size <= ENUMERATE_LIMIT:
                seen = {flatten(self.space, d) for d in self.seen}
                self.deck = [int(i) for i in self.rng.permutation(self.size) if int(i) not in seen]
                if self.deck:
                    return unflatten(self.space, self.deck.pop())
            else:
                return decisions
        # Everything has been asked: plain uniform draws, duplicates allowed.
        return tuple(self.space.decisions(self.space.sample(self.rng)))

    def tell(self, candidate: Candidate, outcome: Outcome) -> None:
        # Random search learns nothing from outcomes; failures need no special care.
        check_outcome(outcome)
        self.ledger.take(candidate)

    def _config(self) -> dict:
        return {"max_retries": self.max_retries}

    def state_dict(self) -> dict:
        return seal(self, seen=sorted(list(d) for d in self.seen), deck=self.deck, **self.ledger.state())

    def load_state_dict(self, state: dict) -> None:
        state = unseal(self, state)
        self.seen = {tuple(d) for d in state["seen"]}
        self.deck = None if state["deck"] is None else [int(i) for i in state["deck"]]
        self.ledger.load(state)
