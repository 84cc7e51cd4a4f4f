"""Patch per-point times and per-unit coverage where a what-if changed them (work ~ the change).

:class:`PatchIndex` is built once per analysis: demand points by snapped segment and by the
nodes at its ends, and by unit. :func:`patch_coverage` recomputes the coverage rows of the units
holding changed points only (with the same functions as the full tables, so equal to them).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from planner.coverage.measure import coverage_columns
from planner.coverage.tables import DemandIndex
from planner.network.graph import WalkNetwork
from planner.network.snap import SnapResult
from planner.params import CoverageParams
from planner.schema import OLDER_POP, SETTLEMENT, UNIT_ID, UNIT_NAME

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

#: The unit columns coverage rows are made of.
UNIT_COLUMNS = (UNIT_ID, UNIT_NAME, SETTLEMENT, OLDER_POP)


@dataclass(frozen=True, slots=True, eq=False)
class CoverageRows:
    """One type's coverage table (one row per unit, unit order) as numpy columns; the DataFrame
    is built when first asked for, so a what-if patching two units never builds one."""

    columns: dict[str, NDArray[Any]]
    _cache: dict[str, pd.DataFrame] = field(default_factory=dict)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> CoverageRows:
        """Columns of ``frame`` (kept as its frame)."""
        return cls({str(c): frame[c].to_numpy() for c in frame.columns}, {"frame": frame})

    def frame(self) -> pd.DataFrame:
        """The table as a DataFrame (built once)."""
        if "frame" not in self._cache:
            self._cache["frame"] = pd.DataFrame(self.columns)
        return self._cache["frame"]


def patch_coverage(index: PatchIndex, old: CoverageRows, units: Mapping[str, NDArray[Any]],
                   ftype: str, params: CoverageParams, changed: I64, time_s: NDArray[np.float64],
                   facility_id: NDArray[np.object_]) -> CoverageRows:
    """``old`` (one type's coverage) with the rows of the units holding ``changed`` points
    recomputed from the new ``time_s`` and ``facility_id``; ``units`` holds
    :data:`UNIT_COLUMNS` as arrays in unit order."""
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
    rows = coverage_columns(sub, {c: units[c][hit] for c in UNIT_COLUMNS}, ftype, params,
                            time_s[pts], codes.astype(np.int64), np.asarray(ids, dtype=object))
    cols = {}
    for col, kept in old.columns.items():
        values = kept
        if col in rows:
            values = kept.copy()
            values[hit] = rows[col]
        elif col in FLAT_COMPARISON:  # a what-if does not redo the flat-ground search
            values = kept.astype(float)
            values[hit] = np.nan
        cols[col] = values  # other extra columns (e.g. an assumed share) hold for every row
    return CoverageRows(cols)
