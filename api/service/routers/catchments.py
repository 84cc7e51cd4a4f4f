"""One facility's walking catchments, built on demand (for cities with more facilities than the
analysis pre-builds, and for thresholds other than the profile's)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import geopandas as gpd
import numpy as np
import pandas as pd
from fastapi import APIRouter, Path, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from api.service.deps import READ, ProjectDep, ServicesDep
from api.service.errors import ProblemError
from api.service.parts import Services
from api.service.schemas import problems
from planner.catchments.polygons import CatchmentParams, build_catchments_of
from planner.params import BOUNDS
from planner.schema import FACILITY_ID, FACILITY_TYPE, WGS84

router = APIRouter(prefix="/projects/{project_id}/facilities", tags=["catchments"])
MAX_THRESHOLDS = 6


def _catchment(services: Services, project: dict[str, Any], facility_id: str,
               thresholds_min: list[float] | None) -> dict[str, Any]:
    plan = services.coverage_plan(project["id"])
    ids = plan.facilities[FACILITY_ID].astype(str).to_numpy()
    where = np.flatnonzero(ids == facility_id)
    if where.size == 0:
        raise ProblemError(404, f"facility {facility_id!r} is not in the project's latest "
                                "analysis; list them at collections/facilities/items")
    if plan.facility_snap is None:
        raise ProblemError(409, "the analysis kept no snap results; run the coverage job again")
    position = int(where[0])
    status = str(plan.facility_snap.status[position])
    if not plan.facility_snap.routable[position]:
        raise ProblemError(409, f"facility {facility_id!r} is not on the routed network "
                                f"(snap status {status}); fix its location to get a catchment")
    minutes = sorted(set(thresholds_min or plan.params.coverage.thresholds_min))
    built = build_catchments_of(plan.network, plan.facility_snap, np.array([position]),
                                tuple(60.0 * m for m in minutes), CatchmentParams())
    frame = gpd.GeoDataFrame(pd.DataFrame({
        "facility_id": facility_id, "type": str(plan.facilities[FACILITY_TYPE].iat[position]),
        "threshold_min": [t_s / 60.0 for _, t_s, _, _ in built],
        "reached_length_m": [round(length, 1) for _, _, _, length in built]}),
        geometry=[poly for _, _, poly, _ in built], crs=plan.network.crs).to_crs(WGS84)
    collection: dict[str, Any] = json.loads(frame.to_json(na="null", drop_id=True))
    collection["numberMatched"] = collection["numberReturned"] = len(frame)
    return collection


@router.get("/{facility_id}/catchment", dependencies=READ, responses={
    200: {"content": {"application/geo+json": {}}, "description": "GeoJSON FeatureCollection"},
    **problems(400, 401, 403, 404, 409)})
async def get_catchment(
    project: ProjectDep, services: ServicesDep,
    facility_id: Annotated[str, Path(max_length=200)],
    threshold_min: Annotated[list[float] | None, Query(
        max_length=MAX_THRESHOLDS, description="walking minutes (repeatable, 1-120 as in "
        "planner.params.BOUNDS); default the project's catchment thresholds")] = None,
) -> JSONResponse:
    """A facility's catchment polygon per threshold: the street it reaches within the time,
    buffered 50 m (WGS-84), with the reached street length. Built when asked."""
    low, high = BOUNDS["threshold_min"]
    for minutes in threshold_min or []:
        if not low <= minutes <= high:
            raise ProblemError(400, f"threshold_min={minutes:g} is out of range; use "
                                    f"{low:g}-{high:g} minutes")
    body = await run_in_threadpool(_catchment, services, project, facility_id, threshold_min)
    return JSONResponse(body, media_type="application/geo+json")
