"""Starting and stopping a job's child process (server side; the child is ``api.service.worker``).

Children come from a ``forkserver`` that preloads ``api.service.worker``: the server itself never
forks (it has threads, open database connections and the data-dir lock). Each child leads its own
process group, so stopping a job (SIGTERM, then SIGKILL after a grace period) also stops the
workers it forked; and each holds the read end of a "lifeline" pipe whose write end only the
server has, so the children die with a server killed by SIGKILL.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing as mp
import os
import signal
import threading
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from multiprocessing.context import BaseContext
from typing import Any

from api.service.worker import PRELOAD, JobSpec, child_main

logger = logging.getLogger(__name__)

#: Seconds a dismissed job's child gets after SIGTERM before SIGKILL.
GRACE_S = 2.0
_context: list[BaseContext] = []
_context_lock = threading.Lock()


def job_context() -> BaseContext:
    """The multiprocessing context of job children: ``forkserver`` preloading
    :data:`api.service.worker.PRELOAD` (``spawn`` where the platform has no forkserver)."""
    with _context_lock:
        if not _context:
            if "forkserver" in mp.get_all_start_methods():
                server = mp.get_context("forkserver")
                server.set_forkserver_preload(list(PRELOAD))
                _context.append(server)
            else:  # pragma: no cover - Windows
                _context.append(mp.get_context("spawn"))
        return _context[0]


def warm_up() -> None:
    """Start the forkserver (and its imports, a few seconds) in the background, so the first
    job does not wait for it."""
    def start() -> None:
        try:
            if job_context().get_start_method() == "forkserver":
                from multiprocessing import forkserver

                forkserver.ensure_running()
        except Exception:  # the first job starts it then, or reports why it cannot
            logger.exception("could not start the job forkserver")
    threading.Thread(target=start, name="careplan-forkserver", daemon=True).start()


def _signal_group(pid: int, sig: signal.Signals) -> None:
    """Send ``sig`` to the child's process group (to the child alone before it has made one)."""
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):  # no group of that id (yet)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


@dataclass(slots=True)
class Child:
    """A running job child: its process, the pipe it reports on and the server's lifeline end."""

    process: Any
    channel: Connection
    lifeline: Connection
    closed: bool = field(default=False)

    @property
    def pid(self) -> int:
        """The child's process id (and process group id)."""
        return int(self.process.pid)

    def receive(self, timeout_s: float) -> tuple[Any, ...] | None:
        """The child's next message within ``timeout_s``; ``("gone",)`` once it has ended
        without a last word; ``None`` when nothing came."""
        ready = wait([self.channel, self.process.sentinel], timeout_s)
        if self.channel in ready:
            try:
                return tuple(self.channel.recv())
            except (EOFError, OSError):
                return ("gone",)
        if ready:  # ended: a last message may still be in the pipe
            if self.channel.poll(0):
                try:
                    return tuple(self.channel.recv())
                except (EOFError, OSError):
                    return ("gone",)
            return ("gone",)
        return None

    def stop(self, grace_s: float = GRACE_S) -> float:
        """SIGTERM to the child's group, SIGKILL after ``grace_s``; wait until it is gone.
        Returns the seconds it took (0 when it had been stopped before: its process id may
        belong to another process by then)."""
        if self.closed:
            return 0.0
        started = time.monotonic()
        if self.process.is_alive():
            _signal_group(self.pid, signal.SIGTERM)
            self.process.join(grace_s)
        _signal_group(self.pid, signal.SIGKILL)  # also whatever it forked and left behind
        self.process.join(10)
        self.close()
        return time.monotonic() - started

    def close(self) -> None:
        """Close both pipe ends (the child's lifeline then ends: it kills its group)."""
        if not self.closed:
            self.closed = True
            self.channel.close()
            self.lifeline.close()


def start_child(spec: JobSpec, folder: str, scratch: str) -> Child:
    """Start a job's child writing its result to ``folder`` (temporary files in ``scratch``)."""
    ctx = job_context()
    receive, send = ctx.Pipe(duplex=False)
    life_read, life_write = ctx.Pipe(duplex=False)
    process = ctx.Process(target=child_main, args=(spec, send, life_read, folder, scratch),  # type: ignore[attr-defined]
                          name=f"careplan-job-{spec.job_id[:8]}", daemon=False)
    process.start()
    send.close()
    life_read.close()
    return Child(process, receive, life_write)
