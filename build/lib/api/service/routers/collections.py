"""OGC API Features: a project's layers as collections of GeoJSON items."""

from __future__ import annotations

from typing import Annotated

import geopandas as gpd
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse

from api.service.deps import READ, ProjectDep, ServicesDep
from api.service.errors import ProblemError
from api.service.execution import COLLECTIONS
from api.service.layers import RESERVED, feature_collection, filter_frame
from api.service.parts import Services
from api.service.schemas import CollectionInfo, Collections, Link, problems

router = APIRouter(prefix="/projects/{project_id}/collections", tags=["collections"])
CollectionId = Annotated[str, Path(description="One of: " + ", ".join(COLLECTIONS))]
_SITING_LAYERS = ("candidates", "sites")


def _info(project_id: str, cid: str) -> CollectionInfo:
    base = f"/projects/{project_id}/collections/{cid}"
    return CollectionInfo(id=cid, title=cid, description=COLLECTIONS[cid], links=[
        Link(href=base, rel="self", type="application/json"),
        Link(href=f"{base}/items", rel="items", type="application/geo+json")])


def _check(cid: str) -> None:
    if cid not in COLLECTIONS:
        raise ProblemError(404, f"no collection {cid!r}; choose one of {', '.join(COLLECTIONS)}")


def load_layer(services: Services, project_id: str, cid: str) -> gpd.GeoDataFrame:
    """The newest stored frame of a collection (empty before the first run)."""
    _check(cid)
    result = None
    if cid in _SITING_LAYERS:
        result = services.latest_result(project_id, "siting")
        if result is None and cid == "sites":
            result = services.latest_result(project_id, "whatif")
    else:
        result = services.latest_result(project_id, "coverage")
    if result is None:
        return gpd.GeoDataFrame(geometry=[], crs=4326)
    return services.store.read_layer(result["path"], cid)


@router.get("", response_model=Collections, dependencies=READ, responses=problems(401, 403, 404))
def list_collections(project: ProjectDep) -> Collections:
    """The layers of a project (empty until an analysis filled them)."""
    pid = project["id"]
    return Collections(collections=[_info(pid, cid) for cid in COLLECTIONS],
                       links=[Link(href=f"/projects/{pid}/collections", rel="self")])


@router.get("/{collection_id}", response_model=CollectionInfo, dependencies=READ,
            responses=problems(401, 403, 404))
def get_collection(project: ProjectDep, collection_id: CollectionId) -> CollectionInfo:
    """One collection's metadata."""
    _check(collection_id)
    return _info(project["id"], collection_id)


@router.get("/{collection_id}/items", dependencies=READ, responses={
    200: {"content": {"application/geo+json": {}}, "description": "GeoJSON FeatureCollection"},
    **problems(400, 401, 403, 404)})
def get_items(
    request: Request, project: ProjectDep, services: ServicesDep, collection_id: CollectionId,
    bbox: Annotated[str | None, Query(description="minLon,minLat,maxLon,maxLat (WGS-84)")] = None,
    limit: Annotated[int, Query(ge=1, le=10000)] = 1000,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
    zoom: Annotated[int | None, Query(ge=0, le=24, description="simplify for this zoom")] = None,
) -> JSONResponse:
    """Features of a collection; other parameters filter on properties (``?type=day_care``)."""
    frame = load_layer(services, project["id"], collection_id)
    props = {k: v for k, v in request.query_params.items() if k not in RESERVED}
    matched = filter_frame(frame, bbox=bbox, properties=props)
    query = {k: v for k, v in request.query_params.items() if k not in ("limit", "offset")}
    body = feature_collection(matched, limit=limit, offset=offset, zoom=zoom,
                              self_href=request.url.path, query=query)
    return JSONResponse(body, media_type="application/geo+json")
