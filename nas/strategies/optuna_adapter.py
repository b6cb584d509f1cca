"""Optuna samplers behind our ask/tell seam: TPE (Bergstra et al. 2011) for one objective,
NSGA-II (Deb et al. 2002) for Pareto searches such as accuracy vs latency or MACs.

Each of the space's dimensions becomes one categorical Optuna parameter named after it (its
choices as values when they are plain strings or numbers, else their indices). Trials live in an
Optuna storage; with an RDB URL (``sqlite:///path/study.db``) the study survives a restart:
``state_dict`` records the URL, study name, our count of asks, the pending candidates with their
trial numbers and our generator, and ``load_state_dict`` reattaches to the study.

Reproducibility: Optuna samplers keep a private random state that a restart would lose, so before
every ``study.ask`` a fresh sampler is made, seeded from our own generator. TPE and NSGA-II keep
everything else in the storage (NSGA-II's generations and parents are trial/study system
attributes), so the same seed and history give the same asks, before or after a resume. The
price: a fresh sampler re-derives the search space from the stored trials at every ask (O(trials),
about 20 ms at 200 NSGA-II trials), negligible next to training a candidate.
Candidate ids are our own count of asks (the checkpoint keeps it and each pending candidate's
trial number; each trial carries its id as user attribute ``candidate_id``). They equal the Optuna
trial numbers until a crash leaves an orphan trial (below); from there the trial numbers run one
ahead per orphan, the candidate ids (which seed each candidate's training) do not. Failures are
told as ``TrialState.FAIL``. Only Optuna's public API is used (tests/test_strategies_optuna_resume.py
walks this module's syntax tree to keep it so).

Crash windows. Optuna's storage is written by ``study.ask``/``study.tell`` before the caller can
checkpoint ``state_dict`` (the search driver commits it with its own trial record), so a process
killed in between leaves a checkpoint one step behind the study. ``load_state_dict`` reconciles:

* killed after a tell: the checkpoint still lists the trial as pending but the study has it
  COMPLETE/FAIL. It stays pending here (the driver re-runs it as "was running" and tells again);
  that second tell leaves the study as it is (a finished Optuna trial cannot change) and warns if
  its outcome differs from the recorded one. The tell does not draw from our generator, so the
  following asks are exactly those of an uninterrupted run.
* killed after an ask: the study has a RUNNING trial the checkpoint never saw (an orphan). Its
  stored parameters are queued with ``study.enqueue_trial`` (user attribute ``replaces_trial``:
  the orphan's number), the orphan is told ``FAIL`` and its number added to the study's user
  attribute ``orphaned_trials``. The next ask draws the same sampler seed the lost ask drew and
  takes the queued trial (then runs the sampler's relative sampling on it, which Optuna skips for
  a trial whose parameters are all fixed but where NSGA-II assigns the trial its generation), so
  it returns the lost ask's decisions under the same candidate id, and the later asks are those of
  an uninterrupted run: TPE, NSGA-II and random sampling read only COMPLETE (and PRUNED) trials,
  and NSGA-II counts generations over COMPLETE trials only. Queuing, rather than asking afresh,
  matters for NSGA-II: when the lost ask opened a generation it cached the parents, and a fresh
  ask would read them back in trial order instead of the elite order the uninterrupted run sampled
  from (``study.ask(fixed_distributions=...)`` is no help here: it suggests the given parameters,
  sampling them anew). The study keeps the orphan as a FAIL trial, so from it on the trial numbers
  are one ahead of the candidate ids. A kill inside ``ask`` itself, before every dimension was
  suggested, queues only what was stored; the rest is sampled anew.
Reconciling is idempotent (a kill during ``load_state_dict`` is reconciled by the next one). This
assumes the adapter is the only process asking in its study (the study name is per run).
"""
from __future__ import annotations

import warnings
from typing import Any, Sequence

import optuna
from optuna.trial import TrialState

from nas.strategies.base import Candidate, Failure, Outcome, Result, Strategy
from nas.strategies.common import check_n, check_outcome, new_rng, seal, unseal

SAMPLERS = {"tpe": optuna.samplers.TPESampler, "nsga2": optuna.samplers.NSGAIISampler,
            "random": optuna.samplers.RandomSampler}
DIRECTIONS = ("maximize", "minimize")
ID_ATTR, REPLACES_ATTR, ORPHANS_ATTR = "candidate_id", "replaces_trial", "orphaned_trials"


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


