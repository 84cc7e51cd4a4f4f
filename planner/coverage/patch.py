"""Patch per-point times and per-unit coverage where a what-if changed them (work ~ the change).

:class:`PatchIndex` is built once per analysis: demand points by snapped segment and by the
nodes at its ends, and by unit. :func:`patch_coverage` recomputes the coverage rows of the units
holding changed points only (with the same functions as the full tables, so equal to them).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from planner.coverage.measure import coverage_from_arrays
from planner.coverage.tables import DemandIndex
from planner.network.graph import WalkNetwork
from planner.network.snap import SnapResult
from planner.params import CoverageParams

I64 = NDArray[np.int64]


def _lookup(keys_sorted: I64, order: I64, wanted: I64) -> I64:
    """Positions (via ``order``) of the entries whose key is in ``wanted``."""
    lo = np.searchsorted(keys_sorted, wanted, side="left")
    hi = np.searchsorted(keys_sorted, wanted, side="right")
    count = hi - lo
    at = np.repeat(lo, count) + np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    found: I64 = order[at]
    return found


@dataclass(frozen=True, slots=True)
class PatchIndex:
    """Demand points looked up by segment, by end node and by unit."""

    demand: DemandIndex
    edge_order: I64
    edge_sorted: I64
    node_order: I64
    node_sorted: I64
    unit_order: I64
    unit_sorted: I64

    @classmethod
    def build(cls, network: WalkNetwork, dsnap: SnapResult, demand: DemandIndex) -> PatchIndex:
        """Index the snapped demand points of ``network``."""
        p = dsnap.edge.size
        edge = dsnap.edge
        ends = np.where(edge >= 0, network.edge_u[np.clip(edge, 0, None)], -1)
        ends = np.r_[ends, np.where(edge >= 0, network.edge_v[np.clip(edge, 0, None)], -1)]
        e_order, n_order = np.argsort(edge, kind="stable"), np.argsort(ends, kind="stable")
        u_order = np.argsort(demand.unit, kind="stable")
        return cls(demand, e_order, edge[e_order], n_order % p, ends[n_order], u_order,
                   demand.unit[u_order])

    def points_near(self, nodes: I64, edges: I64) -> I64:
        """Points on a segment ending at one of ``nodes`` or lying on one of ``edges``."""
        return np.unique(np.r_[_lookup(self.node_sorted, self.node_order, nodes),
                               _lookup(self.edge_sorted, self.edge_order, edges)])

    def points_of_units(self, units: I64) -> I64:
        """Points of the given unit positions, grouped by unit in the order given."""
        return _lookup(self.unit_sorted, self.unit_order, units)


#: Terrain runs' flat-ground comparison columns: unknown (NaN) for units a what-if changes.
FLAT_COMPARISON = ("median_time_flat_min", "covered_share_flat", "terrain_extra_min")


def patch_coverage(index: PatchIndex, old: pd.DataFrame, units: pd.DataFrame, ftype: str,
                   params: CoverageParams, changed: I64, time_s: NDArray[np.float64],
                   facility_id: NDArray[np.object_]) -> pd.DataFrame:
    """``old`` (one type's coverage, one row per unit in unit order) with the rows of the units
    holding ``changed`` points recomputed from the new ``time_s`` and ``facility_id``."""
    hit = np.unique(index.demand.unit[changed])
    hit = hit[hit >= 0]
    if hit.size == 0:
        return old
    pts = index.points_of_units(hit)
    local = np.full(index.demand.n_units, -1, dtype=np.int64)
    local[hit] = np.arange(hit.size)
    d = index.demand
    sub = DemandIndex(local[d.unit[pts]], d.pop[pts], d.not_snapped[pts], d.disconnected[pts],
                      int(hit.size))
    codes, ids = pd.factorize(pd.Series(facility_id[pts], dtype=object), sort=True)
    rows = coverage_from_arrays(sub, units.iloc[hit], ftype, params, time_s[pts],
                                codes.astype(np.int64), np.asarray(ids, dtype=object))
    cols = {}
    for col in old.columns:
        values = old[col].to_numpy(copy=True)
        if col in rows.columns:
            values[hit] = rows[col].to_numpy()
        elif col in FLAT_COMPARISON:  # a what-if does not redo the flat-ground search
            values = values.astype(float)
            values[hit] = np.nan
        cols[col] = values  # other extra columns (e.g. an assumed share) hold for every row
    return pd.DataFrame(cols, index=old.index)
