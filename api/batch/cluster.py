"""Connect to a Dask cluster: an existing scheduler, or a LocalCluster sized to this machine."""

from __future__ import annotations

import importlib.util
import logging
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from typing import Any

import psutil

from planner.errors import InputDataError, SourceUnavailableError

#: Tasks handed to a worker per thread at once (``distributed.scheduler.worker-saturation``);
#: set for the LocalCluster; give ``dask scheduler`` the same with
#: ``DASK_DISTRIBUTED__SCHEDULER__WORKER_SATURATION=1.0``.
WORKER_SATURATION = 1.0
#: Work stealing (``distributed.scheduler.work-stealing``) off for the LocalCluster: the cut
#: places its reads on chosen workers (``api.batch.pieces``) and stealing moved a queued piece
#: read to the worker reading the other piece (measured: both ran there, one after the other),
#: while the region tasks need no stealing (queued on the scheduler, one per worker at a time).
#: Give ``dask scheduler`` the same with ``DASK_DISTRIBUTED__SCHEDULER__WORK_STEALING=False``.
WORK_STEALING = False
#: Dask's statistical profiler in each worker (``distributed.worker.profile.enabled``) off for
#: the LocalCluster: a thread that walks the running task's stack every 10 ms, holding the GIL
#: while it does. Measured on the 3.2 M-node province with 2 workers (the timing script of
#: docs/scaling.md, load 1.5): the workers' CPU 99.7-107.5 user-s with it against 85.0 without,
#: the whole run 62-68 s against 54.4 s. The dashboard's task stream and progress stay; only its
#: "Profile" page is empty. Give ``dask worker`` the same with
#: ``DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED=False``.
WORKER_PROFILE = False
#: Environment variables the LocalCluster's nannies do NOT set for their workers. Dask sets
#: ``MALLOC_TRIM_THRESHOLD_=65536`` (``distributed.nanny.pre-spawn-environ``) so that freed
#: memory goes back to the system at once; a fixed threshold also turns off glibc's dynamic
#: mmap threshold, so every large numpy temporary is mapped and faulted in afresh. Measured on
#: the 3.2 M-node province, one worker, the same tasks: a region task 4.8-5.5 s with it against
#: 3.5-5.0 s without (peak memory about 12 % higher: 670-715 against 750-820 MB), a piece of
#: the OSM file 5.2-5.9 s against 4.0-4.7 s. The starting process never had it.
DROP_WORKER_ENV = ("MALLOC_TRIM_THRESHOLD_",)


def local_size(workers: int | None) -> tuple[int, int]:
    """Workers (default: the CPU count) and memory limit per worker in bytes (RAM / workers)."""
    n = workers or os.cpu_count() or 1
    if n < 1:
        msg = f"--workers {workers} is below 1; give 1 or more"
        raise InputDataError(msg)
    return n, int(psutil.virtual_memory().total // n)


@contextmanager
def open_client(scheduler: str | None, workers: int | None,
                say: Callable[[str], None]) -> Iterator[tuple[Any, dict[str, Any]]]:
    """Yield ``(client, info)``; the LocalCluster (if one was started) is closed afterwards.

    Raises
    ------
    SourceUnavailableError
        The scheduler at ``scheduler`` cannot be reached.
    """
    import dask
    import distributed

    dist: Any = distributed  # distributed is only partly typed

    for name in ("distributed", "bokeh", "tornado"):  # their INFO lines drown the progress bar
        logging.getLogger(name).setLevel(logging.WARNING)
    cluster = None
    if scheduler:
        try:
            client = dist.Client(scheduler, timeout="10s")
        except OSError as exc:
            msg = (f"cannot reach the Dask scheduler {scheduler} ({exc}); start it with "
                   "`dask scheduler` or leave out --scheduler for a local cluster")
            raise SourceUnavailableError(msg) from exc
    else:
        n, limit = local_size(workers)
        dashboard = ":0" if importlib.util.find_spec("bokeh") else None
        # one task per worker at a time: a worker gets the next task only when it is free, so
        # tasks run largest first and none waits behind another on a busy worker while one
        # idles (the default 1.1 hands each 1-thread worker two at once)
        environ = {k: v for k, v in dask.config.get("distributed.nanny.pre-spawn-environ").items()
                   if k not in DROP_WORKER_ENV}
        with dask.config.set({"distributed.scheduler.worker-saturation": WORKER_SATURATION,
                              "distributed.scheduler.work-stealing": WORK_STEALING,
                              "distributed.worker.profile.enabled": WORKER_PROFILE,
                              "distributed.nanny.pre-spawn-environ": environ}):
            cluster = dist.LocalCluster(n_workers=n, threads_per_worker=1, memory_limit=limit,
                                        processes=True, dashboard_address=dashboard)
        client = dist.Client(cluster)
    try:
        wk = client.scheduler_info(n_workers=-1)["workers"]
        mem = sorted({w.get("memory_limit", 0) for w in wk.values()})
        info = {"scheduler": scheduler or "LocalCluster", "workers": len(wk),
                "memory_limit_gib": [round(m / 2**30, 2) for m in mem],
                "dashboard": client.dashboard_link}
        say(f"dask: {info['scheduler']}: {len(wk)} workers x "
            f"{'/'.join(f'{m:.1f}' for m in info['memory_limit_gib'])} GiB memory limit; "
            f"dashboard {info['dashboard']}")
        yield client, info
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


class Cluster:
    """The run's Dask client, connected (or started) on first use and closed with the run."""

    def __init__(self, scheduler: str | None, workers: int | None, say: Callable[[str], None],
                 stack: ExitStack) -> None:
        self._scheduler, self._workers, self._say, self._stack = scheduler, workers, say, stack
        self.client: Any = None
        self.info: dict[str, Any] = {"cluster": "none (nothing to run)"}

    def get(self) -> Any:
        """The client (connecting on the first call)."""
        if self.client is None:
            self.client, self.info = self._stack.enter_context(
                open_client(self._scheduler, self._workers, self._say))
        return self.client

    def workers(self) -> int:
        """The number of workers (connecting on the first call)."""
        return len(self.get().scheduler_info(n_workers=-1)["workers"])


def results_or_local(futures: list[Any], local: Sequence[Callable[[], Any]]) -> list[Any]:
    """Each task's result; a task lost with its worker (or cancelled) is run here instead.

    Tasks on scattered data cannot be recomputed by Dask when a worker dies, so a killed worker
    costs the time of running its tasks in this process, never the run. Errors of the task
    itself (bad data) are raised as they are.
    """
    out = []
    for future, run_here in zip(futures, local, strict=True):
        try:
            out.append(future.result())
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # noqa: BLE001 - cancellation is a BaseException
            if not lost(exc):
                raise
            out.append(run_here())
    return out


def lost(exc: BaseException) -> bool:
    """True for the errors of a lost worker or task (not of the task's own work)."""
    import distributed

    names = ("KilledWorker", "CancelledError", "FutureCancelledError", "CommClosedError")
    return type(exc).__name__ in names or isinstance(exc, distributed.KilledWorker)
