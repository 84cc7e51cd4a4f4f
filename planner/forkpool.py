"""Independent jobs in forked worker processes that share the parent's arrays copy-on-write.

Only the jobs and the results are pickled; the (large) shared state is inherited by the fork.
Where the platform cannot fork, or one worker is asked for, the jobs run in this process.
"""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

J = TypeVar("J")
R = TypeVar("R")

_STATE: dict[str, Any] = {}


def fork_map(func: Callable[[Mapping[str, Any], J], R], jobs: list[J], workers: int,
             state: Mapping[str, Any]) -> list[R]:
    """``[func(state, job) for job in jobs]``, in up to ``workers`` forked processes.

    ``func`` must be a module-level function; results come back in job order.
    """
    if workers <= 1 or len(jobs) <= 1 or "fork" not in mp.get_all_start_methods():
        return [func(state, job) for job in jobs]
    _STATE.clear()
    _STATE.update(state)
    _STATE["__func__"] = func
    try:
        with mp.get_context("fork").Pool(min(workers, len(jobs))) as pool:
            return pool.map(_run, jobs)
    finally:
        _STATE.clear()


def _run(job: Any) -> Any:
    return _STATE["__func__"](_STATE, job)
