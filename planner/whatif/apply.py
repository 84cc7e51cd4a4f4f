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
from planner.whatif.clock import StepClock, lap
from planner.whatif.point_kernels import changed_points
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


def _type_change(state: WhatIfState, table: FacilityTable, ftype: str, gone: NDArray[np.bool_],
                 fresh: NDArray[np.bool_]) -> TypeChange:
    old_pos, new_pos = state.table.of_type(ftype), table.of_type(ftype)
    is_fresh = fresh[new_pos]
    return TypeChange(state.table.keys[old_pos[gone[old_pos]]], new_pos[is_fresh],
                      new_pos[~is_fresh])


def _patch_type(state: WhatIfState, ftype: str, table: FacilityTable, snap: SnapResult,
                near: NearestTimes, pts: NDArray[np.int64], clock: StepClock | None) -> tuple[
                    NDArray[np.float64], NDArray[np.int64], CoverageRows]:
    """Point times, nearest keys and coverage rows of one type after its node times changed
    to ``near``; ``pts`` are the demand points that may have changed."""
    core = state.core
    t_new, key_new = point_times(core.walk, core.segment_s, core.network.speed_m_s, near, pts,
                                 snap, table.of_type(ftype), table.keys)
    pts, t_s, keys, flipped = changed_points(pts, t_new, key_new, state.point_time_s[ftype],
                                             state.point_keys[ftype], state.index.demand.unit,
                                             state.core.threshold_s[ftype])
    lap(clock, "point_times")
    cov = patch_coverage(state.index, state.coverage_by_type[ftype],
                         state.core.threshold_s[ftype], pts, t_s, keys, table.key_ids, flipped)
    lap(clock, "unit_coverage")
    return t_s, keys, cov


def apply_scenario(state: WhatIfState, scenario: Scenario,
                   clock: StepClock | None = None) -> WhatIfResult:
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
        ``delta_share`` per unit). ``clock`` (optional) collects the time per step.
    """
    table, new_pos, fresh = table_after(state.table, scenario, state.network.crs,
                                        set(state.nearest))
    lap(clock, "table")
    core = state.core
    snap = snap_table(state.network, state.fsnap, table, new_pos, fresh,
                      state.params.snap.max_snap_m, core.segments, core.coords)
    lap(clock, "snap")
    gone = new_pos < 0  # an old facility is gone when removed or moved (it is re-added)
    gone[~gone] = fresh[new_pos[~gone]]
    touched = {str(t) for t in state.table.types[gone]} | {a.facility_type for a in scenario.add}
    edges = np.concatenate([state.fsnap.edge[gone], snap.edge[fresh]])
    edges = edges[edges >= 0]
    nearest, times = dict(state.nearest), dict(state.point_time_s)
    keys, cov = dict(state.point_keys), dict(state.coverage_by_type)
    searched, rows = 0, []
    limit_s = state.core.limit_s
    lap(clock, "bookkeeping")
    for ftype in sorted(touched):
        nearest[ftype], nodes, n = update_nodes(
            state.network, core.adjacency, core.node_grid, state.nearest[ftype],
            _type_change(state, table, ftype, gone, fresh), snap, table.keys, limit_s)
        searched += n
        lap(clock, "search")
        pts = state.index.points_near(nodes, edges)
        times[ftype], keys[ftype], cov[ftype] = _patch_type(state, ftype, table, snap,
                                                            nearest[ftype], pts, clock)
        rows.append((state.coverage_by_type[ftype], cov[ftype]))
    after = replace(state, table=table, fsnap=snap, nearest=nearest, point_time_s=times,
                    point_keys=keys, coverage_by_type=cov, _cache={})
    result = WhatIfResult(scenario.name, after, searched, tuple(rows))
    lap(clock, "bookkeeping")
    return result


def compare_scenarios(results: list[WhatIfResult], baseline: WhatIfState) -> pd.DataFrame:
    """Side by side covered share per unit and type: baseline, then one column per scenario."""
    key = ["unit_id", "facility_type"]
    out = baseline.coverage[[*key, "older_pop", "covered_share"]].rename(
        columns={"covered_share": "baseline"})
    for r in results:
        col = r.state.coverage[[*key, "covered_share"]].rename(columns={"covered_share": r.name})
        out = out.merge(col, on=key, how="left")
    return out
