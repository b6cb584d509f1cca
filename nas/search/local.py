"""The ``local`` backend: trials run in this process, one at a time, with no Ray at all.

For debugging an evaluator or a strategy (breakpoints work, tracebacks are plain). Ray removed
its own local mode; this takes its place with the same driver bookkeeping as the Ray backend, so
the same config and seed propose the same specs in the same order.
"""
from __future__ import annotations

from typing import Any, Mapping

from nas.search.driver import Driver, trial_seed
from nas.search.trainable import TrialJob


def run_local(driver: Driver, job: TrialJob, seed: int) -> None:
    while True:
        cand = driver.next_candidate()
        if cand is None:
            return

        def report(epoch: int, metrics: Mapping[str, Any], cid: int = cand.id) -> None:
            driver.record_epoch(cid, epoch, metrics)

        outcome = job.run(driver.space.to_str(cand.spec), trial_seed(seed, cand.id), report)
        driver.complete(cand.id, outcome)
