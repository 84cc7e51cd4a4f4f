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
from typing import Any

import geopandas as gpd
from pydantic import BaseModel

from api.service.errors import ProblemError
from api.service.inputs import (
    BatchInputs,
    CoverageInputs,
    ProcessInputs,
    SitingInputs,
    WhatifInputs,
)
from api.service.store import Store
from planner.errors import InputDataError
from planner.io.catalogue import read_catalogue
from planner.io.osm import read_osm_file
from planner.params import (
    FACILITY_TYPES,
    CoverageParams,
    PlanParams,
    SnapParams,
    WalkProfile,
)
from planner.pipeline import PlanResult, run_plan
from planner.schema import PlanInputs

logger = logging.getLogger(__name__)
Progress = Callable[[int, str], None]

#: Pipeline step -> job progress percentage.
STEP_PROGRESS = {"inputs": 5, "network": 10, "snapping": 25, "travel": 40, "coverage": 65,
                 "catchments": 80, "writing": 90}


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
    Process("batch", "Batch over regions on Dask",
            "Cut the project's OSM file into regions (halo around each), run every region on the "
            "Dask cluster and merge the results as one run; per-region progress in the job.",
            BatchInputs, needs="api.batch.run.run_batch"),
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


#: A check run on each upload (its absolute path and row) before it is read.
InputCheck = Callable[[Path, dict[str, Any]], None]


def load_inputs(project: dict[str, Any], uploads: list[dict[str, Any]], store: Store,
                check: InputCheck | None = None) -> PlanInputs:
    """Read a project's inputs: the demo or its OSM file, then its registers and units files
    (each first passed to ``check``, e.g. the expansion and row limits)."""
    latest = {u["kind"]: u for u in sorted(uploads, key=lambda u: u["created_at"])}
    for row in latest.values():
        if check is not None and row["kind"] in ("osm", "facilities", "units"):
            check(store.absolute(row["path"]), row)
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
