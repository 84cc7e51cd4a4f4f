"""The residents' 关爱地图 (public): finder page, meal map, name search, nearby services."""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse

from api.service.db import uploads
from api.service.deps import READ, ProjectDep, ServicesDep
from api.service.errors import ProblemError
from api.service.parts import Services
from api.service.schemas import problems
from planner.finder.model import MAX_MINUTES, Finder, nearby_geojson, search_places
from planner.io.finder_inputs import load_finder
from planner.io.places import read_everyday_catalogue
from planner.params import FACILITY_TYPES
from planner.pipeline import PlanResult

router = APIRouter(prefix="/projects/{project_id}", tags=["finder"])
_CACHE_SIZE = 4
_cache: OrderedDict[str, tuple[Finder, PlanResult]] = OrderedDict()
_lock = threading.Lock()


def finder_of(services: Services, project: dict[str, Any]) -> tuple[Finder, PlanResult]:
    """The finder of the project's newest coverage result (built once, then cached)."""
    result = services.latest_result(project["id"], "coverage")
    plan = services.coverage_plan(project["id"])
    key = str(result["id"]) if result else project["id"]
    with _lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
            return hit
    latest = {u["kind"]: u for u in sorted(services.db.list(uploads, project_id=project["id"]),
                                           key=lambda u: u["created_at"])}
    osm = services.store.absolute(latest["osm"]["path"]) if "osm" in latest else None
    reg = latest.get("facilities")
    built = load_finder(plan, osm=osm, register=services.store.absolute(reg["path"]) if reg
                        else None, coords=reg["coords"] if reg else "wgs84")
    with _lock:
        _cache[key] = (built, plan)
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return built, plan


@functools.lru_cache(maxsize=1)
def _known_types() -> frozenset[str]:
    return frozenset(FACILITY_TYPES) | {t.key for t in read_everyday_catalogue().types}


_pages: OrderedDict[tuple[str, str, str], str] = OrderedDict()


def _page(services: Services, project: dict[str, Any], mode: Literal["care", "meals"],
          lang: Literal["zh", "en"]) -> str:
    """The page HTML, built once per finder, mode and language."""
    from maps.finder import build_finder_page

    finder, plan = finder_of(services, project)
    result = services.latest_result(project["id"], "coverage")
    key = (str(result["id"]) if result else project["id"], mode, lang)
    with _lock:
        if key in _pages:
            return _pages[key]
    html = build_finder_page(finder, plan, mode=mode, transport="server",
                             api_base=f"/projects/{project['id']}", lang=lang)
    with _lock:
        _pages[key] = html
        while len(_pages) > 3 * _CACHE_SIZE:
            _pages.popitem(last=False)
    return html


@router.get("/finder", response_class=HTMLResponse, dependencies=READ,
            responses={200: {"content": {"text/html": {}}}, **problems(401, 403, 404, 409)})
async def get_finder(project: ProjectDep, services: ServicesDep,
                     mode: Annotated[Literal["care", "meals"], Query()] = "care",
                     lang: Annotated[Literal["zh", "en"], Query()] = "zh") -> HTMLResponse:
    """The finder for older residents (``mode=meals``: the 助餐服务地图). No personal data."""
    return HTMLResponse(await run_in_threadpool(_page, services, project, mode, lang))


@router.get("/search", dependencies=READ, responses=problems(401, 403, 404, 409))
async def get_search(project: ProjectDep, services: ServicesDep,
                     q: Annotated[str, Query(min_length=1, max_length=60)]) -> dict[str, Any]:
    """Units, facilities and OSM names matching ``q`` (Chinese substring or pinyin initials)."""
    finder, _ = await run_in_threadpool(finder_of, services, project)
    return {"query": q, "results": search_places(finder, q)}


@router.get("/nearby", dependencies=READ, responses={
    200: {"content": {"application/geo+json": {}}, "description": "GeoJSON FeatureCollection"},
    **problems(400, 401, 403, 404, 409)})
async def get_nearby(
    project: ProjectDep, services: ServicesDep,
    lon: Annotated[float, Query(ge=-180, le=180)], lat: Annotated[float, Query(ge=-90, le=90)],
    minutes: Annotated[float, Query(gt=0, le=MAX_MINUTES)] = 30.0,
    types: Annotated[str | None, Query(max_length=400, description="comma-separated types, "
                                       "e.g. meal_point,day_care,pharmacy")] = None,
    route: bool = False,
) -> JSONResponse:
    """Services within ``minutes`` of walking at the older-adult speed, nearest first."""
    finder, _ = await run_in_threadpool(finder_of, services, project)
    wanted = [t.strip() for t in types.split(",") if t.strip()] if types else None
    known = _known_types()
    unknown = sorted(set(wanted or []) - known)
    if unknown:
        raise ProblemError(400, f"types={','.join(unknown)} is not in this project; use some of "
                                f"{', '.join(sorted(known))}")
    body = await run_in_threadpool(nearby_geojson, finder, lon, lat, minutes, wanted, route)
    return JSONResponse(body, media_type="application/geo+json")
