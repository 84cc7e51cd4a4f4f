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

from planner.coverage.patch_kernels import points_near, unit_rows
from planner.coverage.tables import DemandIndex, group_sums
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
        found: I64 = points_near(self.node_ptr, self.node_order, self.edge_ptr, self.edge_order,
                                 nodes, edges, self.kind.size)
        return found

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


def _shares(parts: F64, older: F64) -> dict[str, F64]:
    """Coverage columns from the covered / out-of-reach / disconnected / not-snapped sums per
    unit (``parts``), as :func:`planner.coverage.measure.coverage_columns` derives them."""
    n = parts.shape[0]
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
    is its id), with the arithmetic of :func:`planner.coverage.measure.coverage_columns` (one
    compiled call, :func:`planner.coverage.patch_kernels.unit_rows`); ``threshold_s`` is the
    type's threshold per unit (seconds). With ``flipped`` False no changed point crossed its
    threshold: the covered figures are kept."""
    hit = _hit_units(index, changed)
    if hit.size == 0:
        return old
    parts, quant, best = unit_rows(hit, index.unit_ptr, index.unit_order, time_s, key,
                                   index.demand.pop, index.kind, threshold_s, key_ids.size, *_QS,
                                   flipped)
    rows: dict[str, NDArray[Any]] = {}
    if flipped:
        rows = _shares(parts, np.asarray(old.columns["older_pop"], dtype=float)[hit])
    rows["median_time_min"] = np.where(np.isinf(quant[:, 0]), np.nan, quant[:, 0] / 60.0)
    rows["p90_time_min"] = np.where(np.isinf(quant[:, 1]), np.nan, quant[:, 1] / 60.0)
    ids = np.full(hit.size, np.nan, dtype=object)
    found = best[:, 0] >= 0
    ids[found] = key_ids[best[found, 0]]
    tied = np.flatnonzero(best[:, 1] > 1)
    if tied.size:  # several facilities nearest for equally many: the first id in sort order
        count = index.unit_ptr[hit[tied] + 1] - index.unit_ptr[hit[tied]]
        local = np.repeat(np.arange(tied.size), count)
        pts = index.points_of_units(hit[tied])
        ids[tied] = _nearest_ids(local, key[pts], index.demand.pop[pts], tied.size, key_ids)
    rows["nearest_facility_id"] = ids
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
