"""Run a process on a project: load inputs, compute, turn results into layers and summaries."""

from __future__ import annotations

import json
import logging
import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd

from api.service.errors import ProblemError
from api.service.inputs import (
    BatchInputs,
    CoverageInputs,
    SitingInputs,
)
from api.service.processes import (
    InputCheck,
    Outcome,
    Progress,
    build_params,
    compute_plan,
    find_hook,
    load_inputs,
)
from api.service.store import Store
from planner.pipeline import PlanResult
from planner.schema import FACILITY_ID

logger = logging.getLogger(__name__)

#: Collections every project offers (empty until a run fills them).
COLLECTIONS: dict[str, str] = {
    "facilities": "Elderly-care facilities by type (points)",
    "units": "Communities/villages with coverage shares per facility type",
    "catchments": "Walking catchments per facility and threshold",
    "dissolved": "Catchments dissolved per facility type and threshold",
    "gaps": "Ranked coverage gaps (units under target)",
    "candidates": "Candidate sites considered by the last siting run",
    "sites": "Proposed sites of the last siting run",
}


def build_frames(plan: PlanResult) -> dict[str, gpd.GeoDataFrame]:
    """WGS-84 layer frames of a plan (maps.geojson.layer_frames, or a minimal fallback)."""
    hook = find_hook("maps.geojson.layer_frames")
    if hook is not None:
        frames = dict(hook(plan))
    else:
        frames = {"facilities": plan.facilities, "units": plan.units, "catchments": plan.catchments,
                  "dissolved": plan.dissolved,
                  "gaps": plan.units[["unit_id", "geometry"]].merge(plan.gaps, on="unit_id")}
    frames.pop("demand", None)
    return {name: frame.to_crs(4326) for name, frame in frames.items() if name in COLLECTIONS}


def _run_writer(plan: PlanResult) -> Callable[[Path], None] | None:
    writer = find_hook("planner.io.writers.write_run")
    if writer is None:
        return None
    extra: dict[str, Callable[[Path], None]] = {}
    compose = find_hook("maps.compose.build_care_map")
    save = find_hook("maps.assets.save_page")
    if compose is not None and save is not None:  # inlined assets: the download works offline
        extra["care_map.html"] = lambda target: save(compose(plan), target)
    return lambda folder: writer(plan, folder, extra_files=extra) if extra else writer(plan, folder)


class PlanCache:
    """In-memory LRU of PlanResults by result id, bounded by bytes (the size of each plan's stored
    pickle stands for its size in memory); plans are loaded from their result folder on a miss.
    """

    def __init__(self, max_bytes: int = 1 << 30) -> None:
        self.max_bytes = max_bytes
        self._plans: OrderedDict[str, tuple[PlanResult, int]] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def nbytes(self) -> int:
        """Bytes the cached plans stand for."""
        with self._lock:
            return sum(size for _, size in self._plans.values())

    def put(self, result_id: str, plan: PlanResult, nbytes: int) -> None:
        """Remember a plan of ``nbytes``; evict the least recently used beyond the budget (the
        newest plan stays even when it alone exceeds it)."""
        with self._lock:
            self._plans[result_id] = (plan, nbytes)
            self._plans.move_to_end(result_id)
            total = sum(size for _, size in self._plans.values())
            while total > self.max_bytes and len(self._plans) > 1:
                _, (_, size) = self._plans.popitem(last=False)
                total -= size

    def get(self, result_id: str) -> PlanResult | None:
        """A remembered plan, or ``None``."""
        with self._lock:
            entry = self._plans.get(result_id)
            if entry is None:
                return None
            self._plans.move_to_end(result_id)
            return entry[0]

    def forget(self, result_ids: list[str]) -> None:
        """Drop plans (their project was deleted)."""
        with self._lock:
            for rid in result_ids:
                self._plans.pop(rid, None)


def run_coverage(inputs: CoverageInputs, project: dict[str, Any], uploads: list[dict[str, Any]],
                 store: Store, progress: Progress, check: InputCheck | None = None) -> Outcome:
    """The coverage process: run_plan on the project's inputs (each passed to ``check`` first)."""
    progress(5, "inputs")
    params = build_params(inputs)
    plan_inputs = load_inputs(project, uploads, store, check)
    progress(8, "inputs")
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        plan = compute_plan(plan_inputs, params, progress)
    progress(90, "writing")
    summary = dict(plan.summary)
    summary["warnings"] = list(plan.warnings.entries)
    return Outcome(build_frames(plan), summary, plan, _run_writer(plan))



def run_siting(process_id: str, inputs: SitingInputs, plan: PlanResult, hook: Callable[..., Any],
               progress: Progress) -> Outcome:
    """Siting / what-if through a planner.siting entry point taking a PlanResult.

    The entry point returns an object with ``sites`` (and optionally ``candidates``) frames and a
    ``summary`` dict (or ``to_dict()``); proposed sites become the ``sites`` collection.
    """
    progress(50, process_id)
    params = inputs.model_dump(exclude={"project", "scenario", "candidates"}, exclude_none=True)
    candidates = inputs.to_candidates()
    if candidates is not None:
        params["candidates"] = candidates
    result = hook(plan, **params)
    frames: dict[str, gpd.GeoDataFrame] = {}
    for name in ("sites", "candidates"):
        frame = getattr(result, name, None)
        if isinstance(frame, gpd.GeoDataFrame):
            frames[name] = frame.to_crs(4326) if frame.crs is not None else frame
    summary: dict[str, Any] = {"process": process_id}
    for name in getattr(result, "__slots__", ()) or vars(result):
        value = getattr(result, name, None)
        if isinstance(value, (str, int, float, bool)):
            summary[name] = value
    return Outcome(frames, summary)