def _requeue_orphans(study: optuna.Study, trials: list, pending_trials: set[int]) -> None:
    """Queue each orphan's parameters for the next ask, then fail it (see the module docstring).
    Each step is idempotent, so a kill in here is mended by the next load."""
    orphans = [t for t in trials if t.state == TrialState.RUNNING and t.number not in pending_trials]
    if not orphans:
        return
    listed = study.user_attrs.get(ORPHANS_ATTR, [])
    study.set_user_attr(ORPHANS_ATTR, sorted(set(listed) | {t.number for t in orphans}))
    queued = {t.user_attrs.get(REPLACES_ATTR) for t in trials if t.state == TrialState.WAITING}
    for orphan in orphans:
        if orphan.number not in queued:
            study.enqueue_trial(dict(orphan.params), user_attrs={REPLACES_ATTR: orphan.number})
        study.tell(orphan.number, state=TrialState.FAIL)


def _sample_relative(study: optuna.Study, number: int) -> None:
    """Run the sampler's relative sampling on a queued trial and drop its result (the queued values
    win). Optuna skips it for a trial whose parameters are all fixed, but NSGA-II assigns a trial
    its generation there; without it the trial would count in no generation and later asks differ."""
    frozen = next(t for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
                  if t.number == number)
    study.sampler.sample_relative(study, frozen, study.sampler.infer_relative_search_space(study, frozen))


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
        self.next_id = 0
        self.pending: dict[int, int] = {}  # candidate id -> Optuna trial number
        self._finished: dict[int, optuna.trial.FrozenTrial] = {}  # by trial number: pending here, told there
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
            trial = study.ask()  # takes a trial queued for an orphan first
            if REPLACES_ATTR in trial.user_attrs:
                _sample_relative(study, trial.number)
            decisions = tuple(choices.index(trial.suggest_categorical(name, choices))
                              for name, choices in self.dims)
            trial.set_user_attr(ID_ATTR, self.next_id)
            self.pending[self.next_id] = trial.number
            out.append(Candidate(self.next_id, self.space.freeze(decisions), decisions))
            self.next_id += 1
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
        values = None if isinstance(outcome, Failure) else self._values(outcome)
        number = self.pending[candidate.id]
        if number in self._finished:
            self._check_retold(self._finished.pop(number), values)
        elif values is None:
            self.study.tell(number, state=TrialState.FAIL)
        else:
            self.study.tell(number, values[0] if len(values) == 1 else values)
        del self.pending[candidate.id]

    @staticmethod
    def _check_retold(trial: optuna.trial.FrozenTrial, values: list[float] | None) -> None:
        """A re-run's tell of a trial the study finished before a crash: the study keeps its record."""
        recorded = None if trial.state == TrialState.FAIL else list(trial.values)
        if recorded != values:
            warnings.warn(f"trial {trial.number} was finished in the Optuna study before the restart "
                          f"with {trial.state.name} {recorded}; the re-run's values {values} are not "
                          "recorded there", RuntimeWarning, stacklevel=3)

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
        ids = sorted(self.pending)
        return seal(self, storage=self.storage, study_name=self.study_name, next_id=self.next_id,
                    pending=ids, trial_numbers=[self.pending[i] for i in ids])

    def load_state_dict(self, state: dict) -> None:
        state = unseal(self, state)
        try:
            study = optuna.load_study(study_name=state["study_name"], storage=state["storage"])
        except KeyError:
            raise ValueError(f"study {state['study_name']!r} not found in {state['storage']}") from None
        ids = [int(i) for i in state["pending"]]
        # Checkpoints from before candidate ids had their own count: ids were trial numbers.
        numbers = [int(n) for n in state.get("trial_numbers", ids)]
        if len(numbers) != len(ids):
            raise ValueError(f"state_dict lists {len(ids)} pending candidates but {len(numbers)} trial numbers")
        trials = study.get_trials(deepcopy=False)
        running = {t.number for t in trials if t.state == TrialState.RUNNING}
        finished = {t.number: t for t in trials if t.number in numbers
                    and t.state in (TrialState.COMPLETE, TrialState.FAIL)}
        missing = set(numbers) - running - set(finished)
        if missing:
            raise ValueError(f"pending trials {sorted(missing)} are neither running nor finished in "
                             f"study {state['study_name']!r}")
        self.storage, self.study_name, self._study = state["storage"], state["study_name"], study
        self.pending, self._finished = dict(zip(ids, numbers)), finished
        old_count = sum(t.state != TrialState.RUNNING or t.number in numbers for t in trials)
        self.next_id = int(state.get("next_id", old_count))
        _requeue_orphans(study, trials, set(numbers))


def tpe(space, seed: int = 0, **options: Any) -> OptunaStrategy:
    return OptunaStrategy(space, seed, sampler="tpe", **options)


def nsga2(space, seed: int = 0, **options: Any) -> OptunaStrategy:
    options.setdefault("objectives", (("reward", "maximize"), ("macs", "minimize")))
    return OptunaStrategy(space, seed, sampler="nsga2", **options)
