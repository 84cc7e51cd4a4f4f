"""Analysis processes (coverage, siting, what-if): their inputs, cache keys and execution."""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import inspect
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeAlias

import geopandas as gpd
from pydantic import BaseModel, ConfigDict, Field, field_validator

from api.service.errors import ProblemError
from api.service.store import Store
from planner.errors import InputDataError
from planner.io.catalogue import read_catalogue
from planner.io.osm import read_osm_file
from planner.params import FACILITY_TYPES, CoverageParams, PlanParams, SnapParams, WalkProfile
from planner.pipeline import PlanResult, run_plan
from planner.schema import PlanInputs

logger = logging.getLogger(__name__)
Progress = Callable[[int, str], None]

#: Pipeline step -> job progress percentage.
STEP_PROGRESS = {"inputs": 5, "network": 10, "snapping": 25, "travel": 40, "coverage": 65,
                 "catchments": 80, "writing": 90}


class CoverageInputs(BaseModel):
    """Inputs of the ``coverage`` process (defaults: the national older-adult profile)."""

    model_config = ConfigDict(extra="forbid")

    project: str = Field(min_length=1, max_length=40, description="Project id")
    walk_preset: str | None = Field(None, description="Walking-speed preset, e.g. older_adult")
    speed_m_s: float | None = Field(None, gt=0, le=3, allow_inf_nan=False)
    thresholds_min: list[float] | None = Field(None, min_length=1, max_length=6)
    target_share: float | None = Field(None, gt=0, le=1, allow_inf_nan=False)
    max_snap_m: float | None = Field(None, gt=0, le=5000, allow_inf_nan=False)
    required_types: list[str] | None = Field(None, min_length=1, max_length=6)


class SitingInputs(BaseModel):
    """Inputs of the ``siting`` process (passed on to ``planner.siting.propose_sites``)."""

    model_config = ConfigDict(extra="allow")

    project: str = Field(min_length=1, max_length=40)
    facility_type: str = "day_care"
    k: int | None = Field(3, ge=1, le=500)
    cover: bool = False
    method: Literal["auto", "exact", "greedy"] = "auto"
    scenario: str | None = Field(None, max_length=200)


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
        if value not in FACILITY_TYPES:
            raise ValueError(f"unknown facility type {value!r}; use one of "
                             f"{', '.join(FACILITY_TYPES)}")
        return value


class WhatifMove(_WhatifFacility):
    """An existing facility moved to a new WGS-84 lon/lat."""


class WhatifInputs(BaseModel):
    """Inputs of the ``whatif`` process (add/move/remove facilities; ``planner.whatif``)."""

    model_config = ConfigDict(extra="forbid")

    project: str = Field(min_length=1, max_length=40)
    add: list[WhatifAdd] = Field(default_factory=list, max_length=1000)
    remove: list[str] = Field(default_factory=list, max_length=1000)
    move: list[WhatifMove] = Field(default_factory=list, max_length=1000)
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


#: The inputs of any process (each has the ``project`` it runs on).
ProcessInputs: TypeAlias = CoverageInputs | SitingInputs | WhatifInputs


@dataclass(frozen=True, slots=True)
class Process:
    """One executable process."""

    id: str
    title: str
    description: str
    inputs: type[ProcessInputs]
    needs: str = ""


PROCESSES: dict[str, Process] = {p.id: p for p in (
    Process("coverage", "Walking coverage and gaps",
            "Run the whole analysis (run_plan): catchments, coverage per unit, ranked gaps.",
            CoverageInputs),
    Process("siting", "Site new facilities",
            "Choose k new sites of a type maximising covered older adults (planner.siting).",
            SitingInputs, needs="planner.siting.propose.propose_sites"),
    Process("whatif", "What-if scenario",
            "Add, move or remove facilities and get the per-unit coverage change "
            "(planner.whatif, on the project's latest coverage run).",
            WhatifInputs, needs="planner.whatif.apply_scenario"),
)}


@dataclass(slots=True)
class Outcome:
    """What a process produced, ready to be stored."""

    frames: dict[str, gpd.GeoDataFrame]
    summary: dict[str, Any]
    plan: PlanResult | None = None
    run_writer: Callable[[Path], None] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def find_hook(dotted: str) -> Callable[..., Any] | None:
    """The function named ``module.attr`` if it exists in this build, else ``None``."""
    module_name, _, attr = dotted.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return None
    hook = getattr(module, attr, None)
    return hook if callable(hook) else None


def require_process(process_id: str) -> Process:
    """The process, or a 404 (unknown) / 501 (its planner function is missing) problem."""
    process = PROCESSES.get(process_id)
    if process is None:
        raise ProblemError(404, f"no process {process_id!r}; choose one of {', '.join(PROCESSES)}")
    if process.needs and find_hook(process.needs) is None:
        raise ProblemError(501, f"process {process_id!r} needs {process.needs}, which this build "
                              "does not have yet; the coverage process is available",
                         missing=process.needs)
    return process


