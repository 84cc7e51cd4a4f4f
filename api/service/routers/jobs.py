"""OGC API Processes jobs: list, status with progress, and results."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Query

from api.service.db import jobs, results, uploads
from api.service.deps import READ, WRITE, ServicesDep
from api.service.errors import ProblemError
from api.service.jobs import scrub_paths
from api.service.parts import Services
from api.service.schemas import JobList, JobResults, Link, StatusInfo, problems

router = APIRouter(prefix="/jobs", tags=["jobs"])


def public_message(services: Services, job: dict[str, Any],
                   files: list[dict[str, Any]] | None = None) -> str:
    """A job's message as the public may read it: server paths replaced again on the way out
    (messages stored by versions before the fix kept absolute data-dir paths)."""
    message = str(job.get("message") or "")
    if "/" not in message and "\\" not in message:
        return message
    if files is None:
        files = services.db.list(uploads, project_id=job["project_id"])
    return scrub_paths(message, services.store.root, files)


def status_info(job: dict[str, Any], *, reused: bool = False) -> StatusInfo:
    """A job row as an OGC status document (its message already made public)."""
    href = f"/jobs/{job['id']}"
    links = [Link(href=href, rel="self", type="application/json"),
             Link(href=f"/projects/{job['project_id']}", rel="up", type="application/json")]
    if job.get("status") == "successful":
        links.append(Link(href=f"{href}/results",
                          rel="http://www.opengis.net/def/rel/ogc/1.0/results",
                          type="application/json"))
    return StatusInfo(jobID=job["id"], processID=job["process_id"], projectID=job["project_id"],
                      status=job["status"], message=job.get("message") or "",
                      progress=int(job.get("progress") or 0), created=job["created_at"],
                      started=job.get("started_at"), finished=job.get("finished_at"),
                      reused=reused, links=links)


def _job(services: ServicesDep, job_id: str) -> dict[str, Any]:
    """A job row with its public message, or a 404 problem."""
    row = services.db.get(jobs, job_id)
    if row is None:
        raise ProblemError(404, f"no job {job_id!r}; list them at GET /jobs",
                         type="http://www.opengis.net/def/exceptions/ogcapi-processes-1/1.0/no-such-job")
    return {**row, "message": public_message(services, row)}


@router.get("", response_model=JobList, dependencies=READ, responses=problems(401, 403))
def list_jobs(services: ServicesDep, project: str | None = Query(None, max_length=40),
              limit: int = Query(100, ge=1, le=1000),
              offset: int = Query(0, ge=0, le=10**9)) -> JobList:
    """Jobs, newest first (optionally of one project)."""
    where = {"project_id": project} if project else {}
    rows = services.db.list(jobs, limit=limit, offset=offset, **where)
    files = services.db.uploads_of(sorted({r["project_id"] for r in rows}))
    shown = [status_info({**r, "message": public_message(services, r, files[r["project_id"]])})
             for r in rows]
    return JobList(jobs=shown, links=[Link(href="/jobs", rel="self")])


@router.get("/{job_id}", response_model=StatusInfo, dependencies=READ,
            responses=problems(401, 403, 404))
def get_job(job_id: str, services: ServicesDep) -> StatusInfo:
    """A job's status and progress (0-100)."""
    return status_info(_job(services, job_id))


@router.get("/{job_id}/results", response_model=JobResults, dependencies=READ,
            responses=problems(401, 403, 404))
def get_job_results(job_id: str, services: ServicesDep) -> JobResults:
    """A finished job's summary with links to its layers and downloads."""
    job = _job(services, job_id)
    if job["status"] != "successful" or not job.get("result_id"):
        raise ProblemError(404, f"job {job_id} is {job['status']}: no results"
                              + (f" ({job['message']})" if job["status"] == "failed" else ""),
                         type="http://www.opengis.net/def/exceptions/ogcapi-processes-1/1.0/result-not-ready")
    result = services.db.get(results, job["result_id"])
    if result is None:
        raise ProblemError(404, f"the result of job {job_id} was deleted")
    base = f"/projects/{job['project_id']}"
    links = [Link(href=f"{base}/collections", rel="data", type="application/json"),
             Link(href=f"{base}/map", rel="alternate", type="text/html")]
    links += [Link(href=f"{base}/exports/{fmt}", rel="enclosure")
              for fmt in ("gpkg", "csv", "html")]
    return JobResults(jobID=job_id, resultID=result["id"], processID=job["process_id"],
                      summary=json.loads(result["summary"]), links=links)


@router.delete("/{job_id}", response_model=StatusInfo, dependencies=WRITE,
               responses=problems(401, 403, 404, 409))
def dismiss_job(job_id: str, services: ServicesDep) -> StatusInfo:
    """Dismiss a queued or running job (OGC API Processes): its status becomes ``dismissed``,
    its worker process (and whatever it forked) is stopped within seconds (SIGTERM, SIGKILL
    after a grace period) and what it had written is removed."""
    _job(services, job_id)  # 404 for an unknown job
    if not services.runner.dismiss(job_id):
        job = _job(services, job_id)
        if job["status"] != "dismissed":
            raise ProblemError(409, f"job {job_id} is {job['status']}; only queued or running "
                                    "jobs can be dismissed (DELETE /projects/{id} removes "
                                    "results)")
    return status_info(_job(services, job_id))
