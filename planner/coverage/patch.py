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

from planner.coverage.tables import DemandIndex, group_cumsums, group_sums
from planner.network.graph import WalkNetwork
from planner.network.snap import SnapResult
from planner.params import CoverageParams
from planner.schema import OLDER_POP, SETTLEMENT, UNIT_ID, UNIT_NAME

I64 = NDArray[np.int64]
F64 = NDArray[np.float64]


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


def _unit_points(index: PatchIndex, hit: I64) -> tuple[I64, I64]:
    """Points of the unit positions ``hit`` (grouped by unit in that order, rows ascending
    within a unit) and each point's local unit code (position in ``hit``)."""
    lo = np.searchsorted(index.unit_sorted, hit, side="left")
    count = np.searchsorted(index.unit_sorted, hit, side="right") - lo
    local = np.repeat(np.arange(hit.size, dtype=np.int64), count)
    at = np.arange(local.size) + np.repeat(lo - (np.cumsum(count) - count), count)
    return index.unit_order[at], local


def _quantiles(local: I64, time_s: F64, pop: F64, n: int) -> tuple[F64, F64]:
    """Median and 90th percentile per local unit, as :func:`weighted_quantiles`: rows by unit
    then time (stable), the first whose compensated running share reaches q (less 1e-12)."""
    order = np.lexsort((time_s, local))
    u, t, w = local[order], time_s[order], pop[order]
    total = group_sums(u, w, n)[u]
    share = group_cumsums(u, w, n) / np.where(total > 0, total, 1.0)
    out = []
    for q in (0.5, 0.9):
        rows = np.flatnonzero(share >= q - 1e-12)
        first = rows[np.r_[True, u[rows][1:] != u[rows][:-1]]] if rows.size else rows
        res = np.full(n, np.nan)
        res[u[first]] = t[first]
        out.append(res)
    return out[0], out[1]


def _nearest_ids(local: I64, key: I64, pop: F64, n: int,
                 key_ids: NDArray[np.object_]) -> NDArray[np.object_]:
    """Per local unit the facility nearest for most older adults, as :func:`nearest_facility`
    (pair sums in row order; ties to the first id in sort order); NaN where none."""
    out = np.full(n, np.nan, dtype=object)
    ok = np.flatnonzero(key >= 0)
    if ok.size == 0:
        return out
    order = ok[np.lexsort((key[ok], local[ok]))]
    u, k = local[order], key[order]
    new = np.r_[True, (u[1:] != u[:-1]) | (k[1:] != k[:-1])]
    pair = np.cumsum(new) - 1
    sums = group_sums(pair, pop[order], int(pair[-1]) + 1)
    u, k = u[new], k[new]
    best = np.zeros(n)
    np.maximum.at(best, u, sums)
    top = np.flatnonzero(sums == best[u])
    out[u[top]] = key_ids[k[top]]
    if np.unique(u[top]).size < top.size:  # ties: the first id in sort order
        for unit in np.unique(u[top]).tolist():
            out[unit] = min(key_ids[k[top[u[top] == unit]]].tolist())
    return out


def patch_coverage(index: PatchIndex, old: CoverageRows, threshold_s: F64, changed: I64,
                   time_s: F64, key: I64, key_ids: NDArray[np.object_]) -> CoverageRows:
    """``old`` (one type's coverage) with the rows of the units holding ``changed`` points
    recomputed from the new ``time_s`` and nearest facility ``key`` (-1 none; ``key_ids[key]``
    is its id), with the arithmetic of :func:`planner.coverage.measure.coverage_columns`;
    ``threshold_s`` is the type's threshold per unit (seconds)."""
    d = index.demand
    hit = np.unique(d.unit[changed])
    hit = hit[hit >= 0]
    if hit.size == 0:
        return old
    pts, local = _unit_points(index, hit)
    t, pop, ns, dc = time_s[pts], d.pop[pts], d.not_snapped[pts], d.disconnected[pts]
    covered = t <= threshold_s[hit][local]
    other = ~covered & ~ns & ~dc
    parts = group_sums(local, np.column_stack([np.where(m, pop, 0.0) for m in (
        covered, other, dc, ns)]), hit.size)
    older = np.asarray(old.columns["older_pop"], dtype=float)[hit]
    rows = dict(zip(("covered_pop", "uncovered_out_of_reach_pop", "uncovered_disconnected_pop",
                     "uncovered_not_snapped_pop"), parts.T, strict=True))
    placed = sum(rows.values())
    rows["uncovered_not_snapped_pop"] = rows["uncovered_not_snapped_pop"] + np.clip(
        older - placed, 0.0, None)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(older > 0, rows["covered_pop"] / older, 0.0)
    rows["covered_share"] = np.clip(np.nan_to_num(share, nan=0.0), 0.0, 1.0)
    median, p90 = _quantiles(local, t, pop, hit.size)
    rows["median_time_min"] = np.where(np.isinf(median), np.nan, median / 60.0)
    rows["p90_time_min"] = np.where(np.isinf(p90), np.nan, p90 / 60.0)
    rows["nearest_facility_id"] = _nearest_ids(local, key[pts], pop, hit.size, key_ids)
    return _patched(old, hit, rows)


def _patched(old: CoverageRows, hit: I64, rows: dict[str, NDArray[Any]]) -> CoverageRows:
    """``old`` with ``rows`` written at the unit positions ``hit``."""
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
