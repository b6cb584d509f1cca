"""Optuna samplers behind our ask/tell seam: TPE (Bergstra et al. 2011) for one objective,
NSGA-II (Deb et al. 2002) for Pareto searches such as accuracy vs latency or MACs.

Each of the space's dimensions becomes one categorical Optuna parameter named after it (its
choices as values when they are plain strings or numbers, else their indices). Trials live in an
Optuna storage; with an RDB URL (``sqlite:///path/study.db``) the study survives a restart:
``state_dict`` records the URL, study name, pending trial numbers and our generator, and
``load_state_dict`` reattaches to the study.

Reproducibility: Optuna samplers keep a private random state that a restart would lose, so before
every ``study.ask`` a fresh sampler is made, seeded from our own generator. TPE and NSGA-II keep
everything else in the storage (NSGA-II's generations and parents are trial/study system
attributes), so the same seed and history give the same asks, before or after a resume. The
price: a fresh sampler re-derives the search space from the stored trials at every ask (O(trials),
about 20 ms at 200 NSGA-II trials), negligible next to training a candidate.
Candidate ids are the Optuna trial numbers. Failures are told as ``TrialState.FAIL``.
"""
from __future__ import annotations

from typing import Any, Sequence

import optuna
from optuna.trial import TrialState

from nas.strategies.base import Candidate, Failure, Outcome, Result, Strategy
from nas.strategies.common import check_n, check_outcome, check_state, fingerprint, new_rng, restore_rng, rng_state

SAMPLERS = {"tpe": optuna.samplers.TPESampler, "nsga2": optuna.samplers.NSGAIISampler,
            "random": optuna.samplers.RandomSampler}
DIRECTIONS = ("maximize", "minimize")


def _objectives(objectives: Sequence) -> list[list[str]]:
    out = []
    for item in objectives:
        if isinstance(item, str) or len(item) != 2 or item[1] not in DIRECTIONS:
            raise ValueError(f"each objective must be (metric name, 'maximize'|'minimize'), got {item!r}")
        out.append([str(item[0]), str(item[1])])
    if not out:
        raise ValueError("objectives must name at least one (metric, direction)")
    return out


def _choices(dim) -> list:
    """Optuna categorical choices: the options themselves when readable, else their indices."""
    kinds = {type(c) for c in dim.choices}
    if len(kinds) == 1 and kinds <= {str, int, float} and len(set(dim.choices)) == len(dim.choices):
        return list(dim.choices)
    return list(range(len(dim.choices)))


