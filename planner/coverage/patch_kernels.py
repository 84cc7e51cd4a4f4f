"""Compiled kernels of the what-if unit patch (:mod:`planner.coverage.patch`; numba, see
:mod:`planner.routing.jit`).

:func:`unit_rows` recomputes the coverage figures of a few units in one call, with the
arithmetic of the full tables: pandas' compensated (Kahan) grouped sum and cumulative sum, rows
in the same order (a unit's points in row order; sorted by time, stably, for the quantiles; by
facility, stably, for the nearest facility), so the results are bit-for-bit the same.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from planner.routing.jit import kernel


@kernel
def kahan_add(total: float, comp: float, value: float) -> tuple[float, float]:
    """One step of pandas' compensated sum: the new (total, compensation); NaN values skipped,
    a NaN compensation (an infinite value) reset to 0."""
    if value != value:
        return total, comp
    y = value - comp
    t = total + y
    comp = t - total - y
    if comp != comp:
        comp = 0.0
    return t, comp


@kernel
def _covered_sums(rows: Any, covered: Any, kind: Any, pop: Any, out: Any, i: int) -> None:
    """Covered / out-of-reach / disconnected / not-snapped sums of one unit's rows into
    ``out[i, 0:4]``: every row adds its weight to its column and 0.0 to the three others, as
    the grouped sum over a 4-column array does."""
    tot = np.zeros(4)
    comp = np.zeros(4)
    for r in range(rows.size):
        p = rows[r]
        cat = 0 if covered[r] else kind[p]
        for j in range(4):
            tot[j], comp[j] = kahan_add(tot[j], comp[j], pop[p] if j == cat else 0.0)
    out[i, 0:4] = tot


@kernel
def _quantiles(t: Any, w: Any, q_lo: float, q_hi: float) -> tuple[float, float]:
    """Times at which the compensated running share of ``w`` (rows sorted by ``t``, stably)
    first reaches ``q_lo`` and ``q_hi``; NaN where it never does."""
    order = np.argsort(t, kind="mergesort")
    cum = np.empty(t.size)
    total, comp = 0.0, 0.0
    for r in range(t.size):
        total, comp = kahan_add(total, comp, w[order[r]])
        cum[r] = total
    denom = total if total > 0 else 1.0
    lo, hi = np.nan, np.nan
    for r in range(t.size - 1, -1, -1):
        share = cum[r] / denom
        if share >= q_lo:
            lo = t[order[r]]
        if share >= q_hi:
            hi = t[order[r]]
    return lo, hi


@kernel
def _nearest(key: Any, w: Any, total: Any, comp: Any) -> tuple[int, int]:
    """The facility key with the largest compensated sum of ``w`` (rows of key -1 left out;
    per key in row order, as a stable sort by key would add them) and how many keys share
    that sum (-1, 0 when none). ``total`` and ``comp`` are zeroed scratch arrays, one entry per
    key, left zeroed."""
    for r in range(key.size):
        k = key[r]
        if k >= 0:
            total[k], comp[k] = kahan_add(total[k], comp[k], w[r])
    best = -np.inf
    for r in range(key.size):
        if key[r] >= 0 and total[key[r]] > best:
            best = total[key[r]]
    best_key, n_top = -1, 0
    for r in range(key.size):
        k = key[r]
        if k >= 0 and total[k] == best:  # a top key not yet counted
            n_top += 1
            best_key = k if best_key < 0 or k < best_key else best_key
            total[k] = -np.inf  # counted
    for r in range(key.size):
        if key[r] >= 0:
            total[key[r]], comp[key[r]] = 0.0, 0.0
    return best_key, n_top


@kernel
def unit_rows(hit: Any, unit_ptr: Any, unit_order: Any, time_s: Any, key: Any, pop: Any,
              kind: Any, threshold_s: Any, n_keys: int, q_lo: float, q_hi: float,
              sums: bool) -> Any:
    """Per unit of ``hit``: the four population sums (if ``sums``), the two time quantiles
    (seconds) and the nearest facility key with its tie count, as arrays (keys below
    ``n_keys``)."""
    n = hit.size
    parts = np.zeros((n, 4))
    quant = np.empty((n, 2))
    best = np.empty((n, 2), dtype=np.int64)
    total, comp = np.zeros(n_keys), np.zeros(n_keys)
    for i in range(n):
        u = hit[i]
        rows = unit_order[unit_ptr[u]:unit_ptr[u + 1]]
        t = time_s[rows]
        w = pop[rows]
        if sums:
            _covered_sums(rows, t <= threshold_s[u], kind, pop, parts, i)
        quant[i, 0], quant[i, 1] = _quantiles(t, w, q_lo, q_hi)
        best[i, 0], best[i, 1] = _nearest(key[rows], w, total, comp)
    return parts, quant, best


@kernel
def _collect(ptr: Any, order: Any, wanted: Any, flag: Any, out: Any, n: int) -> int:
    """Append to ``out`` the entries ``order[ptr[w]:ptr[w + 1]]`` of each of ``wanted`` not
    yet flagged (flagging them); returns the new count."""
    for w in wanted:
        for k in range(ptr[w], ptr[w + 1]):
            p = order[k]
            if not flag[p]:
                flag[p] = True
                out[n] = p
                n += 1
    return n


@kernel
def points_near(node_ptr: Any, node_order: Any, edge_ptr: Any, edge_order: Any, nodes: Any,
                edges: Any, n_points: int) -> Any:
    """The points listed under any of ``nodes`` or ``edges`` (CSR pointers into orders of
    the points), each once, ascending."""
    flag = np.zeros(n_points, dtype=np.bool_)
    size = 0
    for w in nodes:
        size += node_ptr[w + 1] - node_ptr[w]
    for w in edges:
        size += edge_ptr[w + 1] - edge_ptr[w]
    out = np.empty(size, dtype=np.int64)
    n = _collect(node_ptr, node_order, nodes, flag, out, 0)
    n = _collect(edge_ptr, edge_order, edges, flag, out, n)
    return np.sort(out[:n])
