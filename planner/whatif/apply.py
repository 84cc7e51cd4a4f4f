"""Apply a scenario incrementally: work follows the change, results equal a full recomputation."""

from __future__ import annotations

from dataclasses import replace

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from planner.coverage.patch import CoverageRows, patch_coverage
from planner.network.snap import SnapResult
from planner.routing.nearest_update import add_source, remove_sources
from planner.routing.travel import NearestTimes, compute_point_times
from planner.whatif.snap import snap_table
from planner.whatif.state import WhatIfResult, WhatIfState
from planner.whatif.table import FacilityTable, Scenario, table_after


def build_facility_table(state: WhatIfState, scenario: Scenario) -> tuple[
        gpd.GeoDataFrame, NDArray[np.int64], NDArray[np.bool_]]:
    """Facilities after the scenario (removed dropped, moved in place, added appended).

    Returns the GeoDataFrame, the new position of each old facility (-1 if removed) and a flag
    per new position for facilities that are new or moved (they are added by a search).
    """
    table, new_pos, fresh = table_after(state.table, scenario, state.network.crs,
                                        set(state.nearest))
    return table.frame(), new_pos, fresh


def _update_type(state: WhatIfState, ftype: str, table: FacilityTable, snap: SnapResult,
                 new_pos: NDArray[np.int64], fresh: NDArray[np.bool_]) -> tuple[NearestTimes, int]:
    """Nearest times of one type after the scenario: removal re-search, then one add per site."""
    old = state.nearest[ftype]
    is_type = table.types == ftype
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


def _point_times(state: WhatIfState, ftype: str, table: FacilityTable, snap: SnapResult,
                 near: NearestTimes, points: NDArray[np.int64]) -> tuple[
                     NDArray[np.float64], NDArray[np.object_]]:
    """Times and nearest facility ids of the demand ``points`` for one type (as ``run_plan``)."""
    pos = np.flatnonzero(table.types == ftype)
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
    ids = table.ids[pos]
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


def _coverage_change(before: CoverageRows, after: CoverageRows) -> pd.DataFrame:
    """Per unit of one type: covered older adults and share before and after (same rows)."""
    cols = {c: before.columns[c] for c in ("unit_id", "facility_type", "older_pop")}
    for col in ("covered_pop", "covered_share"):
        cols[f"{col}_before"] = before.columns[col]
        cols[f"{col}_after"] = after.columns[col]
    cols["delta_pop"] = cols["covered_pop_after"] - cols["covered_pop_before"]
    cols["delta_share"] = cols["covered_share_after"] - cols["covered_share_before"]
    return pd.DataFrame(cols)


def _renumbered(nearest: dict[str, NearestTimes], types: set[str],
                new_pos: NDArray[np.int64]) -> dict[str, NearestTimes]:
    """Sources of the untouched ``types`` renumbered after removals (later facilities move up)."""
    out = dict(nearest)
    for ftype in types:
        old = nearest[ftype]
        src = np.where(old.node_source >= 0, new_pos[np.clip(old.node_source, 0, None)], -1)
        out[ftype] = NearestTimes(old.node_time_s, src)
    return out


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
    table, new_pos, fresh = table_after(state.table, scenario, state.network.crs,
                                        set(state.nearest))
    snap = snap_table(state.network, state.fsnap, table, new_pos, fresh,
                      state.params.snap.max_snap_m, state.grid)
    gone = new_pos < 0  # an old facility is gone when removed or moved (it is re-added)
    gone[~gone] = fresh[new_pos[~gone]]
    touched = {str(t) for t in state.table.types[gone]} | {a.facility_type for a in scenario.add}
    edges = np.r_[state.fsnap.edge[gone], snap.edge[fresh]]
    edges = edges[edges >= 0]
    nearest = (_renumbered(state.nearest, set(state.nearest) - touched, new_pos)
               if (new_pos < 0).any() else dict(state.nearest))
    times, cov = dict(state.point_times), dict(state.coverage_by_type)
    searched, changes = 0, []
    for ftype in sorted(touched):
        nearest[ftype], n = _update_type(state, ftype, table, snap, new_pos, fresh)
        searched += n
        pts = _changed_points(state, state.nearest[ftype], nearest[ftype], new_pos, edges)
        t_s, fid = state.point_times[ftype][0].copy(), state.point_times[ftype][1].copy()
        t_s[pts], fid[pts] = _point_times(state, ftype, table, snap, nearest[ftype], pts)
        times[ftype] = (t_s, fid)
        cov[ftype] = patch_coverage(state.index, cov[ftype], state.unit_columns, ftype,
                                    state.params.coverage, pts, t_s, fid)
        changes.append(_coverage_change(state.coverage_by_type[ftype], cov[ftype]))
    after = replace(state, table=table, fsnap=snap, nearest=nearest, point_times=times,
                    coverage_by_type=cov)
    if not changes:
        empty = CoverageRows.from_frame(state.coverage.iloc[:0])
        changes.append(_coverage_change(empty, empty))
    change = pd.concat(changes, ignore_index=True) if len(changes) > 1 else changes[0]
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
