"""Inputs of the analysis processes (pydantic models, the JSON Schema the API publishes); every
numeric bound comes from ``planner.params.BOUNDS``, every model refuses unknown keys."""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeAlias

import geopandas as gpd
from pydantic import BaseModel, ConfigDict, Field, field_validator

from planner.params import BOUNDS, FACILITY_TYPES

#: Walking minutes within the shared bounds (planner.params.BOUNDS).
Minutes = Annotated[float, Field(ge=BOUNDS["threshold_min"][0], le=BOUNDS["threshold_min"][1],
                                 allow_inf_nan=False)]


class CoverageInputs(BaseModel):
    """Inputs of the ``coverage`` process (defaults: the national older-adult profile)."""

    model_config = ConfigDict(extra="forbid")

    project: str = Field(min_length=1, max_length=40, description="Project id")
    walk_preset: str | None = Field(None, description="Walking-speed preset, e.g. older_adult")
    speed_m_s: float | None = Field(None, ge=BOUNDS["speed_m_s"][0], le=BOUNDS["speed_m_s"][1],
                                    allow_inf_nan=False)
    thresholds_min: list[Minutes] | None = Field(None, min_length=1, max_length=6)
    target_share: float | None = Field(None, gt=BOUNDS["target_share"][0],
                                       le=BOUNDS["target_share"][1], allow_inf_nan=False)
    max_snap_m: float | None = Field(None, ge=BOUNDS["max_snap_m"][0], le=BOUNDS["max_snap_m"][1],
                                     allow_inf_nan=False)
    required_types: list[str] | None = Field(None, min_length=1, max_length=6)


class SiteCandidate(BaseModel):
    """A candidate site (WGS-84 lon/lat) with its optional id, capacity and relative cost."""

    model_config = ConfigDict(extra="forbid")

    candidate_id: str | None = Field(None, min_length=1, max_length=80)
    lon: float = Field(ge=-180, le=180, allow_inf_nan=False)
    lat: float = Field(ge=-90, le=90, allow_inf_nan=False)
    capacity: float | None = Field(None, allow_inf_nan=False, ge=BOUNDS["site_capacity"][0],
                                   le=BOUNDS["site_capacity"][1])
    cost: float | None = Field(None, allow_inf_nan=False, ge=BOUNDS["site_cost"][0],
                               le=BOUNDS["site_cost"][1])


class SitingInputs(BaseModel):
    """Inputs of the ``siting`` process (passed on to ``planner.siting.propose_sites``), each
    within the shared bounds (planner.params.BOUNDS); unknown keys are refused."""

    model_config = ConfigDict(extra="forbid")

    project: str = Field(min_length=1, max_length=40)
    facility_type: str = Field("day_care", json_schema_extra={"enum": list(FACILITY_TYPES)})
    k: int | None = Field(3, ge=BOUNDS["sites_k"][0], le=BOUNDS["sites_k"][1])
    cover: bool = False
    method: Literal["auto", "exact", "greedy"] = "auto"
    time_limit_s: float = Field(60.0, allow_inf_nan=False, ge=BOUNDS["solver_time_limit_s"][0],
                                le=BOUNDS["solver_time_limit_s"][1])
    candidates: list[SiteCandidate] | None = Field(
        None, min_length=1, max_length=int(BOUNDS["candidate_sites"][1]),
        description="candidate sites; default generated in the gap units (150 m spacing)")
    scenario: str | None = Field(None, max_length=200)

    @field_validator("facility_type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        return _check_type(value)

    def to_candidates(self) -> gpd.GeoDataFrame | None:
        """The given candidates as WGS-84 points (``None``: let the planner generate them)."""
        if not self.candidates:
            return None
        from shapely.geometry import Point

        rows = [c.model_dump() for c in self.candidates]
        frame = gpd.GeoDataFrame(
            {"capacity": [r["capacity"] for r in rows],
             "cost": [1.0 if r["cost"] is None else r["cost"] for r in rows]},
            geometry=[Point(r["lon"], r["lat"]) for r in rows], crs=4326)
        if all(r["candidate_id"] for r in rows):
            frame.insert(0, "candidate_id", [r["candidate_id"] for r in rows])
        return frame


def _check_type(value: str) -> str:
    if value not in FACILITY_TYPES:
        raise ValueError(f"unknown facility type {value!r}; use one of "
                         f"{', '.join(FACILITY_TYPES)}")
    return value


class _WhatifFacility(BaseModel):
    model_config = ConfigDict(extra="forbid")

    facility_id: str = Field(min_length=1, max_length=80)
    lon: float = Field(ge=-180, le=180, allow_inf_nan=False, description="WGS-84 longitude")
    lat: float = Field(ge=-90, le=90, allow_inf_nan=False, description="WGS-84 latitude")


class WhatifAdd(_WhatifFacility):
    """A facility to add (WGS-84 lon/lat)."""

    name: str | None = Field(None, max_length=200)
    type: str = Field(json_schema_extra={"enum": list(FACILITY_TYPES)})
    capacity: float | None = Field(None, ge=0, allow_inf_nan=False)

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        return _check_type(value)


class WhatifMove(_WhatifFacility):
    """An existing facility moved to a new WGS-84 lon/lat."""


_MAX_CHANGES = int(BOUNDS["scenario_changes"][1])


class WhatifInputs(BaseModel):
    """Inputs of the ``whatif`` process (add/move/remove facilities; ``planner.whatif``)."""

    model_config = ConfigDict(extra="forbid")

    project: str = Field(min_length=1, max_length=40)
    add: list[WhatifAdd] = Field(default_factory=list, max_length=_MAX_CHANGES)
    remove: list[str] = Field(default_factory=list, max_length=_MAX_CHANGES)
    move: list[WhatifMove] = Field(default_factory=list, max_length=_MAX_CHANGES)
    name: str | None = Field(None, max_length=200, description="Scenario name (saved if given)")

    def to_scenario(self) -> Any:
        """The :class:`planner.whatif.Scenario` of these inputs."""
        from planner.whatif import FacilityChange, Scenario

        nan = float("nan")
        return Scenario(
            self.name or "what-if",
            add=tuple(FacilityChange(a.facility_id, a.lon, a.lat, a.type,
                                     nan if a.capacity is None else a.capacity) for a in self.add),
            move=tuple(FacilityChange(m.facility_id, m.lon, m.lat) for m in self.move),
            remove=tuple(self.remove))


class BatchInputs(CoverageInputs):
    """Inputs of the ``batch`` process: the project's OSM file (and register, units) cut into
    the given regions and run on the configured Dask cluster (``CAREPLAN_DASK_SCHEDULER``, else
    a local cluster of ``workers``)."""

    regions: dict[str, Any] = Field(description="GeoJSON FeatureCollection of region polygons "
                                    "(WGS-84) with a region id property")
    region_id_property: str = Field("region_id", min_length=1, max_length=80)
    horizon_min: float | None = Field(None, gt=0, le=240, allow_inf_nan=False)
    workers: int | None = Field(None, ge=1, le=64, description="local cluster workers")

    @field_validator("regions")
    @classmethod
    def _feature_collection(cls, value: dict[str, Any]) -> dict[str, Any]:
        features = value.get("features")
        if value.get("type") != "FeatureCollection" or not isinstance(features, list):
            raise ValueError("regions must be a GeoJSON FeatureCollection")
        if not 1 <= len(features) <= 10_000:
            raise ValueError(f"regions has {len(features)} features; give 1 to 10000")
        return value


#: The inputs of any process (each has the ``project`` it runs on).
ProcessInputs: TypeAlias = CoverageInputs | SitingInputs | WhatifInputs | BatchInputs
