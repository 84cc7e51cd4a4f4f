"""Projects (study areas) from an upload, a data-dir file, a place name or the demo; uploads."""

from __future__ import annotations

import json
import shutil
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Query, Request, Response, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.datastructures import UploadFile as StarletteUpload

from api.service.db import ACTIVE_STATES, jobs, now_iso, projects, results, scenarios, uploads
from api.service.deps import READ, WRITE, ProjectDep, ServicesDep
from api.service.errors import ProblemError
from api.service.jobs import new_id
from api.service.parts import Services
from api.service.processes import require_demo
from api.service.schemas import (
    Link,
    Project,
    ProjectCreate,
    ProjectList,
    Scenario,
    ScenarioList,
    Upload,
    problems,
)
from api.service.store import SavedFile

router = APIRouter(prefix="/projects", tags=["projects"])

_CREATE_BODY: dict[str, Any] = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": ProjectCreate.model_json_schema()},
    "multipart/form-data": {"schema": {
        "type": "object", "required": ["osm"],
        "properties": {"osm": {"type": "string", "format": "binary",
                               "description": ".osm, .osm.pbf or .osm.bz2 (checked by content)"},
                       "name": {"type": "string", "maxLength": 200}}}}}}}


def _links(project_id: str) -> list[Link]:
    base = f"/projects/{project_id}"
    return [Link(href=base, rel="self", type="application/json"),
            Link(href=f"{base}/collections", rel="data", type="application/json"),
            Link(href=f"{base}/map", rel="alternate", type="text/html", title="care map"),
            Link(href=f"/jobs?project={project_id}", rel="jobs", type="application/json")]


def project_view(services: Services, row: dict[str, Any],
                 files: list[dict[str, Any]] | None = None) -> Project:
    """A project row with its uploads and links."""
    if files is None:
        files = services.db.uploads_of([row["id"]])[row["id"]]
    return Project(**row, uploads=[Upload.model_validate(u) for u in files],
                   links=_links(row["id"]))


def _insert(services: Services, project_id: str, name: str, source: str, place: str | None,
            saved: SavedFile | None, filename: str, *, owned: bool) -> None:
    with services.db.begin() as conn:
        conn.execute(projects.insert().values(id=project_id, name=name, source=source, place=place,
                                              created_at=now_iso()))
        if saved is not None:
            conn.execute(uploads.insert().values(
                id=new_id(), project_id=project_id, kind="osm", filename=filename,
                path=saved.relative, detected=saved.detected, sha256=saved.sha256,
                size_bytes=saved.size_bytes, coords="wgs84", owned=int(owned),
                created_at=now_iso()))


async def _from_multipart(request: Request, services: Services, project_id: str) -> str:
    form = await request.form(max_files=1, max_fields=5)
    osm = form.get("osm")
    if not isinstance(osm, StarletteUpload):
        raise RequestValidationError([{"loc": ("body", "osm"), "type": "missing",
                                       "msg": "multipart field 'osm' must be an OSM file"}])
    name = str(form.get("name") or osm.filename or "uploaded study area")[:200]
    try:
        saved = await services.store.save_upload(osm, project_id, new_id(), "osm",
                                                 services.settings.max_upload_bytes)
        _insert(services, project_id, name, "upload", None, saved, osm.filename or "osm",
                owned=True)
    except BaseException:
        shutil.rmtree(services.store.root / "projects" / project_id, ignore_errors=True)
        raise
    return name


def _from_json(body: ProjectCreate, services: Services, project_id: str) -> None:
    store = services.store
    if body.source == "demo":
        require_demo()  # 501 now rather than at run time when the demo is missing
        _insert(services, project_id, body.name or "示范区 demo district (synthetic)", "demo",
                None, None, "", owned=False)
    elif body.source == "file":
        if not body.file:
            raise ProblemError(422, "source 'file' needs 'file': a path inside the data directory")
        saved = store.describe_file(store.resolve_data_file(body.file), "osm")
        _insert(services, project_id, body.name or body.file, "file", None, saved, body.file,
                owned=False)
    else:
        if not body.place:
            raise ProblemError(422, "source 'place' needs 'place', a place name (成都市青羊区)")
        saved = store.describe_file(store.download_place(body.place), "osm")
        _insert(services, project_id, body.name or body.place, "place", body.place, saved,
                saved.path.name, owned=False)


