"""The interactive care map of a project (HTML, delegates to maps.compose)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse

from api.service.deps import READ, ProjectDep, ServicesDep
from api.service.errors import ProblemError
from api.service.parts import Services
from api.service.processes import find_hook
from api.service.routers.collections import load_layer
from api.service.schemas import problems
from api.service.static import STATIC_URL

router = APIRouter(prefix="/projects/{project_id}", tags=["maps"])

#: Layers with more features than this load from the items endpoint instead of being inlined.
INLINE_MAX_FEATURES = 500
_STREAMED = ("units", "catchments", "dissolved", "gaps", "facilities")


def _layer_urls(services: Services, project_id: str) -> dict[str, str]:
    urls = {}
    for cid in _STREAMED:
        if len(load_layer(services, project_id, cid)) > INLINE_MAX_FEATURES:
            urls[cid] = f"/projects/{project_id}/collections/{cid}/items?limit=10000"
    return urls


def _render(services: Services, project: dict[str, Any], lang: str, basemap: str) -> str:
    compose = find_hook("maps.compose.build_care_map")
    if compose is None:
        raise ProblemError(501, "the care map needs maps.compose.build_care_map, which this build "
                              "does not have yet; the GeoJSON collections are available",
                         missing="maps.compose.build_care_map")
    plan = services.coverage_plan(project["id"])
    sites = load_layer(services, project["id"], "sites")
    fmap = compose(plan, lang=lang, basemap=basemap,
                   layer_urls=_layer_urls(services, project["id"]) or None,
                   sites=sites if len(sites) else None)
    page_html = find_hook("maps.assets.page_html")
    if page_html is None:
        raise ProblemError(501, "the care map needs maps.assets.page_html (offline assets)",
                           missing="maps.assets.page_html")
    return str(page_html(fmap, static_url=STATIC_URL))


@router.get("/map", response_class=HTMLResponse, dependencies=READ,
            responses={200: {"content": {"text/html": {}}}, **problems(401, 403, 404, 409, 501)})
async def get_map(
    project: ProjectDep, services: ServicesDep,
    lang: Annotated[Literal["zh", "en"], Query()] = "zh",
    basemap: Annotated[Literal["offline", "osm", "amap", "tianditu"], Query()] = "offline",
) -> HTMLResponse:
    """The care map: facilities, catchments, coverage choropleth, gaps, sites, legend."""
    html = await run_in_threadpool(_render, services, project, lang, basemap)
    return HTMLResponse(html)
