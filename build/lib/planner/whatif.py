"""Instant what-if: add, move or remove facilities and get the per-unit coverage change.

A scenario becomes a new facility table; the nearest times of each type it touches are updated
incrementally and exactly by :mod:`planner.routing.nearest_update` (a move is a removal followed by an
add), then the demand times and unit coverage of those types are recomputed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from planner.coverage.measure import compute_unit_coverage
from planner.errors import InputDataError
from planner.network.graph import WalkNetwork
from planner.network.snap import DISCONNECTED, NOT_SNAPPED, SNAPPED, SnapResult
from planner.params import PlanParams
from planner.routing.nearest_update import add_source, remove_sources
from planner.routing.travel import NearestTimes, compute_point_times
from planner.schema import FACILITY_ID, FACILITY_TYPE, WGS84


@dataclass(frozen=True, slots=True)
class FacilityChange:
    """One facility to add or move: id, WGS-84 lon/lat (degrees), type (adds), capacity."""

    facility_id: str
    lon: float
    lat: float
    facility_type: str = ""
    capacity: float = float("nan")


@dataclass(frozen=True, slots=True)
class Scenario:
    """A named set of changes: facilities to add, move and remove (by id)."""

    name: str
    add: tuple[FacilityChange, ...] = ()
    move: tuple[FacilityChange, ...] = ()
    remove: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class WhatIfState:
    """What a what-if needs of an analysis.

    In the network CRS; the ``nearest`` sources are positions in the facility table.
    """

    network: WalkNetwork
    params: PlanParams
    facilities: gpd.GeoDataFrame
    fsnap: SnapResult
    demand: pd.DataFrame
    dsnap: SnapResult
    units: pd.DataFrame
    nearest: dict[str, NearestTimes]
    demand_times: pd.DataFrame
    coverage: pd.DataFrame


@dataclass(frozen=True, slots=True)
class WhatIfResult:
    """A scenario applied: the new state, per-unit change and how many nodes were searched."""

    name: str
    state: WhatIfState
    change: pd.DataFrame
    searched_nodes: int


def state_from_result(result: object) -> WhatIfState:
    """The what-if state of a :class:`planner.pipeline.PlanResult`."""
    r: Any = result  # a PlanResult, read by attribute
    if r.facility_snap is None or r.demand_snap is None:
        raise InputDataError("the PlanResult has no snap results; rerun run_plan to get them")
    return WhatIfState(r.network, r.params, r.facilities, r.facility_snap,
                       pd.DataFrame(r.demand.drop(columns="geometry")), r.demand_snap,
                       pd.DataFrame(r.units.drop(columns="geometry")), dict(r.nearest),
                       r.demand_times, r.coverage)


def snap_local(network: WalkNetwork, x_m: float, y_m: float, max_snap_m: float) -> SnapResult:
    """Snap one projected point exactly like :class:`planner.network.snap.EdgeIndex`, without an index."""
    xu, xv = network.x_m[network.edge_u], network.x_m[network.edge_v]
    yu, yv = network.y_m[network.edge_u], network.y_m[network.edge_v]
    near = np.flatnonzero((np.minimum(xu, xv) - max_snap_m <= x_m)
                          & (np.maximum(xu, xv) + max_snap_m >= x_m)
                          & (np.minimum(yu, yv) - max_snap_m <= y_m)
                          & (np.maximum(yu, yv) + max_snap_m >= y_m))
    none = SnapResult(np.array([-1]), np.zeros(1), np.array([np.nan]), np.array([NOT_SNAPPED]))
    if near.size == 0:
        return none
    lines = shapely.linestrings(np.stack([np.column_stack([xu[near], yu[near]]),
                                          np.column_stack([xv[near], yv[near]])], axis=1))
    point = shapely.Point(x_m, y_m)
    dist = shapely.distance(lines, point)
    best = int(np.argmin(dist))
    if not dist[best] <= max_snap_m:
        return none
    edge = int(near[best])
    frac = float(np.nan_to_num(shapely.line_locate_point(lines[best], point, normalized=True)))
    status = SNAPPED if network.edge_in_main[edge] else DISCONNECTED
    return SnapResult(np.array([edge]), np.array([frac]), np.array([float(dist[best])]),
                      np.array([status], dtype="<U12"))


def _new_rows(state: WhatIfState, changes: tuple[FacilityChange, ...],
              types: list[str]) -> gpd.GeoDataFrame:
    pts = gpd.GeoSeries(gpd.points_from_xy([c.lon for c in changes], [c.lat for c in changes]),
                        crs=WGS84).to_crs(state.network.crs)
    return gpd.GeoDataFrame({FACILITY_ID: [c.facility_id for c in changes],
                             "name": [c.facility_id for c in changes], FACILITY_TYPE: types,
                             "capacity": [c.capacity for c in changes]},
                            geometry=pts.to_numpy(), crs=state.network.crs)


def _check_ids(state: WhatIfState, scenario: Scenario) -> None:
    ids = set(state.facilities[FACILITY_ID].astype(str))
    for fid in [*scenario.remove, *(m.facility_id for m in scenario.move)]:
        if fid not in ids:
            msg = f"facility {fid!r} is not in the plan; use an existing facility_id"
            raise InputDataError(msg)
    for a in scenario.add:
        if a.facility_id in ids:
            raise InputDataError(f"new facility {a.facility_id!r} already exists; give a new id")
        if a.facility_type not in state.nearest:
            msg = f"new facility {a.facility_id!r} has type {a.facility_type!r}; use one of "
            raise InputDataError(msg + ", ".join(state.nearest))


def build_facility_table(state: WhatIfState, scenario: Scenario) -> tuple[
        gpd.GeoDataFrame, NDArray[np.int64], NDArray[np.bool_]]:
    """Facilities after the scenario (removed dropped, moved in place, added appended).

    Returns the table, the new position of each old facility (-1 if removed) and a flag per new
    position for facilities that are new or moved (they are added by a search).
    """
    _check_ids(state, scenario)
    fac = state.facilities
    ids = fac[FACILITY_ID].astype(str)
    kept = ~ids.isin(scenario.remove).to_numpy()
    table = fac[kept].reset_index(drop=True)
    new_pos = np.full(len(fac), -1, dtype=np.int64)
    new_pos[kept] = np.arange(int(kept.sum()))
    moved = np.zeros(len(table), dtype=bool)
    if scenario.move:
        rows = _new_rows(state, scenario.move, [""] * len(scenario.move))
        where = table[FACILITY_ID].astype(str).reset_index().set_index(FACILITY_ID)["index"]
        at = where.loc[[m.facility_id for m in scenario.move]].to_numpy()
        table.loc[at, "geometry"] = rows.geometry.to_numpy()
        moved[at] = True
    if scenario.add:
        rows = _new_rows(state, scenario.add, [a.facility_type for a in scenario.add])
        table = pd.concat([table, rows], ignore_index=True)
        moved = np.concatenate([moved, np.ones(len(rows), dtype=bool)])
    return gpd.GeoDataFrame(table, geometry="geometry", crs=fac.crs), new_pos, moved


def _snap_table(state: WhatIfState, table: gpd.GeoDataFrame, new_pos: NDArray[np.int64],
                fresh: NDArray[np.bool_]) -> SnapResult:
    n = len(table)
    old = np.flatnonzero(new_pos >= 0)
    edge, frac = np.full(n, -1, dtype=np.int64), np.zeros(n)
    access, status = np.full(n, np.nan), np.full(n, NOT_SNAPPED, dtype="<U12")
    tgt = new_pos[old]
    edge[tgt], frac[tgt] = state.fsnap.edge[old], state.fsnap.frac[old]
    access[tgt], status[tgt] = state.fsnap.access_m[old], state.fsnap.status[old]
    for j in np.flatnonzero(fresh):
        pt = table.geometry.iat[j]
        s = snap_local(state.network, pt.x, pt.y, state.params.snap.max_snap_m)
        edge[j], frac[j], access[j], status[j] = s.edge[0], s.frac[0], s.access_m[0], s.status[0]
    return SnapResult(edge, frac, access, status)


def _update_type(state: WhatIfState, ftype: str, table: gpd.GeoDataFrame, snap: SnapResult,
                 new_pos: NDArray[np.int64], fresh: NDArray[np.bool_]) -> tuple[NearestTimes, int]:
    """Nearest times of one type after the scenario: removal re-search, then one add per site."""
    old = state.nearest[ftype]
    is_type = (table[FACILITY_TYPE] == ftype).to_numpy()
    sentinel = len(table)
    remap = np.where(new_pos >= 0, new_pos, sentinel)
    src = np.where(old.node_source >= 0, remap[np.clip(old.node_source, 0, None)], -1)
    gone = np.append(fresh, True)
    near, searched = remove_sources(state.network, NearestTimes(old.node_time_s, src), gone,
                                    snap, is_type & ~fresh)
    limit_s = state.params.coverage.max_threshold_min * 60.0
    for j in np.flatnonzero(is_type & fresh):
        one = snap.take(np.array([j]))
        near, reached = add_source(state.network, near, one, int(j), limit_s)
        searched += reached
    return near, searched


def _demand_times(state: WhatIfState, ftype: str, table: gpd.GeoDataFrame, snap: SnapResult,
                  near: NearestTimes) -> pd.DataFrame:
    """Demand-point times and nearest facility ids of one type (as ``run_plan`` computes them)."""
    pos = np.flatnonzero((table[FACILITY_TYPE] == ftype).to_numpy())
    local = np.full(len(table) + 1, -1, dtype=np.int64)
    local[pos] = np.arange(pos.size)
    sub = snap.take(pos)
    node_src = np.where(near.node_source >= 0, local[near.node_source], -1)
    t_s, src = compute_point_times(state.network, NearestTimes(near.node_time_s, node_src),
                                   state.dsnap, sub)
    ids = table[FACILITY_ID].to_numpy()[pos]
    fid = np.where(src >= 0, ids[np.clip(src, 0, None)] if ids.size else None, None)
    return pd.DataFrame({"demand_id": state.demand["demand_id"].to_numpy(),
                         "facility_type": ftype, "time_s": t_s, "facility_id": fid})


def _coverage_change(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    cols = ["unit_id", "facility_type", "older_pop", "covered_pop", "covered_share"]
    m = before[cols].merge(after[cols].drop(columns="older_pop"),
                           on=["unit_id", "facility_type"], suffixes=("_before", "_after"))
    m["delta_pop"] = m["covered_pop_after"] - m["covered_pop_before"]
    m["delta_share"] = m["covered_share_after"] - m["covered_share_before"]
    return m


def apply_scenario(state: WhatIfState, scenario: Scenario) -> WhatIfResult:
    """Apply ``scenario`` incrementally; only the types it touches are recomputed.

    Returns
    -------
    WhatIfResult
        The new state and the per unit and type change (``covered_pop_before/after``,
        ``covered_share_before/after``, ``delta_pop``, ``delta_share``).
    """
    table, new_pos, fresh = build_facility_table(state, scenario)
    snap = _snap_table(state, table, new_pos, fresh)
    ids = state.facilities[FACILITY_ID].astype(str)
    touched = set(state.facilities.loc[(new_pos < 0) | ids.isin(
        [m.facility_id for m in scenario.move]).to_numpy(), FACILITY_TYPE])
    touched |= {a.facility_type for a in scenario.add}
    nearest, searched = dict(state.nearest), 0
    times = state.demand_times[~state.demand_times["facility_type"].isin(touched)]
    cov = state.coverage[~state.coverage["facility_type"].isin(touched)]
    new_times, new_cov = [times], [cov]
    for ftype in sorted(touched):
        nearest[ftype], n = _update_type(state, ftype, table, snap, new_pos, fresh)
        searched += n
        t = _demand_times(state, ftype, table, snap, nearest[ftype])
        new_times.append(t)
        d = state.demand.merge(t[["demand_id", "time_s", "facility_id"]], on="demand_id")
        new_cov.append(compute_unit_coverage(d, state.units, ftype, state.params.coverage))
    coverage = pd.concat(new_cov, ignore_index=True)
    after = replace(state, facilities=table, fsnap=snap, nearest=nearest, coverage=coverage,
                    demand_times=pd.concat(new_times, ignore_index=True))
    change = _coverage_change(state.coverage, coverage)
    return WhatIfResult(scenario.name, after, change[change["facility_type"].isin(touched)]
                        .reset_index(drop=True), searched)


def compare_scenarios(results: list[WhatIfResult], baseline: WhatIfState) -> pd.DataFrame:
    """Side by side covered share per unit and type: baseline, then one column per scenario."""
    key = ["unit_id", "facility_type"]
    out = baseline.coverage[[*key, "older_pop", "covered_share"]].rename(
        columns={"covered_share": "baseline"})
    for r in results:
        col = r.state.coverage[[*key, "covered_share"]].rename(columns={"covered_share": r.name})
        out = out.merge(col, on=key, how="left")
    return out
