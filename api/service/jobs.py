"""Job runner: a bounded pool of threads, each running one job in a child process
(``api.service.children``), its progress, cancellation (``DELETE /jobs/{id}`` → ``dismissed``:
the child's process group is stopped within seconds and its files removed), atomic completion
and the pruning of older results."""

from __future__ import annotations

import functools
import logging
import re
import shutil
import tempfile
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from api.service.children import Child, start_child
from api.service.db import ACTIVE_STATES, Database, jobs, now_iso, results, uploads
from api.service.errors import ProblemError, job_error_message
from api.service.execution import PlanCache
from api.service.store import Store
from api.service.worker import JobSpec

logger = logging.getLogger(__name__)

DISMISSED = "dismissed"
#: Seconds between looks at a running job's child (and at its dismissal).
POLL_S = 0.1


def new_id() -> str:
    """A fresh random identifier (32 hex digits)."""
    return uuid.uuid4().hex


class _Handle:
    """A submitted job: whether it was dismissed, and its child once started."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.child: Child | None = None


class JobRunner:
    """Runs jobs, each in a child process, on ``workers`` threads; refuses more than
    ``max_queued`` waiting or running."""

    def __init__(self, db: Database, store: Store, plans: PlanCache, *, workers: int,
                 max_queued: int, keep_results: int = 1) -> None:
        self.db, self.store, self.plans = db, store, plans
        self.max_queued = max_queued
        self.keep_results = keep_results
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="careplan-job")
        self._active = 0
        self._lock = threading.Lock()
        self._handles: dict[str, _Handle] = {}

    @property
    def active(self) -> int:
        """Jobs queued or running in this process."""
        with self._lock:
            return self._active

    def reserve(self) -> None:
        """Take a queue slot, or raise a 429 problem when the queue is full."""
        with self._lock:
            if self._active >= self.max_queued:
                raise ProblemError(429, f"{self._active} jobs are queued or running (limit "
                                      f"{self.max_queued}); retry later or raise "
                                      "CAREPLAN_MAX_QUEUED_JOBS", headers={"Retry-After": "10"})
            self._active += 1

    def release(self) -> None:
        """Give back a queue slot."""
        with self._lock:
            self._active = max(0, self._active - 1)

    def submit(self, spec: JobSpec) -> None:
        """Run an accepted job whose slot was reserved."""
        with self._lock:
            self._handles[spec.job_id] = _Handle()
        try:
            self._pool.submit(self._run, spec)
        except RuntimeError:
            with self._lock:
                self._handles.pop(spec.job_id, None)
            self.release()
            raise

    def worker_pid(self, job_id: str) -> int | None:
        """The process id of a running job's child, or ``None``."""
        with self._lock:
            handle = self._handles.get(job_id)
            return handle.child.pid if handle is not None and handle.child is not None else None

    def dismiss(self, job_id: str) -> bool:
        """Dismiss a queued or running job: status ``dismissed`` now; its thread stops the child
        (SIGTERM, SIGKILL after a grace period) and removes its files. False when the job is
        not active."""
        with self.db.begin() as conn:
            done = conn.execute(jobs.update().where(
                jobs.c.id == job_id, jobs.c.status.in_(ACTIVE_STATES)).values(
                status=DISMISSED, message="dismissed by request", finished_at=now_iso()))
        with self._lock:
            handle = self._handles.get(job_id)
            if handle is not None:
                handle.stop.set()
        return bool(done.rowcount)

    def shutdown(self) -> None:
        """Stop taking jobs and stop the running children; queued and running jobs keep their
        status and are failed as interrupted at the next start."""
        with self._lock:
            for handle in self._handles.values():
                handle.stop.set()
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _run(self, spec: JobSpec) -> None:
        with self._lock:
            handle = self._handles.get(spec.job_id) or _Handle()
        result_id = new_id()
        folder = self.store.temp_result(result_id)
        scratch = self.store.temp_result(result_id, ".work")
        try:
            if not handle.stop.is_set():
                self._supervise(spec, handle, result_id)
        except Exception as exc:  # a job must end failed, never stay running
            logger.exception("job %s failed", spec.job_id)
            self._fail(spec.job_id, job_error_message(exc))
        finally:
            if handle.child is not None:
                handle.child.stop()
            shutil.rmtree(folder, ignore_errors=True)
            shutil.rmtree(scratch, ignore_errors=True)
            with self._lock:
                self._handles.pop(spec.job_id, None)
            self.release()

    def _supervise(self, spec: JobSpec, handle: _Handle, result_id: str) -> None:
        """Start the child, pass its progress to the job row, stop it when dismissed, store its
        result when it succeeds."""
        child = start_child(spec, str(self.store.temp_result(result_id)),
                            str(self.store.temp_result(result_id, ".work")))
        with self._lock:
            handle.child = child
        self.db.update_job(spec.job_id, "accepted", status="running", started_at=now_iso(),
                           progress=1, message="started", worker_pid=child.pid)
        while True:
            if handle.stop.is_set():
                took = child.stop()
                logger.info("job %s dismissed: worker %d gone after %.2f s; partial files "
                            "removed", spec.job_id, child.pid, took)
                return
            message = child.receive(POLL_S)
            if message is None:
                continue
            if message[0] == "progress":
                self.db.update_job(spec.job_id, progress=int(message[1]),
                                   message=str(message[2]))
            elif message[0] == "done":
                child.stop()
                self._complete(spec.job_id, result_id, str(message[1]), handle)
                return
            elif message[0] == "error":
                self._fail(spec.job_id, str(message[1]))
                return
            else:
                code = child.process.exitcode
                if not handle.stop.is_set():
                    self._fail(spec.job_id, f"the job's worker process ended unexpectedly "
                                            f"(exit code {code}); see the server log")
                return

    def _complete(self, job_id: str, result_id: str, summary: str, handle: _Handle) -> None:
        job = self.db.get(jobs, job_id)
        if job is None or job["status"] == DISMISSED or handle.stop.is_set():
            return  # project deleted or job dismissed: the folder is removed by _run
        path = self.store.commit_result(result_id)
        stored = False
        try:
            stored = self.db.finish_job(job_id, {
                "id": result_id, "project_id": job["project_id"],
                "process_id": job["process_id"], "cache_key": job["cache_key"], "path": path,
                "inputs": job["inputs"], "summary": summary, "created_at": now_iso()})
        finally:
            if not stored:
                self.store.remove_results([path])
        if not stored:
            return
        logger.info("job %s done: result %s", job_id, result_id)
        self.prune(job["project_id"], job["process_id"])

    def prune(self, project_id: str, process_id: str) -> int:
        """Delete all but the newest ``keep_results`` results of a project's process (rows, files,
        cached plans and layers); return how many were deleted."""
        rows = self.db.list(results, limit=10_000, project_id=project_id, process_id=process_id)
        old = rows[self.keep_results:]
        if not old:
            return 0
        with self.db.begin() as conn:
            conn.execute(results.delete().where(results.c.id.in_([r["id"] for r in old])))
        self.plans.forget([r["id"] for r in old])
        self.store.remove_results([r["path"] for r in old])
        logger.info("pruned %d older %s result(s) of project %s", len(old), process_id,
                    project_id)
        return len(old)

    def _fail(self, job_id: str, message: str) -> None:
        job = self.db.get(jobs, job_id)
        if job is None or job["status"] == DISMISSED:
            return
        text = scrub_paths(message, self.store.root,
                           self.db.list(uploads, project_id=job["project_id"]))
        self.db.update_job(job_id, status="failed", message=text[:2000], finished_at=now_iso())


