"""Independent jobs in forked worker processes that share the parent's arrays copy-on-write.

Only the jobs and the results are pickled; the (large) shared state is inherited by the fork.
Where the platform cannot fork, or one worker is asked for, the jobs run in this process.
"""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Callable, Mapping
from multiprocessing.connection import Connection
from typing import Any, Generic, TypeVar

J = TypeVar("J")
R = TypeVar("R")

_STATE: dict[str, Any] = {}


def can_fork() -> bool:
    """Whether this platform can fork worker processes."""
    return "fork" in mp.get_all_start_methods()


def fork_map(func: Callable[[Mapping[str, Any], J], R], jobs: list[J], workers: int,
             state: Mapping[str, Any]) -> list[R]:
    """``[func(state, job) for job in jobs]``, in up to ``workers`` forked processes.

    Jobs are handed out as workers become free (uneven jobs balance). ``func`` must be a
    module-level function; results come back in job order.
    """
    if workers <= 1 or len(jobs) <= 1 or not can_fork():
        return [func(state, job) for job in jobs]
    _STATE.clear()
    _STATE.update(state)
    _STATE["__func__"] = func
    try:
        with mp.get_context("fork").Pool(min(workers, len(jobs))) as pool:
            return pool.map(_run, jobs, chunksize=1)
    finally:
        _STATE.clear()


def fork_split(func: Callable[[Mapping[str, Any], J], R], parts: list[J],
               state: Mapping[str, Any]) -> list[R]:
    """``[func(state, part) for part in parts]`` with one forked child per part but the first,
    which this process works on meanwhile: cheaper than a pool for a few balanced parts.

    An exception in a child is raised here; results come back in part order.
    """
    if len(parts) <= 1 or not can_fork():
        return [func(state, part) for part in parts]
    ctx = mp.get_context("fork")
    children = []
    try:
        for part in parts[1:]:
            receive, send = ctx.Pipe(duplex=False)
            child = ctx.Process(target=_child, args=(send, func, state, part), daemon=True)
            child.start()
            send.close()
            children.append((child, receive))
        results = [func(state, parts[0])]
        for _, receive in children:
            ok, value = receive.recv()
            if not ok:
                raise value
            results.append(value)
        return results
    finally:
        for child, receive in children:
            receive.close()
            child.join(timeout=5)
            if child.is_alive():
                child.terminate()


class Started(Generic[R]):
    """A job running in a forked child (or, where the platform cannot fork or this process is
    a daemon, deferred to :meth:`result`); :meth:`result` waits for it, :meth:`cancel` ends it
    unread."""

    def __init__(self, func: Callable[[Mapping[str, Any], J], R], job: J,
                 state: Mapping[str, Any]) -> None:
        self._call = (func, job, state)
        self._child: Any = None
        self._receive: Connection | None = None
        if can_fork() and not mp.current_process().daemon:  # a daemon may not have children
            ctx = mp.get_context("fork")
            self._receive, send = ctx.Pipe(duplex=False)
            self._child = ctx.Process(target=_child, args=(send, func, state, job), daemon=True)
            self._child.start()
            send.close()

    def result(self) -> R:
        """The job's result (its exception raised here)."""
        if self._receive is None:
            func, job, state = self._call
            return func(state, job)
        try:
            ok, value = self._receive.recv()
        finally:
            self._end(wait_s=5.0)
        if not ok:
            raise value
        out: R = value
        return out

    def cancel(self) -> None:
        """End the child now (a no-op once its result was read)."""
        self._end(wait_s=0.0)

    def _end(self, wait_s: float) -> None:
        if self._receive is not None:
            self._receive.close()
            self._receive = None
        if self._child is not None:
            self._child.join(timeout=wait_s)
            if self._child.is_alive():
                self._child.terminate()
                self._child.join(timeout=5)
            self._child = None


def _child(send: Connection, func: Callable[[Mapping[str, Any], Any], Any],
           state: Mapping[str, Any], part: Any) -> None:
    try:
        send.send((True, func(state, part)))
    except BaseException as exc:  # noqa: BLE001 - handed to the parent, which raises it
        send.send((False, exc))
    finally:
        send.close()


def _run(job: Any) -> Any:
    return _STATE["__func__"](_STATE, job)
