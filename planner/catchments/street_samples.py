"""Points on the reached street with the time each is reached: the input of catchment rasters.

A point is ``(segment, fraction, time)``: on segment (u, v) of walking time w at fraction f it is
reached at min(t_u + f*w, t_v + (1-f)*w), and on the own segment of a source also at
a + |f - f_s|*w (its direct walk from its snap point; a: its access time).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from planner.catchments.raster import Pieces, Samples
from planner.network.graph import MIN_EDGE_S, WalkNetwork
from planner.network.snap import SnapResult

StreetPoints = tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]


def sample_street(network: WalkNetwork, edges: NDArray[np.int64],
                  node_time_s: NDArray[np.float64], limit_s: float, step_m: float,
                  sources: SnapResult, which: NDArray[np.int64]) -> StreetPoints:
    """Points every ``step_m`` along ``edges`` (ends included) that are reached by ``limit_s``."""
    seg, frac, t = _edge_samples(network, edges, node_time_s, step_m, sources, which)
    keep = t <= limit_s
    return edges[seg[keep]], frac[keep], t[keep]


def sample_street_xy(network: WalkNetwork, edges: NDArray[np.int64],
                     node_time_s: NDArray[np.float64], limit_s: float, step_m: float,
                     sources: SnapResult, which: NDArray[np.int64]) -> Samples:
    """:func:`sample_street` as ``(x, y, time)``, the same numbers without the segment ids.

    Meant for a few hundred thousand points at a time: per-segment values are gathered once
    and the point arrays stay in cache (see :func:`sample_chunks`).
    """
    seg, frac, t = _edge_samples(network, edges, node_time_s, step_m, sources, which)
    keep = t <= limit_s
    seg, frac = seg[keep], frac[keep]
    xu, yu = network.x_m[network.edge_u[edges]], network.y_m[network.edge_u[edges]]
    dx, dy = network.x_m[network.edge_v[edges]] - xu, network.y_m[network.edge_v[edges]] - yu
    return xu[seg] + frac * dx[seg], yu[seg] + frac * dy[seg], t[keep]


def sample_chunks(network: WalkNetwork, edges: NDArray[np.int64], step_m: float,
                  points: int = 1 << 18) -> list[NDArray[np.int64]]:
    """``edges`` cut into consecutive parts of about ``points`` samples each."""
    n = _sample_counts(network, edges, step_m)
    cuts = np.searchsorted(np.cumsum(n), np.arange(points, int(n.sum()), points))
    return [part for part in np.split(edges, np.unique(cuts)) if part.size]


def _sample_counts(network: WalkNetwork, edges: NDArray[np.int64], step_m: float
                   ) -> NDArray[np.int64]:
    """Samples per segment: every ``step_m``, both ends included."""
    return np.maximum(2, np.ceil(network.edge_length_m[edges] / step_m).astype(np.int64) + 1)


def _edge_samples(network: WalkNetwork, edges: NDArray[np.int64],
                  node_time_s: NDArray[np.float64], step_m: float, sources: SnapResult,
                  which: NDArray[np.int64]
                  ) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
    """All samples of ``edges``: position in ``edges``, fraction, time reached."""
    n = _sample_counts(network, edges, step_m)
    seg = np.repeat(np.arange(edges.size), n)
    frac = (np.arange(seg.size) - (np.cumsum(n) - n)[seg]) / (n - 1)[seg]
    w_e = np.maximum(network.edge_walk_s[edges], MIN_EDGE_S)
    w = w_e[seg]
    t = np.minimum(node_time_s[network.edge_u[edges]][seg] + frac * w,
                   node_time_s[network.edge_v[edges]][seg] + (1.0 - frac) * w)
    which = which[sources.routable[which]]
    if which.size:
        _walk_own_segments(t, edges[seg], frac, w, network, sources, which)
    return seg, frac, t


def threshold_ends(network: WalkNetwork, edges: NDArray[np.int64],
                   node_time_s: NDArray[np.float64], thresholds_s: tuple[float, ...],
                   sources: SnapResult, which: NDArray[np.int64]) -> StreetPoints:
    """The points where the street reached within each threshold T ends, with time T.

    From an end x of a segment the street is reached up to fraction (T - t_x) / w; on a source's
    own segment up to f_s +- (T - a) / w. Regular sampling misses these ends by up to a step;
    adding them puts the buffer's end caps where the exact pieces end. Each point is reached
    within T (perhaps earlier from the other side), so it is a valid seed for every threshold
    >= T.
    """
    u, v = network.edge_u[edges], network.edge_v[edges]
    w = np.maximum(network.edge_walk_s[edges], MIN_EDGE_S)
    which = which[sources.routable[which]]
    s_edge = sources.edge[which]
    s_walk = np.maximum(network.edge_walk_s[s_edge], MIN_EDGE_S)
    s_access_s = sources.access_m[which] / network.speed_m_s
    s_frac = sources.frac[which]
    seg, frac, time = [], [], []
    for t_s in thresholds_s:
        own = np.where(t_s > s_access_s, (t_s - s_access_s) / s_walk, -np.inf)  # -inf: not left
        for f, e in (((t_s - node_time_s[u]) / w, edges),
                     (1.0 - (t_s - node_time_s[v]) / w, edges),
                     (s_frac - own, s_edge), (s_frac + own, s_edge)):
            ok = (f > 0.0) & (f < 1.0)
            seg.append(e[ok])
            frac.append(f[ok])
            time.append(np.full(int(ok.sum()), t_s))
    return np.concatenate(seg), np.concatenate(frac), np.concatenate(time)


def concat_points(*parts: StreetPoints) -> StreetPoints:
    """The points of all ``parts`` in one set."""
    return (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]),
            np.concatenate([p[2] for p in parts]))


def street_samples(network: WalkNetwork, points: StreetPoints) -> Samples:
    """``(x, y, time)`` of street points, metres."""
    x, y = street_xy(network, points[0], points[1])
    return x, y, points[2]


def street_xy(network: WalkNetwork, e: NDArray[np.int64], f: NDArray[np.float64]
              ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Coordinates of the points at fraction ``f`` of segments ``e``, metres."""
    xu, yu = network.x_m[network.edge_u[e]], network.y_m[network.edge_u[e]]
    return (xu + f * (network.x_m[network.edge_v[e]] - xu),
            yu + f * (network.y_m[network.edge_v[e]] - yu))


