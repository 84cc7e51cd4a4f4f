"""Apply a scenario incrementally: work follows the change, results equal a full recomputation."""

from __future__ import annotations

from dataclasses import replace

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from planner.coverage.patch import CoverageRows, patch_coverage
from planner.network.snap import SnapResult
from planner.routing.travel import NearestTimes
from planner.whatif.snap import snap_table
from planner.whatif.state import WhatIfResult, WhatIfState
from planner.whatif.table import FacilityTable, Scenario, table_after
from planner.whatif.update import TypeChange, point_times, update_nodes


def build_facility_table(state: WhatIfState, scenario: Scenario) -> tuple[
        gpd.GeoDataFrame, NDArray[np.int64], NDArray[np.bool_]]:
    """Facilities after the scenario (removed dropped, moved in place, added appended).

    Returns the GeoDataFrame, the new position of each old facility (-1 if removed) and a flag
    per new position for facilities that are new or moved (they are added by a search).
    """
    table, new_pos, fresh = table_after(state.table, scenario, state.network.crs,
                                        set(state.nearest))
    return table.frame(), new_pos, fresh


def _renumbered(nearest: dict[str, NearestTimes], types: set[str],
                remap: NDArray[np.int64]) -> dict[str, NearestTimes]:
    """Sources of the untouched ``types`` renumbered after removals (later facilities move up;
    ``remap`` is the new position of each old one with -1 appended)."""
    out = dict(nearest)
    for ftype in types:
        old = nearest[ftype]
        out[ftype] = NearestTimes(old.node_time_s, remap[old.node_source])
    return out


def _type_change(state: WhatIfState, table: FacilityTable, ftype: str, gone: NDArray[np.bool_],
                 fresh: NDArray[np.bool_]) -> TypeChange:
    old_pos, new_pos = state.table.of_type(ftype), table.of_type(ftype)
    is_fresh = fresh[new_pos]
    return TypeChange(old_pos[gone[old_pos]], new_pos[is_fresh], new_pos[~is_fresh])


def _patch_type(state: WhatIfState, ftype: str, table: FacilityTable, snap: SnapResult,
                near: NearestTimes, pts: NDArray[np.int64]) -> tuple[
                    tuple[NDArray[np.float64], NDArray[np.object_]], NDArray[np.int64],
                    CoverageRows]:
    """Point times, keys and coverage rows of one type after its node times changed to
    ``near``; ``pts`` are the demand points that may have changed."""
    t_new, src = point_times(state.core.walk, near, pts, state.network, snap,
                             table.of_type(ftype))
    key_new = np.where(src >= 0, table.keys[src], -1)
    (t_old, f_old), k_old = state.point_times[ftype], state.point_keys[ftype]
    diff = (t_new != t_old[pts]) | (key_new != k_old[pts])
    pts, t_new, src, key_new = pts[diff], t_new[diff], src[diff], key_new[diff]
    t_s, fid, keys = t_old.copy(), f_old.copy(), k_old.copy()
    t_s[pts], keys[pts] = t_new, key_new
    fid[pts] = np.append(table.ids, None)[src]
    cov = patch_coverage(state.index, state.coverage_by_type[ftype],
                         state.core.threshold_s[ftype], pts, t_s, keys, table.key_ids)
    return (t_s, fid), keys, cov


def apply_scenario(state: WhatIfState, scenario: Scenario) -> WhatIfResult:
    """Apply ``scenario`` incrementally; work follows the change.

    Per type touched: the nearest times are updated by searches that settle only the nodes
    the change reaches (:mod:`planner.whatif.update`); the times of the demand points on
    segments touching those nodes (or holding a changed facility) are recomputed; the
    coverage rows of the units whose points changed are recomputed and the others kept.

    Returns
    -------
    WhatIfResult
        The new state and, per type touched, the coverage rows before and after (``change``:
        ``covered_pop_before/after``, ``covered_share_before/after``, ``delta_pop``,
        ``delta_share`` per unit).
    """
    table, new_pos, fresh = table_after(state.table, scenario, state.network.crs,
                                        set(state.nearest))
    core = state.core
    snap = snap_table(state.network, state.fsnap, table, new_pos, fresh,
                      state.params.snap.max_snap_m, core.segments, core.coords)
    gone = new_pos < 0  # an old facility is gone when removed or moved (it is re-added)
    gone[~gone] = fresh[new_pos[~gone]]
    touched = {str(t) for t in state.table.types[gone]} | {a.facility_type for a in scenario.add}
    edges = np.r_[state.fsnap.edge[gone], snap.edge[fresh]]
    edges = edges[edges >= 0]
    remap = np.append(new_pos, -1)
    renumber = bool(scenario.remove)
    nearest = (_renumbered(state.nearest, set(state.nearest) - touched, remap)
               if renumber else dict(state.nearest))
    times, keys, cov = dict(state.point_times), dict(state.point_keys), dict(state.coverage_by_type)
    searched, rows = 0, []
    limit_s = state.params.coverage.max_threshold_min * 60.0
    for ftype in sorted(touched):
        old = state.nearest[ftype]
        src_new = remap[old.node_source] if renumber else old.node_source
        nearest[ftype], nodes, n = update_nodes(
            state.network, core.adjacency, state.grid, old, src_new,
            _type_change(state, table, ftype, gone, fresh), snap, len(state.table), limit_s)
        searched += n
        pts = state.index.points_near(nodes, edges)
        times[ftype], keys[ftype], cov[ftype] = _patch_type(state, ftype, table, snap,
                                                            nearest[ftype], pts)
        rows.append((state.coverage_by_type[ftype], cov[ftype]))
    after = replace(state, table=table, fsnap=snap, nearest=nearest, point_times=times,
                    coverage_by_type=cov, point_keys=keys)
    return WhatIfResult(scenario.name, after, searched, tuple(rows))


def compare_scenarios(results: list[WhatIfResult], baseline: WhatIfState) -> pd.DataFrame:
    """Side by side covered share per unit and type: baseline, then one column per scenario."""
    key = ["unit_id", "facility_type"]
    out = baseline.coverage[[*key, "older_pop", "covered_share"]].rename(
        columns={"covered_share": "baseline"})
    for r in results:
        col = r.state.coverage[[*key, "covered_share"]].rename(columns={"covered_share": r.name})
        out = out.merge(col, on=key, how="left")
    return out