#: Columns of the what-if per-unit change table (in this order).
CHANGE_COLUMNS = ["unit_id", "facility_type", "older_pop", "covered_pop_before",
                  "covered_pop_after", "delta_pop", "covered_share_before",
                  "covered_share_after", "delta_share"]


def _headline(change: Any, target: float) -> dict[str, dict[str, Any]]:
    """Per facility type: covered older adults and units at target, before and after."""
    out: dict[str, dict[str, Any]] = {}
    for ftype, part in change.groupby("facility_type", sort=True):
        older = float(part["older_pop"].sum())
        before = float(part["covered_pop_before"].sum())
        after = float(part["covered_pop_after"].sum())
        out[str(ftype)] = {
            "older_pop": older, "covered_pop_before": before, "covered_pop_after": after,
            "delta_pop": after - before,
            "covered_share_before": before / older if older else None,
            "covered_share_after": after / older if older else None,
            "delta_share": (after - before) / older if older else None,
            "units_at_target_before": int((part["covered_share_before"] >= target).sum()),
            "units_at_target_after": int((part["covered_share_after"] >= target).sum()),
            "units_improved": int((part["delta_pop"] > 1e-9).sum()),
            "units_worse": int((part["delta_pop"] < -1e-9).sum())}
    return out


def run_whatif(inputs: Any, plan: PlanResult, progress: Progress) -> Outcome:
    """The what-if process: planner.whatif.apply_scenario on the latest coverage plan."""
    from planner.io.scenarios import write_json, write_scenario, write_table
    from planner.whatif import apply_scenario, state_from_result

    progress(20, "whatif")
    scenario = inputs.to_scenario()
    result = apply_scenario(state_from_result(plan), scenario)
    progress(80, "whatif")
    change = result.change.reindex(columns=CHANGE_COLUMNS)
    change["unit_id"] = change["unit_id"].astype(str)
    headline = _headline(change, plan.params.coverage.target_share)
    records = json.loads(change.to_json(orient="records"))
    summary: dict[str, Any] = {
        "process": "whatif", "scenario": scenario.name, "base_facilities": len(plan.facilities),
        "facilities": len(result.state.facilities), "added": len(scenario.add),
        "moved": len(scenario.move), "removed": len(scenario.remove),
        "searched_nodes": result.searched_nodes, "headline": headline, "change": records}
    fresh = [*(a.facility_id for a in scenario.add), *(m.facility_id for m in scenario.move)]
    table = result.state.facilities
    sites = table[table[FACILITY_ID].astype(str).isin(fresh)].copy()
    names = {a.facility_id: a.name for a in inputs.add if a.name}
    if names:
        sites["name"] = [names.get(str(f), n) for f, n in zip(sites[FACILITY_ID], sites["name"],
                                                                strict=True)]
    frames = {"sites": gpd.GeoDataFrame(sites, geometry="geometry", crs=table.crs).to_crs(4326)}

    def write(folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        write_scenario(scenario, folder / "scenario.json")
        write_table(change, folder / "whatif_change.csv")
        write_json({k: v for k, v in summary.items() if k != "change"}, folder / "whatif.json")
    return Outcome(frames, summary, run_writer=write)


def run_batch_process(inputs: BatchInputs, project: dict[str, Any], uploads: list[dict[str, Any]],
                      store: Store, progress: Progress, scratch: Path) -> Outcome:
    """The batch process: ``api.batch.run.run_batch`` with per-region progress in the job; its
    region parts and merged run go to ``scratch`` (removed by the job runner in any case)."""
    import shutil

    from api.batch.config import BatchConfig
    from api.batch.run import default_scheduler, run_batch
    from planner.io.rules import read_profile

    latest = {u["kind"]: u for u in sorted(uploads, key=lambda u: u["created_at"])}
    if "osm" not in latest:
        raise ProblemError(409, f"project {project['id']} has no OSM file; the batch process "
                                "needs one (upload kind osm)")
    progress(2, "cutting regions")
    work = scratch
    work.mkdir(parents=True, exist_ok=True)
    regions = gpd.GeoDataFrame.from_features(inputs.regions["features"], crs=4326)
    if inputs.region_id_property not in regions.columns:
        raise ProblemError(422, f"regions lack the property {inputs.region_id_property!r}; "
                                "set region_id_property")
    regions.to_file(work / "regions.geojson", driver="GeoJSON", engine="pyogrio")

    def path(kind: str) -> Path | None:
        return store.absolute(latest[kind]["path"]) if kind in latest else None

    cfg = BatchConfig(osm=store.absolute(latest["osm"]["path"]), regions=work / "regions.geojson",
                      out=str(work / "run"), params=build_params(inputs),
                      profile=read_profile("national"), region_id_column=inputs.region_id_property,
                      facilities=path("facilities"), units=path("units"),
                      coords=latest.get("facilities", {}).get("coords", "wgs84"),
                      units_coords=latest.get("units", {}).get("coords", "wgs84"),
                      scheduler=default_scheduler(), workers=inputs.workers or 2,
                      horizon_min=inputs.horizon_min)

    def on_region(status: dict[str, Any], done: int, total: int) -> None:
        progress(5 + int(90 * done / total),
                 f"region {status['region']} {status['status']} ({done}/{total})")

    summary = run_batch(cfg, on_region=on_region)
    units = gpd.read_file(work / "run" / "careplan.gpkg", layer="units") if summary["units"] else \
        gpd.GeoDataFrame(geometry=[], crs=4326)

    def write(folder: Path) -> None:
        shutil.copytree(work / "run", folder, ignore=shutil.ignore_patterns("_parts"),
                        dirs_exist_ok=True)
        shutil.rmtree(work, ignore_errors=True)
    return Outcome({"units": units}, {"process": "batch", **summary}, run_writer=write)