def build_params(inputs: CoverageInputs) -> PlanParams:
    """PlanParams from coverage inputs (unset fields keep the documented defaults)."""
    base = PlanParams()
    walk = WalkProfile.from_preset(inputs.walk_preset) if inputs.walk_preset else base.walk
    if inputs.speed_m_s is not None:
        walk = dataclasses.replace(walk, speed_m_s=inputs.speed_m_s, name="custom")
    unknown = sorted(set(inputs.required_types or ()) - set(FACILITY_TYPES))
    if unknown:
        msg = f"unknown required_types {unknown}; use some of {', '.join(FACILITY_TYPES)}"
        raise InputDataError(msg)
    cov = base.coverage
    coverage = CoverageParams(
        thresholds_min=tuple(inputs.thresholds_min or cov.thresholds_min),
        required_types=tuple(inputs.required_types or cov.required_types),
        target_share=inputs.target_share or cov.target_share)
    snap = SnapParams(inputs.max_snap_m) if inputs.max_snap_m else base.snap
    return dataclasses.replace(base, walk=walk, coverage=coverage, snap=snap)


def cache_key(process_id: str, inputs: BaseModel, sources: list[str]) -> str:
    """sha256 over the process, its parameters (minus the project) and the input checksums."""
    params = inputs.model_dump(exclude={"project", "scenario", "name"}, exclude_none=True)
    text = json.dumps({"process": process_id, "params": params, "sources": sorted(sources)},
                      sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def demo_checksum() -> str:
    """Checksum of the synthetic demo's source code (changes when the demo does)."""
    module = importlib.import_module("planner.synthetic.district")
    return hashlib.sha256(inspect.getsource(module).encode("utf-8")).hexdigest()


def require_demo() -> Callable[..., Any]:
    """planner.synthetic.district.build_demo_district, or a 501 problem when this build lacks it."""
    hook = find_hook("planner.synthetic.district.build_demo_district")
    if hook is None:
        raise ProblemError(501, "the demo project needs planner.synthetic.district.build_demo_district, "
                              "which this build does not have yet",
                         missing="planner.synthetic.district.build_demo_district")
    return hook


def build_demo_inputs() -> PlanInputs:
    """The synthetic demo district (501 when planner.synthetic.district is not in this build)."""
    inputs = require_demo()()
    if not isinstance(inputs, PlanInputs):
        raise ProblemError(501, "planner.synthetic.district.build_demo_district did not return PlanInputs")
    return inputs


def load_inputs(project: dict[str, Any], uploads: list[dict[str, Any]], store: Store) -> PlanInputs:
    """Read a project's inputs: the demo or its OSM file, then its registers and units files."""
    latest = {u["kind"]: u for u in sorted(uploads, key=lambda u: u["created_at"])}
    catalogue = read_catalogue()
    sources: dict[str, str] = {}
    if project["source"] == "demo":
        base = build_demo_inputs()
        sources.update(base.sources)
    else:
        osm = latest.get("osm")
        if osm is None:
            raise ProblemError(409, f"project {project['id']} has no OSM file; upload one")
        extract = read_osm_file(store.absolute(osm["path"]), catalogue)
        pois = extract.pois.drop(columns=["osm_tags"], errors="ignore")
        base = PlanInputs(extract.network, pois, None, extract.residential, extract.study_area,
                          label=project["name"])
        sources["osm"] = osm["sha256"]
    facilities, units = base.facilities, base.units
    if "facilities" in latest:
        row = latest["facilities"]
        facilities = _read_register(store.absolute(row["path"]), catalogue, row["coords"],
                                    base.study_area)
        sources["facilities"] = row["sha256"]
    if "units" in latest:
        row = latest["units"]
        units = _read_units(store.absolute(row["path"]), row["coords"])
        sources["units"] = row["sha256"]
    return dataclasses.replace(base, facilities=facilities, units=units, sources=sources)


def _read_register(path: Path, catalogue: Any, coords: str, area: Any) -> gpd.GeoDataFrame:
    from planner.io.registers import read_facility_register

    read = read_facility_register(path, catalogue=catalogue, coords=coords, study_area=area)
    return read.facilities


def _read_units(path: Path, coords: str) -> gpd.GeoDataFrame:
    from planner.io.units import read_units

    return read_units(path, coords=coords).units


def compute_plan(inputs: PlanInputs, params: PlanParams, progress: Progress) -> PlanResult:
    """run_plan with progress reported as percentages."""
    def report(step: str) -> None:
        progress(STEP_PROGRESS.get(step, 0), step)

    return run_plan(inputs, params, progress=report)
