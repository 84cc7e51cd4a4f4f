"""Patch per-point times and per-unit coverage where a what-if changed them (work ~ the change).

:class:`PatchIndex` is built once per analysis: demand points by snapped segment and by the
nodes at its ends, and by unit. :func:`patch_coverage` recomputes the coverage rows of the units
holding changed points only (with the same functions as the full tables, so equal to them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from planner.coverage.tables import DemandIndex, group_cumsums, group_sums
from planner.network.graph import WalkNetwork
from planner.network.snap import SnapResult
from planner.schema import OLDER_POP, SETTLEMENT, UNIT_ID, UNIT_NAME

I64 = NDArray[np.int64]
F64 = NDArray[np.float64]


def _ragged(ptr: I64, order: I64, wanted: I64) -> I64:
    """Entries ``order[ptr[w]:ptr[w + 1]]`` of each of ``wanted``, concatenated."""
    lo = ptr[wanted]
    count = ptr[wanted + 1] - lo
    at = np.arange(int(count.sum())) + np.repeat(lo - np.cumsum(count) + count, count)
    found: I64 = order[at]
    return found


def _pointers(code: I64, n: int) -> tuple[I64, I64]:
    """Rows grouped by ``code`` (stable; rows of code -1 left out) and the CSR pointers of the
    groups ``0..n-1`` into that order."""
    order = np.argsort(code, kind="stable")
    order = order[code[order] >= 0]
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(code[order], minlength=n), out=ptr[1:])
    return order, ptr


@dataclass(frozen=True, slots=True)
class PatchIndex:
    """Demand points looked up by segment, by end node and by unit (CSR pointers into orders
    of the points; a unit's points are in row order); ``kind`` per point: 1 placed on the
    routing network, 2 disconnected, 3 not snapped."""

    demand: DemandIndex
    edge_order: I64
    edge_ptr: I64
    node_order: I64
    node_ptr: I64
    unit_order: I64
    unit_ptr: I64
    kind: I64

    @classmethod
    def build(cls, network: WalkNetwork, dsnap: SnapResult, demand: DemandIndex) -> PatchIndex:
        """Index the snapped demand points of ``network``."""
        p = dsnap.edge.size
        edge = dsnap.edge
        ends = np.where(edge >= 0, network.edge_u[np.clip(edge, 0, None)], -1)
        ends = np.concatenate([ends, np.where(edge >= 0, network.edge_v[np.clip(edge, 0, None)],
                                              -1)])
        e_order, e_ptr = _pointers(edge, network.n_edges)
        n_order, n_ptr = _pointers(ends, network.n_nodes)
        u_order, u_ptr = _pointers(demand.unit, demand.n_units)
        kind = np.where(demand.not_snapped, 3, np.where(demand.disconnected, 2, 1))
        return cls(demand, e_order, e_ptr, n_order % max(p, 1), n_ptr, u_order, u_ptr,
                   kind.astype(np.int64))

    def points_near(self, nodes: I64, edges: I64) -> I64:
        """Points on a segment ending at one of ``nodes`` or lying on one of ``edges``
        (ascending)."""
        flag = np.zeros(self.kind.size, dtype=bool)
        flag[_ragged(self.node_ptr, self.node_order, nodes)] = True
        flag[_ragged(self.edge_ptr, self.edge_order, edges)] = True
        return np.flatnonzero(flag)

    def points_of_units(self, units: I64) -> I64:
        """Points of the given unit positions, grouped by unit in the order given."""
        return _ragged(self.unit_ptr, self.unit_order, units)


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


def _quantiles(local: I64, starts: I64, time_s: F64, pop: F64, n: int) -> tuple[F64, F64]:
    """Median and 90th percentile per local unit (rows grouped by unit, ascending, the groups
    starting at ``starts``), as :func:`weighted_quantiles`: rows by unit then time (stable),
    the first whose compensated running share reaches q (less 1e-12); NaN where none does.

    A unit's compensated total is its running sum's last value (pandas' grouped sum and
    cumulative sum run the same compensated update row by row)."""
    order = np.lexsort((time_s, local))  # by unit, then time, ties in row order
    t, w = time_s[order], pop[order]
    cum = group_cumsums(local, w, n)  # ``local`` is sorted: the same after ``order``
    total = cum[np.append(starts[1:], local.size) - 1][local]
    share = cum / np.where(total > 0, total, 1.0)
    rows = np.arange(local.size)
    t = np.append(t, np.nan)
    med, p90 = (t[np.minimum.reduceat(np.where(share >= q, rows, local.size), starts)]
                for q in _QS)
    return med, p90


#: The quantiles the coverage table reports (median, 90th percentile), less the 1e-12 slack.
_QS = (0.5 - 1e-12, 0.9 - 1e-12)


def _stable_order(code: I64, n: int) -> I64:
    """Stable ascending order of integer codes in ``0..n-1`` (numpy's radix sort below 2**16)."""
    if n <= 2**16:
        order: I64 = np.argsort(code.astype(np.uint16), kind="stable")
        return order
    return np.argsort(code, kind="stable")


def _nearest_ids(local: I64, key: I64, pop: F64, n: int,
                 key_ids: NDArray[np.object_]) -> NDArray[np.object_]:
    """Per local unit the facility nearest for most older adults, as :func:`nearest_facility`:
    (unit, facility) pairs summed in row order, the largest per unit, ties to the first id in
    sort order; NaN where none."""
    out = np.full(n, np.nan, dtype=object)
    width = key_ids.size + 1
    code = local * width + key + 1  # key -1 (none) sorts first in its unit
    order = _stable_order(code, n * width)
    order = order[key[order] >= 0]
    if order.size == 0:
        return out
    code = code[order]
    new = np.empty(code.size, dtype=bool)
    new[:1] = True
    np.not_equal(code[1:], code[:-1], out=new[1:])
    pair = np.cumsum(new) - 1
    sums = group_sums(pair, pop[order], int(pair[-1]) + 1)
    u, k = np.divmod(code[new], width)
    best = np.full(n, -np.inf)
    np.maximum.at(best, u, sums)
    top = np.flatnonzero(sums == best[u])
    out[u[top]] = key_ids[k[top] - 1]
    if top.size > 1 and (u[top][1:] == u[top][:-1]).any():  # ties: first id in sort order
        for unit in np.unique(u[top]).tolist():
            out[unit] = min(key_ids[k[top[u[top] == unit]] - 1].tolist())
    return out


def _hit_units(index: PatchIndex, changed: I64) -> I64:
    """Unit positions holding ``changed`` points (ascending; unit -1 left out)."""
    flag = np.zeros(index.demand.n_units + 1, dtype=bool)
    flag[index.demand.unit[changed]] = True  # unit -1 marks the extra last entry
    return np.flatnonzero(flag[:-1])


def _sums(local: I64, kind: I64, covered: NDArray[np.bool_], pop: F64, older: F64,
          n: int) -> dict[str, F64]:
    """Covered and uncovered older adults per local unit and the covered share, as
    :func:`planner.coverage.measure.coverage_columns` (``kind``: 1 placed, 2 disconnected,
    3 not snapped; compensated sums in row order with zeros for the other columns)."""
    cat = np.where(covered, 0, kind)
    values = np.zeros((cat.size, 4))
    values[np.arange(cat.size), cat] = pop
    parts = group_sums(local, values, n)
    placed = 0 + parts[:, 0] + parts[:, 1] + parts[:, 2] + parts[:, 3]
    share = np.divide(parts[:, 0], older, out=np.zeros(n), where=older > 0)
    return {"covered_pop": parts[:, 0], "uncovered_out_of_reach_pop": parts[:, 1],
            "uncovered_disconnected_pop": parts[:, 2],
            "uncovered_not_snapped_pop": parts[:, 3] + np.maximum(older - placed, 0.0),
            "covered_share": np.clip(share, 0.0, 1.0)}


def patch_coverage(index: PatchIndex, old: CoverageRows, threshold_s: F64, changed: I64,
                   time_s: F64, key: I64, key_ids: NDArray[np.object_],
                   flipped: bool = True) -> CoverageRows:
    """``old`` (one type's coverage) with the rows of the units holding ``changed`` points
    recomputed from the new ``time_s`` and nearest facility ``key`` (-1 none; ``key_ids[key]``
    is its id), with the arithmetic of :func:`planner.coverage.measure.coverage_columns`;
    ``threshold_s`` is the type's threshold per unit (seconds). With ``flipped`` False no
    changed point crossed its threshold: the covered figures are kept."""
    hit = _hit_units(index, changed)
    if hit.size == 0:
        return old
    lo = index.unit_ptr[hit]
    count = index.unit_ptr[hit + 1] - lo
    local = np.repeat(np.arange(hit.size), count)
    starts = np.cumsum(count) - count
    pts = index.unit_order[np.arange(local.size) + np.repeat(lo - starts, count)]
    t, pop = time_s[pts], index.demand.pop[pts]
    rows: dict[str, NDArray[Any]] = {}
    if flipped:
        rows = _sums(local, index.kind[pts], t <= threshold_s[hit][local], pop,
                     np.asarray(old.columns["older_pop"], dtype=float)[hit], hit.size)
    median, p90 = _quantiles(local, starts, t, pop, hit.size)
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
