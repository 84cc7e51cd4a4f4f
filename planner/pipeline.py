"""run_plan(inputs, params) -> PlanResult: composes the analysis steps in order, no I/O."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from planner.catchments.polygons import (
    CatchmentParams,
    build_dissolved_catchments,
    build_facility_catchments,
)
from planner.coverage.gaps import find_gaps
from planner.coverage.measure import coverage_from_arrays, threshold_coverage_from_arrays
from planner.coverage.population_demand import demand_from_inputs, residential_units
from planner.coverage.supply import compute_supply_demand
from planner.coverage.tables import index_demand
from planner.facilities import count_by_type
from planner.network.graph import WalkNetwork, build_walk_network
from planner.network.snap import DISCONNECTED, NOT_SNAPPED, SNAPPED, EdgeIndex, SnapResult
from planner.params import FACILITY_TYPES, PlanParams
from planner.routing.forkpool import fork_map
from planner.routing.terrain_step import add_flat_minutes, apply_dem
from planner.routing.travel import NearestTimes, compute_source_reach
from planner.routing.type_times import all_type_times, start_types, type_times_at
from planner.schema import (
    FACILITY_ID,
    FACILITY_TYPE,
    PlanInputs,
    validate_facilities,
    validate_units,
)
from planner.warnings_log import WarningLog

logger = logging.getLogger(__name__)
#: Threads that measure coverage types at once (:func:`_coverage_tables`).
COVERAGE_THREADS = min(2, os.cpu_count() or 1)
Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class PlanResult:
    """Everything one analysis run computed (geometry in the network's projected CRS).

    Attributes
    ----------
    facilities
        Input facilities + ``snap_edge``, ``snap_access_m``, ``snap_status``.
    units
        Units with ``older_pop`` and ``settlement``.
    demand
        Demand points + per type ``time_s`` in ``demand_times`` (long frame).
    coverage
        Per unit and type at the unit's threshold
        (see ``planner.coverage.measure.COVERAGE_COLUMNS``).
    threshold_coverage
        Per unit, type and catchment threshold.
    gaps
        Ranked gaps (see ``planner.coverage.gaps.GAP_COLUMNS``).
    catchments
        Per facility and threshold: ``facility_id, type, threshold_min, reached_length_m``, polygon.
    dissolved
        Per type and threshold: ``type, threshold_min``, polygon (raster-built).
    residential_coverage
        With a population raster and no units: the coverage table per OSM residential polygon.
    """

    params: PlanParams
    network: WalkNetwork
    facilities: gpd.GeoDataFrame
    units: gpd.GeoDataFrame
    demand: gpd.GeoDataFrame
    demand_times: pd.DataFrame
    coverage: pd.DataFrame
    threshold_coverage: pd.DataFrame
    gaps: pd.DataFrame
    catchments: gpd.GeoDataFrame
    dissolved: gpd.GeoDataFrame
    warnings: WarningLog
    summary: dict[str, Any]
    nearest: dict[str, NearestTimes] = field(default_factory=dict)
    facility_snap: SnapResult | None = None
    demand_snap: SnapResult | None = None
    access: pd.DataFrame = field(default_factory=pd.DataFrame)
    residential_coverage: pd.DataFrame = field(default_factory=pd.DataFrame)


def _snap_frame(index: EdgeIndex, frame: gpd.GeoDataFrame, max_snap_m: float) -> SnapResult:
    return index.snap(frame.geometry.x.to_numpy(), frame.geometry.y.to_numpy(), max_snap_m)


def _status_column(status: np.ndarray) -> pd.Series:
    """The snap status per point as a string column, taken from its three values (not
    converted from 800k Python strings)."""
    values = np.array([SNAPPED, NOT_SNAPPED, DISCONNECTED], dtype=object)
    code = np.where(status == NOT_SNAPPED, 1, np.where(status == DISCONNECTED, 2, 0))
    if not np.array_equal(values[code], status):  # pragma: no cover - a fourth status
        return pd.Series(status)
    return pd.Series(pd.array(values, dtype="str")).take(code).reset_index(drop=True)


def _warn_snaps(log: WarningLog, what: str, snap: SnapResult, max_snap_m: float,
                pop: np.ndarray | None = None) -> None:
    for status, text in ((NOT_SNAPPED, f"too far from any street (more than {max_snap_m:.0f} m "
                                       "from any walkable street)"),
                         (DISCONNECTED, "on a part of the network cut off from the main part")):
        hit = snap.status == status
        if hit.any():
            extra = f" ({pop[hit].sum():.0f} older adults)" if pop is not None else ""
            label = what.replace("_", " ")
            log.add(f"{what}_{status}", int(hit.sum()), f"{hit.sum()} {label} {text}{extra}")


def run_plan(inputs: PlanInputs, params: PlanParams, *, network: WalkNetwork | None = None,
             catchment_params: CatchmentParams | None = None, max_catchment_facilities: int = 2000,
             build_dissolved: bool = True, compute_access: bool = True,
             horizon_s: float | None = None, progress: Progress | None = None) -> PlanResult:
    """Run the whole analysis on loaded inputs.

    Parameters
    ----------
    inputs
        Network, facilities, units and residential areas (WGS-84).
    params
        Walk profile, thresholds, snapping and demand parameters.
    network
        A prepared network (e.g. from the cache); built from ``inputs.network`` when ``None``.
    catchment_params
        Polygon buffer and raster cell.
    max_catchment_facilities
        Per-facility polygons are built when there are at most this many facilities (they can
        always be built on demand).
    build_dissolved
        Build the dissolved polygons per type and threshold (default True).
    compute_access
        Compute the E2SFCA supply-demand ratio per unit for types with capacity (default True).
    horizon_s
        Demand-point times beyond this are reported as not reached (``inf``, no facility). A
        batch region sets it to what its halo guarantees exact; ``None`` (default) keeps all.
    progress
        Called with a step name as each step starts.

    Raises
    ------
    InputDataError
        Invalid facilities or units.
    """
    step = progress or (lambda name: None)
    timings: dict[str, float] = {}
    clock = time.perf_counter()
    cparams = catchment_params or CatchmentParams()
    log = WarningLog()
    facilities = validate_facilities(inputs.facilities)
    units_in = validate_units(inputs.units) if inputs.units is not None else None
    step("network")
    network = network or build_walk_network(inputs.network, params.walk)
    flat_net, terrain = network, None
    if inputs.dem is not None:
        network, terrain = apply_dem(network, inputs.dem, params.walk, log)
    timings["network_s"] = time.perf_counter() - clock
    step("snapping")
    index = EdgeIndex(network)
    fac = facilities.to_crs(network.crs).reset_index(drop=True)
    fsnap = _snap_frame(index, fac, params.snap.max_snap_m)
    fac["snap_edge"], fac["snap_access_m"] = fsnap.edge, fsnap.access_m
    fac["snap_status"] = fsnap.status
    early = start_types(network, fac, fsnap, cparams.workers)  # 4 of 6 types, meanwhile
    try:
        demand_clock = time.perf_counter()
        demand_res, pop_info = demand_from_inputs(inputs, units_in, params.demand, network.crs,
                                                  log)
        demand = demand_res.points
        timings["demand_s"] = time.perf_counter() - demand_clock
        _warn_snaps(log, "facilities", fsnap, params.snap.max_snap_m)
        dsnap = _snap_frame(index, demand, params.snap.max_snap_m)
        demand["status"] = _status_column(dsnap.status)
        _warn_snaps(log, "demand_points" if pop_info is None else "populated_cells", dsnap,
                    params.snap.max_snap_m, demand["older_pop"].to_numpy())
        if demand_res.assumed_density:
            log.add("assumed_density", len(demand_res.units), "NO UNITS FILE: older adults "
                    f"ASSUMED at {params.demand.default_older_per_km2:.0f} per km2 of "
                    "residential land; give --units for real figures")
        timings["snap_s"] = time.perf_counter() - clock - sum(timings.values())
        step("travel")
        nearest, point_times = all_type_times(network, fac, fsnap, dsnap, horizon_s, early)
    finally:
        early.cancel()
    demand_times = _demand_times(demand, fac, point_times)
    timings["travel_s"] = time.perf_counter() - clock - sum(timings.values())
    step("coverage")
    units = demand_res.units
    coverage, thr_cov = _coverage_tables(demand, fac, point_times, units, params)
    if terrain is not None:  # per unit: median minutes on flat ground beside the terrain ones
        flat_times = {t: type_times_at(flat_net, fac, fsnap, dsnap, t, horizon_s)[1:]
                      for t in FACILITY_TYPES}
        flat_cov = _coverage_tables(demand, fac, flat_times, units, params)[0]
        coverage = add_flat_minutes(coverage, flat_cov)
    res_cov = pd.DataFrame()
    if pop_info is not None and units_in is None:  # grid cells are the units; also per polygon
        res_units, res_demand, rows = residential_units(demand, inputs.residential, network.crs)
        if len(res_units):
            res_times = {t: (t_s[rows], pos[rows]) for t, (t_s, pos) in point_times.items()}
            res_cov = _coverage_tables(res_demand, fac, res_times, res_units, params)[0]
    share = (pop_info or {}).get("older_share")
    if share is not None:  # the assumed older-adult share, stated in the tables too
        coverage = coverage.assign(older_share_assumed=share)
        res_cov = res_cov.assign(older_share_assumed=share) if len(res_cov) else res_cov
    counts = count_by_type(fac[FACILITY_TYPE].tolist())
    gaps = find_gaps(coverage, required_types=params.coverage.required_types,
                     target_share=params.coverage.target_share, facility_counts=counts)
    access = (compute_supply_demand(network, fac, fsnap, demand, dsnap, params.access)
              if compute_access else pd.DataFrame())
    timings["coverage_s"] = time.perf_counter() - clock - sum(timings.values())
    step("catchments")
    dissolved = (_dissolved(network, fac, fsnap, nearest, params, cparams) if build_dissolved
                 else gpd.GeoDataFrame({"type": [], "threshold_min": []}, geometry=[],
                                       crs=network.crs))
    catch = _facility_catchments(network, fac, fsnap, params, cparams, max_catchment_facilities,
                                 log)
    timings["catchments_s"] = time.perf_counter() - clock - sum(timings.values())
    summary = _summary(inputs, params, network, fac, units, coverage, gaps, counts, timings,
                       demand_res.assumed_density)
    if pop_info is not None:
        far = dsnap.status == NOT_SNAPPED
        summary["population"] = {**pop_info, "too_far_from_street_cells": int(far.sum()),
                                 "too_far_from_street_pop": float(demand["older_pop"][far].sum())}
    summary["walk_direction"] = "to_facility" if terrain is not None else "symmetric"
    if terrain is not None:
        summary["terrain"] = terrain
    summary["demand_method"] = (pop_info or {}).get("method") or (
        "assumed_density" if demand_res.assumed_density else "units")
    return PlanResult(params, network, fac, units, demand, demand_times, coverage, thr_cov, gaps,
                      catch, dissolved, log, summary, nearest, fsnap, dsnap, access, res_cov)


def _demand_times(demand: gpd.GeoDataFrame, fac: gpd.GeoDataFrame,
                  point_times: dict[str, tuple[np.ndarray, np.ndarray]]) -> pd.DataFrame:
    """Long table: demand_id, facility_type, time_s, facility_id (None when none is reached)."""
    n = len(demand)
    types = pd.Series(pd.array(list(point_times), dtype="str"))
    pos = np.concatenate([p for _, p in point_times.values()])
    fid = fac[FACILITY_ID]
    if pd.api.types.is_string_dtype(fid.dtype):  # Arrow takes: no 4.8M Python strings
        with_none = pd.concat([fid, pd.Series([None], dtype=fid.dtype)], ignore_index=True)
        ids = with_none.take(np.where(pos >= 0, pos, len(fid))).reset_index(drop=True)
    else:
        ids = np.append(fid.to_numpy().astype(object), np.array([None], dtype=object))[pos]
    return pd.DataFrame({
        "demand_id": np.tile(demand["demand_id"].to_numpy(), len(point_times)),
        "facility_type": types.take(np.repeat(np.arange(len(point_times)), n)).reset_index(
            drop=True),
        "time_s": np.concatenate([t for t, _ in point_times.values()]),
        "facility_id": ids})


def _coverage_tables(demand: gpd.GeoDataFrame, fac: gpd.GeoDataFrame,
                     point_times: dict[str, tuple[np.ndarray, np.ndarray]],
                     units: gpd.GeoDataFrame, params: PlanParams,
                     threads: int = COVERAGE_THREADS) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Coverage per unit and type, and per threshold, from each point's time and facility row.

    The types are measured in ``threads`` threads (numpy's sorts and pandas' grouped-sum
    kernels release the GIL, so two types run at once on two cores); the tables come out in
    the order of ``point_times`` whatever the threads."""
    index = index_demand(demand, units)
    ids, rank = np.unique(fac[FACILITY_ID].to_numpy().astype(object), return_inverse=True)
    rank = np.append(rank.ravel(), -1)  # row -1 (no facility) -> code -1

    def one(item: tuple[str, tuple[np.ndarray, np.ndarray]]) -> tuple[pd.DataFrame, pd.DataFrame]:
        ftype, (t_s, pos) = item
        return (coverage_from_arrays(index, units, ftype, params.coverage, t_s, rank[pos], ids),
                threshold_coverage_from_arrays(index, units, ftype,
                                               params.coverage.thresholds_min, t_s))

    items = list(point_times.items())
    if threads > 1 and len(items) > 1:
        with ThreadPoolExecutor(min(threads, len(items))) as pool:
            tables = list(pool.map(one, items))
    else:
        tables = [one(item) for item in items]
    return (pd.concat([c for c, _ in tables], ignore_index=True),
            pd.concat([t for _, t in tables], ignore_index=True))


def _dissolved_one(state: Mapping[str, Any], job: tuple[str, np.ndarray]) -> list[Any]:
    """Dissolved polygons of one type (run in this process or a forked worker)."""
    ftype, which = job
    return build_dissolved_catchments(state["network"], state["nearest"][ftype].node_time_s,
                                      state["fsnap"], which, state["thresholds_s"],
                                      state["cparams"])


def _dissolved(network: WalkNetwork, fac: gpd.GeoDataFrame, fsnap: SnapResult,
               nearest: dict[str, NearestTimes], params: PlanParams,
               cparams: CatchmentParams) -> gpd.GeoDataFrame:
    thresholds_s = tuple(t * 60 for t in params.coverage.thresholds_min)
    jobs = [(ftype, np.flatnonzero((fac[FACILITY_TYPE] == ftype).to_numpy()))
            for ftype in nearest]
    jobs = [(ftype, which) for ftype, which in jobs if which.size]
    state = {"network": network, "nearest": nearest, "fsnap": fsnap,
             "thresholds_s": thresholds_s, "cparams": cparams}
    polys = fork_map(_dissolved_one, jobs, cparams.workers, state)
    rows = [{"type": ftype, "threshold_min": t / 60} for ftype, _ in jobs for t in thresholds_s]
    geoms = [g for group in polys for g in group]
    return gpd.GeoDataFrame(pd.DataFrame(rows, columns=["type", "threshold_min"]),
                            geometry=geoms, crs=network.crs)


def _facility_catchments(network: WalkNetwork, fac: gpd.GeoDataFrame, fsnap: SnapResult,
                         params: PlanParams, cparams: CatchmentParams, limit: int,
                         log: WarningLog) -> gpd.GeoDataFrame:
    cols = ["facility_id", "type", "threshold_min", "reached_length_m"]
    if len(fac) > limit:
        log.add("catchments_on_demand", len(fac), f"{len(fac)} facilities > {limit}: per-facility "
                "polygons are built on demand; dissolved polygons per type are in the output")
        return gpd.GeoDataFrame(pd.DataFrame(columns=cols), geometry=[], crs=network.crs)
    thresholds_s = tuple(t * 60 for t in params.coverage.thresholds_min)
    reach = compute_source_reach(network, fsnap, limit_s=max(thresholds_s))
    built = build_facility_catchments(network, reach, fsnap, thresholds_s, cparams)
    rows = [{"facility_id": fac[FACILITY_ID].iat[j], "type": fac[FACILITY_TYPE].iat[j],
             "threshold_min": t_s / 60, "reached_length_m": length} for j, t_s, _, length in built]
    return gpd.GeoDataFrame(pd.DataFrame(rows, columns=cols), geometry=[b[2] for b in built],
                            crs=network.crs)


def _summary(inputs: PlanInputs, params: PlanParams, network: WalkNetwork, fac: gpd.GeoDataFrame,
             units: gpd.GeoDataFrame, coverage: pd.DataFrame, gaps: pd.DataFrame,
             counts: dict[str, int], timings: dict[str, float], assumed: bool) -> dict[str, Any]:
    total = float(units["older_pop"].sum())
    by_type = {}
    for ftype, c in coverage.groupby("facility_type"):
        covered = float(c["covered_pop"].sum())
        by_type[str(ftype)] = {"covered_pop": covered,
                               "covered_share": covered / total if total else 0.0}
    comp = network.components
    return {
        "label": inputs.label, "synthetic": inputs.is_synthetic, "assumed_density": assumed,
        "profile": params.profile_name, "walk_speed_m_s": params.walk.speed_m_s,
        "walk_preset": params.walk.name, "steps_factor": params.walk.steps_factor,
        "thresholds_min": list(params.coverage.thresholds_min),
        "settlement_threshold_min": dict(params.coverage.settlement_threshold_min),
        "required_types": list(params.coverage.required_types),
        "target_share": params.coverage.target_share, "max_snap_m": params.snap.max_snap_m,
        "network": {"nodes": network.n_nodes, "segments": network.n_edges, "crs": network.crs,
                    "components": comp.n_components, "main_nodes": comp.main_nodes,
                    "main_length_km": comp.main_length_m / 1000,
                    "disconnected_nodes": comp.other_nodes,
                    "disconnected_length_km": comp.other_length_m / 1000},
        "units": len(units), "older_pop": total, "facilities": counts,
        "coverage": by_type, "gaps": len(gaps),
        "gap_units": int(gaps["unit_id"].nunique()) if len(gaps) else 0,
        "timings_s": {k: round(v, 3) for k, v in timings.items()},
        "sources": dict(inputs.sources),
    }
