"""OGC API Processes: list and describe processes; execute one as an asynchronous job."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.concurrency import run_in_threadpool

from api.service.deps import READ, WRITE, ServicesDep
from api.service.errors import ProblemError
from api.service.parts import parse_inputs, submit_job
from api.service.processes import PROCESSES, Process, find_hook, require_process
from api.service.routers.jobs import status_info
from api.service.schemas import (
    Execute,
    Link,
    ProcessDescription,
    ProcessList,
    ProcessSummary,
    StatusInfo,
    problems,
)

router = APIRouter(prefix="/processes", tags=["processes"])


def _summary(process: Process) -> ProcessSummary:
    missing = process.needs if process.needs and find_hook(process.needs) is None else None
    href = f"/processes/{process.id}"
    return ProcessSummary(
        id=process.id, title=process.title, description=process.description,
        available=missing is None, missing=missing,
        links=[Link(href=href, rel="self", type="application/json"),
               Link(href=f"{href}/execution",
                    rel="http://www.opengis.net/def/rel/ogc/1.0/execute")])


@router.get("", response_model=ProcessList, dependencies=READ, responses=problems(401, 403))
def list_processes() -> ProcessList:
    """Processes this server runs (unavailable ones name the planner function they need)."""
    return ProcessList(processes=[_summary(p) for p in PROCESSES.values()],
                       links=[Link(href="/processes", rel="self")])


@router.get("/{process_id}", response_model=ProcessDescription, dependencies=READ,
            responses=problems(401, 403, 404))
def get_process(process_id: str) -> ProcessDescription:
    """A process and the JSON Schema of its inputs."""
    process = PROCESSES.get(process_id)
    if process is None:
        raise ProblemError(404, f"no process {process_id!r}; choose one of {', '.join(PROCESSES)}")
    return ProcessDescription(**_summary(process).model_dump(),
                              inputs=process.inputs.model_json_schema())


@router.post("/{process_id}/execution", status_code=202, response_model=StatusInfo,
             dependencies=WRITE, responses=problems(400, 401, 403, 404, 409, 422, 429, 501))
async def execute_process(process_id: str, body: Execute, response: Response,
                          services: ServicesDep) -> StatusInfo:
    """Start a job (202 + Location); an identical earlier request reuses its result."""
    process = require_process(process_id)
    inputs = parse_inputs(process, body.inputs)
    job, how = await run_in_threadpool(submit_job, services, process, inputs)
    response.headers["Location"] = f"/jobs/{job['id']}"
    response.headers["X-Careplan-Job"] = how
    return status_info(job, reused=how != "queued")