#: Characters that end a path inside a message.
_PATH_TAIL = r"[^\s'\"`,;:()<>\[\]]*"
#: An absolute path token: "/" not preceded by a word character, a dot or another slash.
_ABSOLUTE = re.compile(r"(?<![\w./~-])/" + _PATH_TAIL)
#: A path inside some data dir (an old one too): a folder of the data-dir layout after a prefix.
_DATA_LAYOUT = re.compile(r"./(?:projects|results|cache)/")
_TOP_LEVEL: list[set[str]] = []


def _top_level_dirs() -> set[str]:
    """Names in the filesystem root (``tmp``, ``home``, ``srv``, ...): a message's absolute path
    starting with one is a server path, unlike a route such as ``/processes/coverage``."""
    if not _TOP_LEVEL:
        try:
            _TOP_LEVEL.append({p.name for p in Path("/").iterdir()})
        except OSError:
            _TOP_LEVEL.append(set())
    return _TOP_LEVEL[0]


def _constant(text: str, _match: re.Match[str]) -> str:
    return text


def scrub_paths(message: str, root: Path, files: list[dict[str, Any]]) -> str:
    """``message`` without server paths: an upload's path (under this data dir or any other,
    e.g. the one an older version ran on) becomes its original file name; any other path under
    the data dir, the temporary folder or a top-level folder of this machine becomes ``<data>``.
    Used when a job fails and again whenever a job's message is read."""
    known = {str(root / str(f["path"])): str(f["filename"]) for f in files}
    for path, name in sorted(known.items(), key=lambda kv: -len(kv[0])):
        message = message.replace(path, name)
    for f in files:  # the stored name, after any folder (of this data dir or an older one)
        stored = re.escape(Path(str(f["path"])).name)
        message = re.sub(r"(?:" + _PATH_TAIL + r"/)?" + stored,
                         functools.partial(_constant, str(f["filename"])), message)
    for prefix in {str(root), str(root.resolve()), tempfile.gettempdir()}:
        message = re.sub(re.escape(prefix) + _PATH_TAIL, "<data>", message)
    top = _top_level_dirs()

    def private(match: re.Match[str]) -> str:
        path = match.group(0)
        first = path[1:].split("/", 1)[0]
        inside = first in top and path.count("/") > 1
        return "<data>" if inside or _DATA_LAYOUT.search(path) else path
    return _ABSOLUTE.sub(private, message)