@router.post("", status_code=201, response_model=Project, dependencies=WRITE,
             openapi_extra=_CREATE_BODY,
             responses=problems(401, 403, 404, 413, 415, 422, 501, 503))
async def create_project(request: Request, response: Response, services: ServicesDep) -> Project:
    """Create a project from JSON ``{"source": "demo" | "file" | "place"}`` or an OSM upload."""
    project_id = new_id()
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        await _from_multipart(request, services, project_id)
    else:
        try:
            body = ProjectCreate.model_validate_json(await request.body() or b"{}")
        except ValidationError as exc:
            raise RequestValidationError(
                [{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]) from None
        await run_in_threadpool(_from_json, body, services, project_id)
    response.headers["Location"] = f"/projects/{project_id}"
    return project_view(services, services.project(project_id))


@router.get("", response_model=ProjectList, dependencies=READ, responses=problems(401, 403))
def list_projects(services: ServicesDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                  offset: Annotated[int, Query(ge=0, le=10**9)] = 0) -> ProjectList:
    """List projects, newest first."""
    rows = services.db.list(projects, limit=limit, offset=offset)
    files = services.db.uploads_of([r["id"] for r in rows])
    items = [project_view(services, r, files[r["id"]]) for r in rows]
    return ProjectList(projects=items, numberReturned=len(items))


@router.get("/{project_id}", response_model=Project, dependencies=READ,
            responses=problems(401, 403, 404))
def get_project(project: ProjectDep, services: ServicesDep) -> Project:
    """One project with its uploaded files."""
    return project_view(services, project)


@router.delete("/{project_id}", status_code=204, dependencies=WRITE,
               responses=problems(401, 403, 404, 409))
def delete_project(project: ProjectDep, services: ServicesDep) -> Response:
    """Delete a project, its uploads, jobs and results (refused while one of its jobs runs)."""
    active = [j for j in services.db.list(jobs, project_id=project["id"])
              if j["status"] in ACTIVE_STATES]
    if active:
        raise ProblemError(409, f"project {project['id']} has {len(active)} queued or running "
                              "job(s); wait for them to finish")
    paths = services.db.list(results, project_id=project["id"])
    services.db.delete_project(project["id"])
    services.plans.forget([r["id"] for r in paths])
    services.store.remove_project(project["id"], [r["path"] for r in paths])
    return Response(status_code=204)


@router.post("/{project_id}/uploads", status_code=201, response_model=Upload, dependencies=WRITE,
             responses=problems(401, 403, 404, 413, 415, 422))
async def create_upload(
    project: ProjectDep, services: ServicesDep,
    file: Annotated[UploadFile, File(description="CSV, XLSX, GeoJSON or GeoPackage")],
    kind: Annotated[Literal["osm", "facilities", "units"], Form()],
    coords: Annotated[Literal["wgs84", "gcj02", "bd09", "cgcs2000"], Form()] = "wgs84",
) -> Upload:
    """Add a facility register, a units file or a new OSM file to a project."""
    upload_id = new_id()
    saved = await services.store.save_upload(file, project["id"], upload_id, kind,
                                             services.settings.max_upload_bytes)
    row = {"id": upload_id, "project_id": project["id"], "kind": kind,
           "filename": (file.filename or kind)[:300], "path": saved.relative,
           "detected": saved.detected, "sha256": saved.sha256, "size_bytes": saved.size_bytes,
           "coords": coords, "owned": 1, "created_at": now_iso()}
    services.db.insert(uploads, row)
    return Upload.model_validate(row)


@router.get("/{project_id}/scenarios", response_model=ScenarioList, dependencies=READ,
            responses=problems(401, 403, 404))
def list_scenarios(project: ProjectDep, services: ServicesDep) -> ScenarioList:
    """Named siting and what-if scenarios of a project."""
    rows = services.db.list(scenarios, project_id=project["id"])
    return ScenarioList(scenarios=[Scenario.model_validate({**r, "inputs": json.loads(r["inputs"])})
                                   for r in rows])