class OptunaStrategy(Strategy):
    kind = "optuna"

    def __init__(self, space, seed: int = 0, *, sampler: str | None = None,
                 objectives: Sequence = (("reward", "maximize"),), storage: str | None = None,
                 study_name: str | None = None, sampler_options: dict | None = None):
        self.space = space
        self.objectives = _objectives(objectives)
        self.sampler = sampler or ("tpe" if len(self.objectives) == 1 else "nsga2")
        if self.sampler not in SAMPLERS:
            raise ValueError(f"sampler must be one of {', '.join(SAMPLERS)}, got {self.sampler!r}")
        if self.sampler == "tpe" and len(self.objectives) > 1:
            raise ValueError("sampler 'tpe' is used for one objective here; use 'nsga2' for several")
        if storage is not None and not isinstance(storage, str):
            raise TypeError(f"storage must be an RDB URL string (e.g. 'sqlite:///study.db') or None, got {storage!r}")
        self.storage = storage
        self.study_name = study_name or f"cellnas-{self.sampler}-{seed}"
        self.sampler_options = dict(sampler_options or {})
        self.rng = new_rng(seed)
        self.dims = [(d.name, _choices(d)) for d in space.dimensions()]
        self.pending: set[int] = set()
        self._study: optuna.Study | None = None  # created or attached lazily (see load_state_dict)

    def _make_sampler(self) -> optuna.samplers.BaseSampler:
        return SAMPLERS[self.sampler](seed=int(self.rng.integers(2**31 - 1)), **self.sampler_options)

    @property
    def study(self) -> optuna.Study:
        if self._study is None:
            directions = [direction for _, direction in self.objectives]
            try:
                self._study = optuna.create_study(storage=self.storage, study_name=self.study_name,
                                                  directions=directions)
            except optuna.exceptions.DuplicatedStudyError:
                raise ValueError(f"study {self.study_name!r} already exists in {self.storage}; resume it "
                                 "with load_state_dict or choose another study_name") from None
        return self._study

    def ask(self, n: int = 1) -> list[Candidate]:
        out = []
        for _ in range(check_n(n)):
            study = self.study
            study.sampler = self._make_sampler()
            trial = study.ask()
            decisions = tuple(choices.index(trial.suggest_categorical(name, choices))
                              for name, choices in self.dims)
            self.pending.add(trial.number)
            out.append(Candidate(trial.number, self.space.freeze(decisions), decisions))
        return out

    def _values(self, result: Result) -> list[float]:
        values = []
        for name, _ in self.objectives:
            if name == "reward":
                values.append(float(result.reward))
            elif name in result.metrics:
                values.append(float(result.metrics[name]))
            else:
                raise ValueError(f"tell: objective {name!r} is not in the result's metrics "
                                 f"({', '.join(sorted(result.metrics)) or 'none'}) nor 'reward'")
        return values

    def tell(self, candidate: Candidate, outcome: Outcome) -> None:
        outcome = check_outcome(outcome)
        if not isinstance(candidate, Candidate) or candidate.id not in self.pending:
            raise ValueError(f"tell: candidate {getattr(candidate, 'id', candidate)!r} is not pending")
        if isinstance(outcome, Failure):
            self.study.tell(candidate.id, state=TrialState.FAIL)
        else:
            values = self._values(outcome)
            self.study.tell(candidate.id, values[0] if len(values) == 1 else values)
        self.pending.discard(candidate.id)

    def trials(self) -> list[optuna.trial.FrozenTrial]:
        return self.study.get_trials(deepcopy=False)

    def _config(self) -> dict:
        return {"sampler": self.sampler, "objectives": self.objectives,
                "sampler_options": self.sampler_options}

    def state_dict(self) -> dict:
        if self.storage is None:
            raise ValueError("state_dict needs an RDB storage (e.g. storage='sqlite:///study.db'); "
                             "an in-memory Optuna study cannot be resumed")
        self.study  # noqa: B018  (create the study now so a checkpoint taken before any ask resumes)
        return {"strategy": self.kind, "config": self._config(), "space": fingerprint(self.space),
                "rng": rng_state(self.rng), "storage": self.storage, "study_name": self.study_name,
                "pending": sorted(self.pending)}

    def load_state_dict(self, state: dict) -> None:
        check_state(state, self.kind, self._config(), self.space)
        try:
            study = optuna.load_study(study_name=state["study_name"], storage=state["storage"])
        except KeyError:
            raise ValueError(f"study {state['study_name']!r} not found in {state['storage']}") from None
        running = {t.number for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))}
        missing = set(state["pending"]) - running
        if missing:
            raise ValueError(f"pending trials {sorted(missing)} are no longer running in study {state['study_name']!r}")
        self.storage, self.study_name, self._study = state["storage"], state["study_name"], study
        self.rng = restore_rng(state["rng"])
        self.pending = set(int(n) for n in state["pending"])


def tpe(space, seed: int = 0, **options: Any) -> OptunaStrategy:
    return OptunaStrategy(space, seed, sampler="tpe", **options)


def nsga2(space, seed: int = 0, **options: Any) -> OptunaStrategy:
    options.setdefault("objectives", (("reward", "maximize"), ("macs", "minimize")))
    return OptunaStrategy(space, seed, sampler="nsga2", **options)
