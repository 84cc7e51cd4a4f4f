"""The running service's parts (settings, database, store, job runner) and job submission."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any, cast

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from api.service.db import Database, dumps, jobs, now_iso, projects, results, scenarios, uploads
from api.service.errors import ProblemError
from api.service.execution import PlanCache
from api.service.inputs import (
    CoverageInputs,
    ProcessInputs,
    WhatifInputs,
)
from api.service.jobs import JobRunner, new_id
from api.service.processes import (
    Process,
    cache_key,
    demo_checksum,
    find_hook,
)
from api.service.settings import ApiSettings
from api.service.store import Store
from api.service.worker import JobSpec
from planner.errors import InputDataError
from planner.pipeline import PlanResult

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class Services:
    """Everything a request handler may use, built once per app in the lifespan."""

    settings: ApiSettings
    db: Database
    store: Store
    runner: JobRunner
    plans: PlanCache
    _plan_lock: threading.Lock = field(default_factory=threading.Lock)

    def project(self, project_id: str) -> dict[str, Any]:
        """A project row, or a 404 problem."""
        row = self.db.get(projects, project_id)
        if row is None:
            raise ProblemError(404, f"no project {project_id!r}; list them at GET /projects")
        return row

    def latest_result(self, project_id: str, process_id: str = "coverage") -> dict[str, Any] | None:
        """The newest stored result of a process for a project, or ``None``."""
        rows = self.db.list(results, limit=1, project_id=project_id, process_id=process_id)
        return rows[0] if rows else None

    def coverage_result(self, project_id: str) -> dict[str, Any]:
        """The project's newest coverage result row; 409 when there is none."""
        result = self.latest_result(project_id, "coverage")
        if result is None:
            body = '{"inputs": {"project": "' + project_id + '"}}'
            raise ProblemError(409, f"project {project_id} has no coverage result yet; POST "
                                    f"/processes/coverage/execution with {body} first")
        return result

    def coverage_plan(self, project_id: str) -> PlanResult:
        """The PlanResult of the project's newest coverage result; 409 when there is none."""
        return self.plan_for(self.coverage_result(project_id))

    def plan_for(self, result: dict[str, Any]) -> PlanResult:
        """The PlanResult of a coverage result: from memory or its stored pickle, never
        recomputed on a request (409 when the result has none: run the coverage process)."""
        plan = self.plans.get(result["id"])
        if plan is None:
            with self._plan_lock:
                plan = self.plans.get(result["id"])
                if plan is None:
                    plan, size = self.store.read_plan(result["path"])
                    if plan is None:
                        raise ProblemError(409, f"the coverage result of project "
                                                f"{result['project_id']} has no stored analysis; "
                                                "run the coverage process first")
                    self.plans.put(result["id"], plan, size)
        return cast(PlanResult, plan)


def parse_inputs(process: Process, raw: dict[str, Any]) -> ProcessInputs:
    """Validate a process's inputs: a 400 problem naming an unknown key, else 422 on failure."""
    try:
        return process.inputs.model_validate(raw)
    except ValidationError as exc:
        errors = exc.errors()
        unknown = [".".join(map(str, e["loc"])) for e in errors if e["type"] == "extra_forbidden"]
        if unknown:
            known = ", ".join(process.inputs.model_fields)
            raise ProblemError(400, f"unknown input {unknown[0]!r} of process {process.id}; "
                                    f"its inputs are: {known}", unknown=unknown) from None
        raise RequestValidationError(
            [{**e, "loc": ("body", "inputs", *e["loc"])} for e in errors]) from None


def _sources(services: Services, project: dict[str, Any]) -> list[str]:
    rows = services.db.list(uploads, project_id=project["id"])
    found = [f"{u['kind']}:{u['sha256']}:{u['coords']}" for u in rows]
    if project["source"] == "demo" and find_hook("planner.synthetic.district.build_demo_district"):
        found.append(f"demo:{demo_checksum()}")
    return found


