"""Instant what-if: add, move or remove facilities and get the per-unit coverage change.

A scenario becomes a new facility table; the nearest times of each type it touches are updated
incrementally and exactly by :mod:`planner.routing.nearest_update` (a move is a removal followed by
an add); then only the demand points and units those changes reach are recomputed
(:mod:`planner.coverage.patch`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray
from pyproj import Transformer

from planner.coverage.patch import PatchIndex, patch_coverage
from planner.coverage.tables import index_demand
from planner.errors import InputDataError
from planner.network.graph import WalkNetwork
from planner.network.snap import DISCONNECTED, NOT_SNAPPED, SNAPPED, SnapResult
from planner.network.snap_grid import nearest_segments, segment_fraction
from planner.params import PlanParams
from planner.routing.nearest_update import NodeGrid, add_source, remove_sources
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
    point_times: dict[str, tuple[NDArray[np.float64], NDArray[np.object_]]]
    coverage_by_type: dict[str, pd.DataFrame]
    index: PatchIndex
    grid: NodeGrid

    @property
    def demand_times(self) -> pd.DataFrame:
        """Long table ``demand_id, facility_type, time_s, facility_id`` (as ``run_plan``'s)."""
        ids = self.demand["demand_id"].to_numpy()
        return pd.concat([pd.DataFrame({"demand_id": ids, "facility_type": ftype, "time_s": t,
                                        "facility_id": f})
                          for ftype, (t, f) in self.point_times.items()], ignore_index=True)

    @property
    def coverage(self) -> pd.DataFrame:
        """Coverage per unit and type (as ``run_plan``'s)."""
        return pd.concat(list(self.coverage_by_type.values()), ignore_index=True)


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
    demand = pd.DataFrame(r.demand.drop(columns="geometry"))
    units = pd.DataFrame(r.units.drop(columns="geometry"))
    n = len(demand)
    times = {str(t): (g["time_s"].to_numpy(dtype=float), g["facility_id"].to_numpy(dtype=object))
             for t, g in r.demand_times.groupby("facility_type", sort=False)}
    if any(not np.array_equal(g["demand_id"].to_numpy(), demand["demand_id"].to_numpy())
           for _, g in r.demand_times.groupby("facility_type", sort=False)) or any(
               t[0].size != n for t in times.values()):
        raise InputDataError("the PlanResult's demand times do not follow its demand points")
    by_type = {str(t): g.reset_index(drop=True)
               for t, g in r.coverage.groupby("facility_type", sort=False)}
    index = PatchIndex.build(r.network, r.demand_snap, index_demand(demand, units))
    return WhatIfState(r.network, r.params, r.facilities, r.facility_snap, demand, r.demand_snap,
                       units, dict(r.nearest), times, by_type, index, NodeGrid(r.network))


def snap_local(network: WalkNetwork, x_m: float, y_m: float, max_snap_m: float,
               grid: NodeGrid | None = None) -> SnapResult:
    """Snap one projected point exactly like :class:`planner.network.snap.EdgeIndex`, looking
    only at the segments near it (found on ``grid``)."""
    edges = (grid.edges_within(x_m, y_m, max_snap_m) if grid is not None
             else np.arange(network.n_edges))
    none = SnapResult(np.array([-1]), np.zeros(1), np.array([np.nan]), np.array([NOT_SNAPPED]))
    if edges.size == 0:
        return none
    coords = (network.x_m[network.edge_u[edges]], network.y_m[network.edge_u[edges]],
              network.x_m[network.edge_v[edges]], network.y_m[network.edge_v[edges]])
    px, py = np.array([x_m], dtype=float), np.array([y_m], dtype=float)
    local, dist = nearest_segments(px, py, coords, max_snap_m, {})
    if local[0] < 0:
        return none
    edge = int(edges[local[0]])
    frac = segment_fraction(px, py, *(c[local] for c in coords))
    status = SNAPPED if network.edge_in_main[edge] else DISCONNECTED
    return SnapResult(np.array([edge]), frac, dist, np.array([status], dtype="<U12"))


@lru_cache(maxsize=8)
def _from_wgs84(crs: str) -> Transformer:
    """The lon/lat -> network CRS transformer (made once per CRS; making one takes ~20 ms)."""
    return Transformer.from_crs(WGS84, crs, always_xy=True)


def _new_rows(state: WhatIfState, changes: tuple[FacilityChange, ...],
              types: list[str]) -> gpd.GeoDataFrame:
    x, y = _from_wgs84(state.network.crs).transform([c.lon for c in changes],
                                                    [c.lat for c in changes])
    return gpd.GeoDataFrame({FACILITY_ID: [c.facility_id for c in changes],
                             "name": [c.facility_id for c in changes], FACILITY_TYPE: types,
                             "capacity": [c.capacity for c in changes]},
                            geometry=gpd.points_from_xy(x, y), crs=state.network.crs)


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
        s = snap_local(state.network, pt.x, pt.y, state.params.snap.max_snap_m, state.grid)
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
        near, reached = add_source(state.network, near, one, int(j), limit_s, state.grid)
        searched += reached
    return near, searched


def _point_times(state: WhatIfState, ftype: str, table: gpd.GeoDataFrame, snap: SnapResult,
                 near: NearestTimes, points: NDArray[np.int64]) -> tuple[
                     NDArray[np.float64], NDArray[np.object_]]:
    """Times and nearest facility ids of the demand ``points`` for one type (as ``run_plan``)."""
    pos = np.flatnonzero((table[FACILITY_TYPE] == ftype).to_numpy())
    local = np.full(len(table) + 1, -1, dtype=np.int64)
    local[pos] = np.arange(pos.size)
    sub = snap.take(pos)
    ends = state.network.edge_u[state.dsnap.edge[points]], state.network.edge_v[
        state.dsnap.edge[points]]
    node_src = near.node_source.copy()
    for end in ends:  # only the nodes the points read need local source positions
        node_src[end] = np.where(near.node_source[end] >= 0, local[near.node_source[end]], -1)
    t_s, src = compute_point_times(state.network, NearestTimes(near.node_time_s, node_src),
                                   state.dsnap.take(points), sub)
    ids = table[FACILITY_ID].to_numpy()[pos]
    fid: NDArray[np.object_] = np.full(src.size, None, dtype=object)
    fid[src >= 0] = ids[src[src >= 0]]
    return t_s, fid


def _changed_points(state: WhatIfState, old: NearestTimes, new: NearestTimes,
                    new_pos: NDArray[np.int64], edges: NDArray[np.int64]) -> NDArray[np.int64]:
    """Demand points whose time or nearest facility may differ: those on a segment ending at a
    node whose time or source (renumbered to the new table) changed, or on a segment of a
    facility added, moved or removed."""
    was = np.where(old.node_source >= 0, new_pos[np.clip(old.node_source, 0, None)], -1)
    diff = (old.node_time_s != new.node_time_s) | (was != new.node_source)
    return state.index.points_near(np.flatnonzero(diff), edges)


def _coverage_change(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """Per unit of one type: covered older adults and share before and after (same rows)."""
    cols = {c: before[c].to_numpy() for c in ("unit_id", "facility_type", "older_pop")}
    for col in ("covered_pop", "covered_share"):
        cols[f"{col}_before"] = before[col].to_numpy()
        cols[f"{col}_after"] = after[col].to_numpy()
    cols["delta_pop"] = cols["covered_pop_after"] - cols["covered_pop_before"]
    cols["delta_share"] = cols["covered_share_after"] - cols["covered_share_before"]
    return pd.DataFrame(cols)


def apply_scenario(state: WhatIfState, scenario: Scenario) -> WhatIfResult:
    """Apply ``scenario`` incrementally; work follows the change.

    Per type touched: the nearest times are updated by bounded searches
    (:mod:`planner.routing.nearest_update`); the times of the demand points on segments whose
    end nodes changed (or that hold a changed facility) are recomputed; the coverage rows of
    the units holding those points are recomputed and the others kept.

    Returns
    -------
    WhatIfResult
        The new state and the per unit and type change (``covered_pop_before/after``,
        ``covered_share_before/after``, ``delta_pop``, ``delta_share``).
    """
    table, new_pos, fresh = build_facility_table(state, scenario)
    snap = _snap_table(state, table, new_pos, fresh)
    ids = state.facilities[FACILITY_ID].astype(str)
    gone = (new_pos < 0) | ids.isin([m.facility_id for m in scenario.move]).to_numpy()
    touched = set(state.facilities.loc[gone, FACILITY_TYPE])
    touched |= {a.facility_type for a in scenario.add}
    edges = np.r_[state.fsnap.edge[gone], snap.edge[fresh]]
    edges = edges[edges >= 0]
    nearest, times = dict(state.nearest), dict(state.point_times)
    if (new_pos < 0).any():  # later facilities move up: renumber the untouched types' sources
        for ftype in set(nearest) - touched:
            old = nearest[ftype]
            src = np.where(old.node_source >= 0, new_pos[np.clip(old.node_source, 0, None)], -1)
            nearest[ftype] = NearestTimes(old.node_time_s, src)
    cov, searched, changes = dict(state.coverage_by_type), 0, []
    for ftype in sorted(touched):
        nearest[ftype], n = _update_type(state, ftype, table, snap, new_pos, fresh)
        searched += n
        pts = _changed_points(state, state.nearest[ftype], nearest[ftype], new_pos, edges)
        t_s, fid = state.point_times[ftype][0].copy(), state.point_times[ftype][1].copy()
        t_s[pts], fid[pts] = _point_times(state, ftype, table, snap, nearest[ftype], pts)
        times[ftype] = (t_s, fid)
        cov[ftype] = patch_coverage(state.index, cov[ftype], state.units, ftype,
                                    state.params.coverage, pts, t_s, fid)
        changes.append(_coverage_change(state.coverage_by_type[ftype], cov[ftype]))
    after = replace(state, facilities=table, fsnap=snap, nearest=nearest, point_times=times,
                    coverage_by_type=cov)
    change = pd.concat(changes, ignore_index=True) if changes else _coverage_change(
        state.coverage.iloc[:0], state.coverage.iloc[:0])
    return WhatIfResult(scenario.name, after, change, searched)


def compare_scenarios(results: list[WhatIfResult], baseline: WhatIfState) -> pd.DataFrame:
    """Side by side covered share per unit and type: baseline, then one column per scenario."""
    key = ["unit_id", "facility_type"]
    out = baseline.coverage[[*key, "older_pop", "covered_share"]].rename(
        columns={"covered_share": "baseline"})
    for r in results:
        col = r.state.coverage[[*key, "covered_share"]].rename(columns={"covered_share": r.name})
        out = out.merge(col, on=key, how="left")
    return out
