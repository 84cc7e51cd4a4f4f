"""Coverage group-bys in numpy on integer unit codes (what :mod:`planner.coverage.measure` runs).

Demand points are coded once (:func:`index_demand`); each type's table is then a handful of
``bincount`` and ``reduceat`` calls over arrays, and the weighted quantiles come from one sort
of the times followed by a stable radix sort on the unit code.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from planner.network.snap import DISCONNECTED, NOT_SNAPPED
from planner.network.snap_grid import stable_code_order
from planner.schema import OLDER_POP, UNIT_ID

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class DemandIndex:
    """Demand points coded against a unit table.

    Attributes
    ----------
    unit
        Position of each point's unit in the unit table (-1 when the unit is not there).
    pop
        Older adults per point.
    not_snapped, disconnected
        Snap status flags per point.
    n_units
        Rows of the unit table.
    """

    unit: I64
    pop: F64
    not_snapped: NDArray[np.bool_]
    disconnected: NDArray[np.bool_]
    n_units: int

    def sums(self, weights: F64) -> F64:
        """Sum of ``weights`` per unit (points of units not in the table left out).

        The compensated (Kahan) summation pandas uses for grouped sums, so the figures equal
        the grouped sums by unit id this replaced."""
        return group_sums(self.unit, weights, self.n_units)


def group_sums(code: I64, weights: F64, n: int) -> F64:
    """Sum of ``weights`` (one column, or one per column of a 2-D array) per code in
    ``0..n-1`` (code -1 left out), in row order with pandas' compensated summation (its
    grouped-sum kernel; plain ``bincount`` if that is not there)."""
    values = np.ascontiguousarray(weights, dtype=float)
    flat = values.ndim == 1
    values = values.reshape(values.shape[0], 1 if flat else values.shape[1])
    try:
        from pandas._libs.groupby import group_sum
    except ImportError:  # pragma: no cover - a pandas without the kernel
        ok = code >= 0
        cols = [np.bincount(code[ok], values[ok, j], minlength=n) for j in range(values.shape[1])]
        plain: F64 = np.column_stack(cols)
        return plain[:, 0] if flat else plain
    out = np.zeros((n, values.shape[1]))
    group_sum(out, np.zeros(n, dtype=np.int64), values, code.astype(np.intp), mask=None,
              result_mask=None, min_count=0, is_datetimelike=False)
    summed: F64 = out[:, 0] if flat else out
    return summed


def group_cumsums(code: I64, weights: F64, n: int) -> F64:
    """Running sum of ``weights`` within each code (codes ``0..n-1``, rows in order): pandas'
    grouped cumulative-sum kernel (what ``Series.groupby(code).cumsum()`` runs, without
    factorising the codes again); a loop-free numpy fallback if that is not there."""
    values = np.ascontiguousarray(weights, dtype=float).reshape(-1, 1)
    try:
        from pandas._libs.groupby import group_cumsum
    except ImportError:  # pragma: no cover - a pandas without the kernel
        plain: F64 = pd.Series(weights).groupby(code, sort=False).cumsum().to_numpy()
        return plain
    out = np.empty_like(values)
    group_cumsum(out, values, code.astype(np.intp), n, False, skipna=True)
    summed: F64 = out[:, 0]
    return summed


def index_demand(demand: pd.DataFrame, units: pd.DataFrame) -> DemandIndex:
    """Code ``demand`` (``unit_id``, ``older_pop``, ``status``) against ``units`` (``unit_id``)."""
    status = demand["status"]
    return DemandIndex(unit_codes(demand[UNIT_ID], units[UNIT_ID]),
                       demand[OLDER_POP].to_numpy(dtype=float),
                       (status == NOT_SNAPPED).to_numpy(dtype=bool),
                       (status == DISCONNECTED).to_numpy(dtype=bool), len(units))


def unit_codes(values: pd.Series, ids: pd.Series) -> I64:
    """Position of each of ``values`` among the unique ``ids`` (-1 when absent): Arrow's hash
    join for string ids without missing values (ten times pandas' ``get_indexer`` on 800k
    rows), ``get_indexer`` otherwise."""
    if (pd.api.types.is_string_dtype(values.dtype) and pd.api.types.is_string_dtype(ids.dtype)
            and not values.isna().any() and not ids.isna().any()):
        import pyarrow as pa
        import pyarrow.compute as pc

        try:
            got = pc.index_in(pa.array(values), value_set=pa.array(ids))
            codes: I64 = np.asarray(got.fill_null(-1).to_numpy(zero_copy_only=False),
                                    dtype=np.int64)
            return codes
        except (pa.ArrowException, TypeError):  # e.g. mixed object values
            pass
    found: I64 = pd.Index(ids).get_indexer(values).astype(np.int64)
    return found


def weighted_quantiles(index: DemandIndex, time_s: F64, qs: tuple[float, ...]) -> list[F64]:
    """Population-weighted quantiles of ``time_s`` per unit (NaN where none is reached).

    Per unit, the time of the first point in time order at which the cumulative share of its
    older adults reaches q (less 1e-12).
    """
    order = unit_time_order(index.unit, time_s, index.n_units)
    u, t, w = index.unit[order], time_s[order], index.pop[order]
    out = [np.full(index.n_units, np.nan) for _ in qs]
    if u.size == 0:
        return out
    group = np.cumsum(np.r_[False, u[1:] != u[:-1]])
    total = group_sums(group, w, int(group[-1]) + 1)[group]
    cum = group_cumsums(group, w, int(group[-1]) + 1)
    share = cum / np.where(total > 0, total, 1.0)
    for q, res in zip(qs, out, strict=True):
        first = _firsts(np.flatnonzero(share >= q - 1e-12), group)
        res[u[first]] = t[first]
    return out


def unit_time_order(unit: I64, time_s: F64, n_units: int) -> I64:
    """Rows grouped by unit code (ascending), each unit's rows by time, ties in row order (the
    order of a stable sort by unit and time); rows of code -1 left out.

    Units are sorted as rows of a padded matrix, one per size class (powers of two): many
    short sorts instead of one of every row (a third less time on 800k rows in 10k units).
    """
    rows = np.flatnonzero(unit >= 0)
    rows = rows[_radix_order(unit[rows], n_units)]
    u = unit[rows]
    count = np.bincount(u, minlength=n_units)
    start = np.cumsum(count) - count
    width = np.zeros(n_units, dtype=np.int64)
    has = count > 0
    width[has] = 1 << np.ceil(np.log2(count[has])).astype(np.int64)
    out = np.empty_like(rows)
    for w in np.unique(width[has]):
        members = np.flatnonzero(width == w)
        slot = np.full(n_units, -1)
        slot[members] = np.arange(members.size)
        sel = np.flatnonzero(width[u] == w)  # positions in ``rows``
        padded = np.full((members.size, int(w)), np.nan)  # NaN sorts after every time
        padded[slot[u[sel]], sel - start[u[sel]]] = time_s[rows[sel]]
        ranked = np.argsort(padded, axis=1, kind="stable")
        real = np.arange(w)[None, :] < count[members][:, None]
        out[(start[members][:, None] + np.arange(w)[None, :])[real]] = rows[
            (start[members][:, None] + ranked)[real]]
    return out


def _radix_order(code: I64, n: int) -> I64:
    """Stable order of non-negative integer codes below ``n`` (numpy's radix sort when they
    fit 16 bits)."""
    if n < 2**16:
        order: I64 = np.argsort(code.astype(np.uint16), kind="stable")
        return order
    return stable_code_order(code)


def _firsts(rows: I64, group: I64) -> I64:
    """The first of ``rows`` (ascending) in each group."""
    if rows.size == 0:
        return rows
    picked: I64 = rows[np.r_[True, group[rows][1:] != group[rows][:-1]]]
    return picked


def nearest_facility(index: DemandIndex, fac_code: I64,
                     fac_ids: NDArray[np.object_]) -> NDArray[np.object_]:
    """Per unit, the facility nearest for the largest number of its older adults (ties to the
    first id in sort order; ``fac_code`` is the position in the sorted ``fac_ids``, -1 none).

    Points are grouped by (unit, facility) pair with one hash pass (pairs numbered in order of
    first appearance; each pair's older adults summed in row order), then only the pairs are
    sorted: by unit, most older adults first, then facility."""
    out = np.full(index.n_units, np.nan, dtype=object)
    ok = (fac_code >= 0) & (index.unit >= 0)
    if not ok.any():
        return out
    n_fac = np.int64(len(fac_ids))
    pair, keys = pd.factorize(index.unit[ok] * n_fac + fac_code[ok])
    pop = group_sums(pair.astype(np.int64), index.pop[ok], keys.size)
    unit, fac = keys // n_fac, keys % n_fac
    order = np.lexsort((fac, -pop, unit))
    first = order[np.r_[True, unit[order][1:] != unit[order][:-1]]]
    out[unit[first]] = fac_ids[fac[first]]
    return out