def _spec(services: Services, process: Process, inputs: BaseModel,
          project: dict[str, Any], job_id: str) -> JobSpec:
    """What the job's child needs (checked here first: 409, 422 and 501 problems at once)."""
    settings = services.settings
    base_path = None
    if not isinstance(inputs, CoverageInputs):
        if find_hook(process.needs) is None:
            raise ProblemError(501, f"process {process.id!r} needs {process.needs}",
                               missing=process.needs)
        base = _require_base(services, process, project)
        if not services.store.has_plan(base["path"]):
            raise ProblemError(409, f"the coverage result of project {project['id']} has no "
                                    "stored analysis; run the coverage process first")
        if isinstance(inputs, WhatifInputs):
            check_scenario(inputs, services.plan_for(base))
        base_path = str(base["path"])
    return JobSpec(job_id=job_id, process_id=process.id,
                   inputs=inputs.model_dump(mode="json"), project=dict(project),
                   uploads=services.db.list(uploads, project_id=project["id"]),
                   data_dir=str(services.store.root), base_path=base_path,
                   limits=(int(settings.max_osm_xml_mb * 2**20),
                           int(settings.max_expanded_mb * 2**20), settings.max_register_rows))


def _require_base(services: Services, process: Process,
                  project: dict[str, Any]) -> dict[str, Any]:
    """The project's latest coverage result, or a 409 problem."""
    base = services.latest_result(project["id"])
    if base is None:
        raise ProblemError(409, f"{process.id} needs a finished coverage run of project "
                              f"{project['id']}; POST /processes/coverage/execution first")
    return base


def check_scenario(inputs: WhatifInputs, plan: PlanResult) -> None:
    """422 problem when a scenario names unknown (or, for adds, existing) facilities."""
    from planner.whatif import build_facility_table, state_from_result

    try:
        build_facility_table(state_from_result(plan), inputs.to_scenario())
    except InputDataError as exc:
        raise ProblemError(422, f"whatif inputs: {exc}") from None


def submit_job(services: Services, process: Process,
               inputs: ProcessInputs) -> tuple[dict[str, Any], str]:
    """Create a job for an execution request; reuse a cached result or an identical active job.

    Returns the job row and how it was obtained: ``queued``, ``cached`` or ``running``.
    """
    project = services.project(str(inputs.project))
    sources = _sources(services, project)
    if not isinstance(inputs, CoverageInputs):  # depends on the coverage run it starts from
        sources.append(f"base:{_require_base(services, process, project)['id']}")
    key = cache_key(process.id, inputs, sources)
    active = services.db.find_active_job(key)
    if active is not None:
        return active, "running"
    row = {"id": new_id(), "project_id": project["id"], "process_id": process.id,
           "inputs": dumps(inputs.model_dump(exclude_none=True)), "cache_key": key,
           "created_at": now_iso(), "progress": 0}
    cached = services.db.find_result(project["id"], key)
    if cached is not None and process.id == "coverage" \
            and not services.store.has_plan(cached["path"]):
        cached = None  # made before plans were stored: compute it again
    if cached is not None:
        row.update(status="successful", progress=100, result_id=cached["id"],
                   message="reused cached result", started_at=row["created_at"],
                   finished_at=row["created_at"])
        services.db.insert(jobs, row)
        _save_scenario(services, inputs, row)
        return row, "cached"
    spec = _spec(services, process, inputs, project, row["id"])
    services.runner.reserve()
    try:
        services.db.insert(jobs, {**row, "status": "accepted", "message": "queued"})
        _save_scenario(services, inputs, row)
    except Exception:
        services.runner.release()
        raise
    services.runner.submit(spec)
    return {**row, "status": "accepted", "message": "queued"}, "queued"


def _save_scenario(services: Services, inputs: BaseModel, job: dict[str, Any]) -> None:
    name = getattr(inputs, "name", None) or getattr(inputs, "scenario", None)
    if name:
        services.db.insert(scenarios, {"id": new_id(), "project_id": job["project_id"],
                                       "name": name, "process_id": job["process_id"],
                                       "inputs": job["inputs"], "job_id": job["id"],
                                       "created_at": now_iso()})
