"""Compiled kernels of the what-if's demand-point step (numba, see :mod:`planner.routing.jit`).

:func:`leg_times` times a few demand points through their segment's end nodes, with the
arithmetic of :func:`planner.routing.travel.compute_point_times`; :func:`changed_points`
compares them with the old times and writes the new ones into copies of the old arrays.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from planner.routing.jit import kernel


@kernel
def _along_s(e: int, frac_from: float, frac_to: float, walk_s: Any, uv_s: Any, vu_s: Any,
             directed: bool) -> float:
    """:meth:`planner.network.graph.WalkNetwork.time_along_s` of one segment."""
    d = frac_to - frac_from
    if not directed:
        return float(abs(d) * walk_s[e])
    return float(d * uv_s[e] if d >= 0 else -d * vu_s[e])


@kernel
def leg_times(walk: Any, points: Any, node_time_s: Any, node_source: Any, fac: Any,
              seg: Any, speed_m_s: float) -> Any:
    """Per point of ``points``: ``min(t[u] + from_u, t[v] + from_v) + access`` (the ``u`` leg
    on ties; an unroutable end (-1) is an infinite leg) and the key of the source of that end
    (-1 where the time is infinite), then lowered where a facility on the point's own segment
    is strictly quicker directly (the quickest, the lowest position on ties).

    ``walk``: the points' (edge, u, v) as an int array of three rows and (from_u_s, from_v_s,
    access_s, frac) as a float array of four rows; ``fac``: the facilities on the network,
    sorted by segment (positions ascending within one), as an int array of rows (segment,
    key) and a float array of rows (frac, access_m); ``seg``: the segments' walking times
    (rows walk_s, uv_s, vu_s; uv_s used when there are three rows)."""
    ints, floats = walk
    f_int, f_float = fac
    directed = seg.shape[0] == 3
    n = points.size
    t_s = np.empty(n)
    src = np.empty(n, dtype=np.int64)
    for i in range(n):
        p = points[i]
        a, b = ints[1, p], ints[2, p]
        via_u = node_time_s[a] + floats[0, p] if a >= 0 else np.inf
        via_v = node_time_s[b] + floats[1, p] if b >= 0 else np.inf
        t, s = (via_u, node_source[a]) if via_u <= via_v else (via_v, node_source[b])
        t_s[i] = t + floats[2, p]
        src[i] = s if t_s[i] != np.inf else -1
        e = ints[0, p]
        k = np.searchsorted(f_int[0], e)
        while e >= 0 and k < f_int.shape[1] and f_int[0, k] == e:
            direct = (_along_s(e, floats[3, p], f_float[0, k], seg[0], seg[1 % seg.shape[0]],
                               seg[2 % seg.shape[0]], directed)
                      + floats[2, p] + f_float[1, k] / speed_m_s)
            if direct < t_s[i]:
                t_s[i], src[i] = direct, f_int[1, k]
            k += 1
    return t_s, src


@kernel
def changed_points(points: Any, t_new: Any, key_new: Any, t_old: Any, key_old: Any,
                   unit: Any, threshold_s: Any) -> Any:
    """The points of ``points`` whose time or key changed, copies of ``t_old`` / ``key_old``
    with the new values written, and whether any changed point crossed its unit's threshold
    (covered is ``time <= threshold``)."""
    t_s, keys = t_old.copy(), key_old.copy()
    out = np.empty(points.size, dtype=np.int64)
    n, flipped = 0, False
    for i in range(points.size):
        p = points[i]
        if t_new[i] != t_old[p] or key_new[i] != key_old[p]:
            out[n] = p
            n += 1
            t_s[p], keys[p] = t_new[i], key_new[i]
            u = unit[p]
            if u >= 0 and (t_old[p] <= threshold_s[u]) != (t_new[i] <= threshold_s[u]):
                flipped = True
    return out[:n], t_s, keys, flipped
