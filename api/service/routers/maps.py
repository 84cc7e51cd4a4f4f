"""The interactive care map of a project (HTML, delegates to maps.compose).

The page is rendered once per result (and language, basemap, siting layer), stored next to the
result, and served as a file with ``ETag`` and ``Last-Modified``; revalidation answers 304.
A read never starts an analysis: without a stored coverage result the answer is 409.
"""

from __future__ import annotations

import gzip
import os
import re
import threading
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse

from api.service.deps import READ, ProjectDep, ServicesDep
from api.service.errors import ProblemError
from api.service.limits import content_security_policy
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


_ASSET_ORIGIN = re.compile(r'(?:src|href)="(https://[A-Za-z0-9.-]+)/')
_TILE_ORIGIN = re.compile(r'tileLayer\(\s*"(https://[A-Za-z0-9.{}-]+)/')


def page_policy(html: str) -> str:
    """The CSP of a rendered map page: the service's own assets, plus (until every asset is
    bundled under /static) exactly the outside script/style and tile origins the page names."""
    scripts = " ".join(sorted(set(_ASSET_ORIGIN.findall(html))))
    tiles = " ".join(sorted({o.replace("{s}", "*") for o in _TILE_ORIGIN.findall(html)}))
    return content_security_policy(scripts, tiles)


_RENDER_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_LOCK = threading.Lock()


def _map_file(services: Services, project: dict[str, Any], lang: str, basemap: str
              ) -> tuple[Path, str]:
    """The stored page of the project's current result and its ETag (rendered on first use)."""
    result = services.coverage_result(project["id"])
    siting = services.latest_result(project["id"], "siting") or \
        services.latest_result(project["id"], "whatif")
    variant = f"{lang}-{basemap}-{siting['id'] if siting else 'none'}"
    path = services.store.absolute(result["path"]) / "maps" / f"{variant}.html"
    with _LOCKS_LOCK:
        lock = _RENDER_LOCKS.setdefault(str(path), threading.Lock())
    with lock:  # concurrent first requests render once
        if not path.is_file():
            html = _render(services, project, lang, basemap)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.with_suffix(".csp").write_text(page_policy(html), encoding="utf-8")
            path.with_suffix(".html.gz").write_bytes(gzip.compress(html.encode("utf-8"), 6))
            tmp = path.with_suffix(".tmp")
            tmp.write_text(html, encoding="utf-8")
            os.replace(tmp, path)
    return path, f'"{result["id"]}-{variant}"'


def _not_modified(request: Request, etag: str, mtime: float) -> bool:
    match = request.headers.get("if-none-match")
    if match is not None:
        return etag in (m.strip().removeprefix("W/") for m in match.split(",")) or match == "*"
    since = request.headers.get("if-modified-since")
    if since:
        try:
            return int(mtime) <= parsedate_to_datetime(since).timestamp()
        except (TypeError, ValueError):
            return False
    return False


@router.get("/map", response_class=HTMLResponse, dependencies=READ,
            responses={200: {"content": {"text/html": {}}}, 304: {"description": "not modified"},
                       **problems(401, 403, 404, 409, 501)})
async def get_map(
    request: Request, project: ProjectDep, services: ServicesDep,
    lang: Annotated[Literal["zh", "en"], Query()] = "zh",
    basemap: Annotated[Literal["offline", "osm", "amap", "tianditu"], Query()] = "offline",
) -> Response:
    """The care map: facilities, catchments, coverage choropleth, gaps, sites, legend (rendered
    once per result; ``ETag``/``Last-Modified`` with 304 on revalidation)."""
    path, etag = await run_in_threadpool(_map_file, services, project, lang, basemap)
    mtime = path.stat().st_mtime
    headers = {"ETag": etag, "Last-Modified": formatdate(mtime, usegmt=True),
               "Cache-Control": "no-cache",
               "Content-Security-Policy": path.with_suffix(".csp").read_text(encoding="utf-8")}
    headers["Vary"] = "Accept-Encoding"
    if _not_modified(request, etag, mtime):
        return Response(status_code=304, headers=headers)
    packed = path.with_suffix(".html.gz")
    if "gzip" in request.headers.get("accept-encoding", "") and packed.is_file():
        # stored compressed once: about a seventh of the bytes to send, no per-request CPU
        headers["Content-Encoding"] = "gzip"
        return FileResponse(packed, media_type="text/html; charset=utf-8", headers=headers)
    return FileResponse(path, media_type="text/html; charset=utf-8", headers=headers)
