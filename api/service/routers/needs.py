"""Needs view (issue 14): the older-adult register of a project, public aggregates only, the
organisations' outreach list (personal, audited) and the admin's audit table."""

from __future__ import annotations

import io
import json
import threading
from collections import OrderedDict
from typing import Annotated, Any, Literal

import pandas as pd
from fastapi import APIRouter, File, Query, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from api.service.audit import audit_rows, older_registers, record
from api.service.db import now_iso, uploads
from api.service.deps import READ, AdminDep, PersonalDep, ProjectDep, ServicesDep
from api.service.errors import ProblemError
from api.service.jobs import new_id
from api.service.parts import Services
from api.service.schemas import problems
from planner.io.older_adults import read_older_adults
from planner.io.places import read_everyday_catalogue, read_places
from planner.needs.aggregate import (
    community_counts,
    grid_counts,
    needs_gaps,
    public_coverage,
    unmet_flags,
)
from planner.needs.people import NEEDS, needs_coverage, outreach_list, person_times
from planner.needs.publish import publish_count

router = APIRouter(tags=["needs"])
_cache: OrderedDict[str, dict[str, Any]] = OrderedDict()
_lock = threading.Lock()
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _register(services: Services, project_id: str) -> dict[str, Any]:
    rows = services.db.list(older_registers, limit=1, project_id=project_id)
    if not rows:
        raise ProblemError(409, f"project {project_id} has no older-adult register; POST one to "
                                f"/projects/{project_id}/older-adults (admin key)")
    return rows[0]


def _needs(services: Services, project: dict[str, Any]) -> dict[str, Any]:
    """People, times and coverage of the project's register on its newest coverage result."""
    reg = _register(services, project["id"])
    result = services.latest_result(project["id"], "coverage")
    plan = services.coverage_plan(project["id"])
    key = f"{result['id'] if result else ''}:{reg['id']}"
    with _lock:
        if key in _cache:
            return _cache[key]
    osm = next((u for u in services.db.list(uploads, project_id=project["id"])
                if u["kind"] == "osm"), None)
    places = (read_places(services.store.absolute(osm["path"]), read_everyday_catalogue())
              if osm else None)
    read = read_older_adults(services.store.absolute(reg["path"]), units=plan.units,
                             places=places)
    times = person_times(plan, read.people)
    built = {"plan": plan, "people": read.people, "times": times,
             "coverage": needs_coverage(plan, read.people, times),
             "unmet": unmet_flags(read.people, times)}
    with _lock:
        _cache[key] = built
        while len(_cache) > 4:
            _cache.popitem(last=False)
    return built


@router.post("/projects/{project_id}/older-adults", status_code=201,
             responses=problems(401, 403, 404, 413, 415))
async def post_register(project: ProjectDep, services: ServicesDep, _admin: AdminDep,
                        file: Annotated[UploadFile, File(description="CSV or XLSX")]
                        ) -> dict[str, Any]:
    """Add an older-adult register (老年人动态管理数据库) to a project (admin key)."""
    rid = new_id()
    saved = await services.store.save_upload(file, project["id"], rid, "older_adults",
                                             services.settings.max_upload_bytes)
    services.db.insert(older_registers, {"id": rid, "project_id": project["id"],
                                         "path": saved.relative, "sha256": saved.sha256,
                                         "size_bytes": saved.size_bytes,
                                         "created_at": now_iso()})
    record(services.db, _admin, "older-adults.upload", project["id"], f"register {rid}", 0)
    return {"id": rid, "sha256": saved.sha256, "size_bytes": saved.size_bytes}


@router.get("/projects/{project_id}/needs", dependencies=READ, responses={
    200: {"content": {"application/geo+json": {}}}, **problems(401, 403, 404, 409)})
async def get_needs(project: ProjectDep, services: ServicesDep,
                    by: Annotated[Literal["community", "grid"], Query()] = "community"
                    ) -> JSONResponse:
    """PUBLIC aggregates: people, with each need and with it unmet, per community or 250 m cell.
    Counts under 5 read "<5", the rest are rounded to 5 (no differencing across layers)."""
    def build() -> dict[str, Any]:
        n = _needs(services, project)
        frame = (community_counts(n["plan"], n["people"], n["unmet"]) if by == "community"
                 else grid_counts(n["plan"], n["people"], n["unmet"]))
        body: dict[str, Any] = json.loads(frame.to_json(drop_id=True))
        body["note"] = "counts: '<5' below 5, else rounded to the nearest 5"
        return body
    return JSONResponse(await run_in_threadpool(build), media_type="application/geo+json")


@router.get("/projects/{project_id}/needs/coverage", dependencies=READ,
            responses=problems(401, 403, 404, 409))
async def get_needs_coverage(project: ProjectDep, services: ServicesDep) -> dict[str, Any]:
    """PUBLIC: coverage_needs (per unit, type and group) and needs gaps, published counts only."""
    def build() -> dict[str, Any]:
        n = _needs(services, project)
        cov = public_coverage(n["coverage"])
        return {"people": publish_count(len(n["people"])),
                "coverage": json.loads(cov.to_json(orient="records", force_ascii=False)),
                "gaps": json.loads(needs_gaps(n["coverage"]).to_json(orient="records",
                                                                      force_ascii=False))}
    return await run_in_threadpool(build)


@router.get("/projects/{project_id}/outreach", responses={
    200: {"content": {"application/json": {}, XLSX: {}}}, **problems(401, 403, 404, 409)})
async def get_outreach(
    project: ProjectDep, services: ServicesDep, who: PersonalDep,
    community: Annotated[str | None, Query(max_length=100)] = None,
    need: Annotated[Literal["need_meal", "need_day_care", "need_home_care"] | None,
                    Query()] = None,
    format: Annotated[Literal["json", "xlsx"], Query()] = "json",  # noqa: A002
) -> Response:
    """PERSONAL (organisation key): people whose needed service is out of reach, most unmet
    needs first, then farthest; filter by community (code or name) and need; xlsx for 探访."""
    def build() -> pd.DataFrame:
        n = _needs(services, project)
        table = outreach_list(n["plan"], n["people"], n["times"])
        if community:
            table = table[(table["unit_id"] == community) | (table["unit_name"] == community)]
        if need:
            table = table[table["need"] == need]
        return table.reset_index(drop=True)
    table = await run_in_threadpool(build)
    record(services.db, who, f"outreach.{format}", project["id"],
           f"community={community or '*'} need={need or '*'}", int(table["person_id"].nunique()))
    if format == "xlsx":
        buf = io.BytesIO()
        table.to_excel(buf, index=False, engine="openpyxl")
        return Response(buf.getvalue(), media_type=XLSX, headers={
            "Content-Disposition": f'attachment; filename="outreach_{project["id"]}.xlsx"',
            "Cache-Control": "no-store"})
    records = json.loads(table.to_json(orient="records", force_ascii=False))
    return JSONResponse({"count": len(records), "needs": list(NEEDS), "people": records},
                        headers={"Cache-Control": "no-store"})


@router.get("/audit", responses=problems(401, 403))
def get_audit(services: ServicesDep, _admin: AdminDep,
              limit: Annotated[int, Query(ge=1, le=1000)] = 100,
              offset: Annotated[int, Query(ge=0)] = 0) -> dict[str, Any]:
    """Every read of personal records (who, when, what, how many), newest first (admin key)."""
    return {"audit": audit_rows(services.db, limit, offset)}
