"""Job runner: a bounded thread pool running analyses, their progress and atomic completion."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from api.service.db import Database, dumps, jobs, now_iso
from api.service.errors import ProblemError
from api.service.execution import PlanCache
from api.service.processes import Outcome, Progress
from api.service.store import Store
from planner.errors import PlannerError

logger = logging.getLogger(__name__)

Work = Callable[[Progress], Outcome]


def new_id() -> str:
    """A fresh random identifier (32 hex digits)."""
    return uuid.uuid4().hex


class JobRunner:
    """Runs jobs on ``workers`` threads and refuses more than ``max_queued`` waiting or running."""

    def __init__(self, db: Database, store: Store, plans: PlanCache, *, workers: int,
                 max_queued: int) -> None:
        self.db, self.store, self.plans = db, store, plans
        self.max_queued = max_queued
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="careplan-job")
        self._active = 0
        self._lock = threading.Lock()

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
        try:
            self._pool.submit(self._run, job_id, work)
        except RuntimeError:
            self.release()
            raise

    def shutdown(self) -> None:
        """Stop taking jobs; queued ones stay ``accepted`` and are failed at the next start."""
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _progress(self, job_id: str) -> Progress:
        last = [-1]

        def report(percent: int, step: str) -> None:
            if percent != last[0]:
                last[0] = percent
                self.db.update(jobs, job_id, progress=int(percent), message=step)
        return report

    def _run(self, job_id: str, work: Work) -> None:
        try:
            self.db.update(jobs, job_id, status="running", started_at=now_iso(), progress=1,
                           message="started")
            outcome = work(self._progress(job_id))
            self._complete(job_id, outcome)
        except ProblemError as exc:
            self._fail(job_id, exc.detail)
        except PlannerError as exc:
            self._fail(job_id, f"{type(exc).__name__}: {exc}")
        except Exception as exc:  # a job must end failed, never stay running
            logger.exception("job %s failed", job_id)
            self._fail(job_id, f"unexpected {type(exc).__name__}: {exc}")
        finally:
            self.release()

    def _complete(self, job_id: str, outcome: Outcome) -> None:
        job = self.db.get(jobs, job_id)
        if job is None:  # project deleted meanwhile
            return
        result_id = new_id()
        path = self.store.write_result(result_id, outcome.frames, outcome.summary,
                                       outcome.run_writer)
        self.db.finish_job(job_id, {
            "id": result_id, "project_id": job["project_id"], "process_id": job["process_id"],
            "cache_key": job["cache_key"], "path": path, "inputs": job["inputs"],
            "summary": dumps(outcome.summary), "created_at": now_iso()})
        if outcome.plan is not None:
            self.plans.put(result_id, outcome.plan)
        logger.info("job %s done: result %s", job_id, result_id)

    def _fail(self, job_id: str, message: str) -> None:
        self.db.update(jobs, job_id, status="failed", message=message[:2000],
                       finished_at=now_iso())