def reached_piece(network: WalkNetwork, node_time_s: NDArray[np.float64], sources: SnapResult,
                  source: int, points: StreetPoints, threshold_s: float,
                  idx: NDArray[np.int64]) -> Pieces:
    """For the points ``idx`` (reached within ``threshold_s`` from one ``source``), the reached
    piece of the segment each lies on: [0, r_u] when reached from u, [1 - r_v, 1] from v, else
    [f_s - r, f_s + r] on the source's own segment (r: the fractions walked in the time left).
    """
    e, f = points[0][idx], points[1][idx]
    w = np.maximum(network.edge_walk_s[e], MIN_EDGE_S)
    t_u, t_v = node_time_s[network.edge_u[e]], node_time_s[network.edge_v[e]]
    r_u = np.clip((threshold_s - t_u) / w, 0.0, 1.0)
    r_v = np.clip((threshold_s - t_v) / w, 0.0, 1.0)
    lo, hi = f.copy(), f.copy()  # a lone point if nothing below applies (rounding)
    own = e == sources.edge[source]
    if own.any() and sources.routable[source]:
        r = (threshold_s - sources.access_m[source] / network.speed_m_s) / w[own]
        lo[own] = np.minimum(lo[own], np.clip(sources.frac[source] - r, 0.0, 1.0))
        hi[own] = np.maximum(hi[own], np.clip(sources.frac[source] + r, 0.0, 1.0))
    eps = 1e-9
    from_v = r_v >= 1.0 - f - eps
    lo[from_v], hi[from_v] = 1.0 - r_v[from_v], 1.0
    from_u = r_u >= f - eps
    lo[from_u], hi[from_u] = 0.0, r_u[from_u]
    x0, y0 = street_xy(network, e, lo)
    x1, y1 = street_xy(network, e, hi)
    return x0, y0, x1, y1


def _walk_own_segments(t: NDArray[np.float64], e: NDArray[np.int64], frac: NDArray[np.float64],
                       w: NDArray[np.float64], network: WalkNetwork, sources: SnapResult,
                       which: NDArray[np.int64]) -> None:
    """Lower ``t`` in place to the direct walk a + |f - f_s|*w on each source's own segment."""
    src_edge = sources.edge[which]
    order = np.argsort(src_edge, kind="stable")
    src_sorted = src_edge[order]
    on = np.flatnonzero(np.isin(e, src_sorted))
    lo = np.searchsorted(src_sorted, e[on], side="left")
    hi = np.searchsorted(src_sorted, e[on], side="right")
    k = 0
    while True:  # one pass per source sharing a segment (almost always one)
        valid = lo + k < hi
        if not valid.any():
            return
        i = on[valid]
        j = which[order[lo[valid] + k]]
        direct = sources.access_m[j] / network.speed_m_s + np.abs(frac[i] - sources.frac[j]) * w[i]
        t[i] = np.minimum(t[i], direct)
        k += 1
