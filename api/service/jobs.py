"""Job runner: a bounded thread pool running analyses, their progress, cancellation (``DELETE
/jobs/{id}`` → ``dismissed``), atomic completion and the pruning of older results."""

from __future__ import annotations

import logging
import re
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from api.service.db import ACTIVE_STATES, Database, dumps, jobs, now_iso, results, uploads
from api.service.errors import ProblemError, job_error_message
from api.service.execution import PlanCache
from api.service.processes import Outcome, Progress
from api.service.store import Store
from planner.errors import PlannerError

logger = logging.getLogger(__name__)

Work = Callable[[Progress], Outcome]
DISMISSED = "dismissed"


class JobDismissedError(Exception):
    """Raised inside a job's thread at its next step once the job was dismissed."""


def new_id() -> str:
    """A fresh random identifier (32 hex digits)."""
    return uuid.uuid4().hex


class JobRunner:
    """Runs jobs on ``workers`` threads and refuses more than ``max_queued`` waiting or running."""

    def __init__(self, db: Database, store: Store, plans: PlanCache, *, workers: int,
                 max_queued: int, keep_results: int = 1) -> None:
        self.db, self.store, self.plans = db, store, plans
        self.max_queued = max_queued
        self.keep_results = keep_results
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="careplan-job")
        self._active = 0
        self._lock = threading.Lock()
        self._stops: dict[str, threading.Event] = {}

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

    def submit(self, job_id: str, work: Work) -> None:
        """Run ``work`` for an accepted job whose slot was reserved."""
        with self._lock:
            self._stops[job_id] = threading.Event()
        try:
            self._pool.submit(self._run, job_id, work)
        except RuntimeError:
            self.release()
            raise

    def stop_requested(self, job_id: str) -> Callable[[], bool]:
        """A cheap check a job's long loops call: has the job been dismissed?"""
        with self._lock:
            event = self._stops.setdefault(job_id, threading.Event())
        return event.is_set

    def dismiss(self, job_id: str) -> bool:
        """Dismiss a queued or running job: status ``dismissed`` now; its thread stops at its next
        step and removes what it had written. False when the job is not active."""
        with self.db.begin() as conn:
            done = conn.execute(jobs.update().where(
                jobs.c.id == job_id, jobs.c.status.in_(ACTIVE_STATES)).values(
                status=DISMISSED, message="dismissed by request", finished_at=now_iso()))
        with self._lock:
            event = self._stops.get(job_id)
            if event is not None:
                event.set()
        return bool(done.rowcount)

    def shutdown(self) -> None:
        """Stop taking jobs; queued ones stay ``accepted`` and are failed at the next start."""
        with self._lock:
            for event in self._stops.values():
                event.set()
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _progress(self, job_id: str, stopped: Callable[[], bool]) -> Progress:
        last = [-1]

        def report(percent: int, step: str) -> None:
            if stopped():
                raise JobDismissedError(job_id)
            if percent != last[0]:
                last[0] = percent
                self.db.update(jobs, job_id, progress=int(percent), message=step)
        return report

    def _run(self, job_id: str, work: Work) -> None:
        stopped = self.stop_requested(job_id)
        try:
            if stopped():
                return
            self.db.update(jobs, job_id, status="running", started_at=now_iso(), progress=1,
                           message="started")
            outcome = work(self._progress(job_id, stopped))
            if stopped():
                raise JobDismissedError(job_id)
            self._complete(job_id, outcome, stopped)
        except JobDismissedError:
            logger.info("job %s dismissed; partial files removed", job_id)
        except ProblemError as exc:
            self._fail(job_id, exc.detail)
        except PlannerError as exc:
            self._fail(job_id, f"{type(exc).__name__}: {exc}")
        except Exception as exc:  # a job must end failed, never stay running
            logger.exception("job %s failed", job_id)
            self._fail(job_id, job_error_message(exc))
        finally:
            with self._lock:
                self._stops.pop(job_id, None)
            self.release()

    def _complete(self, job_id: str, outcome: Outcome, stopped: Callable[[], bool]) -> None:
        job = self.db.get(jobs, job_id)
        if job is None or job["status"] == DISMISSED:  # project deleted or job dismissed
            return
        result_id = new_id()
        path = self.store.write_result(result_id, outcome.frames, outcome.summary,
                                       outcome.run_writer, plan=outcome.plan)
        if stopped():
            self.store.remove_results([path])
            raise JobDismissedError(job_id)
        self.db.finish_job(job_id, {
            "id": result_id, "project_id": job["project_id"], "process_id": job["process_id"],
            "cache_key": job["cache_key"], "path": path, "inputs": job["inputs"],
            "summary": dumps(outcome.summary), "created_at": now_iso()})
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
        self.db.update(jobs, job_id, status="failed", message=text[:2000], finished_at=now_iso())


def scrub_paths(message: str, root: Path, files: list[dict[str, str]]) -> str:
    """``message`` with every data-dir path replaced by its upload's original file name (or by
    ``<data dir>/…`` for any other file under the data dir)."""
    names = {str(root / f["path"]): str(f["filename"]) for f in files}
    names.update({Path(f["path"]).name: str(f["filename"]) for f in files})
    for absolute, name in sorted(names.items(), key=lambda kv: -len(kv[0])):
        message = message.replace(absolute, name)
    return re.sub(re.escape(str(root)) + r"[^\s'\",;:)]*", "<data dir>/…", message)
