"""Shortest walking times (seconds) from facilities: nearest per node/point and bounded per facility.

Points sit on segments (see :mod:`planner.network.snap`). A source at fraction f along segment (u, v) of
walking time w with an access leg of a seconds reaches u after a + f*w and v after a + (1-f)*w.
Each source becomes a virtual node with exactly those two outgoing arcs, appended to the CSR
arrays, so one scipy multi-source Dijkstra gives every node's nearest source and its time. A
destination point at fraction g with access b takes min(t[u] + g*w, t[v] + (1-g)*w) + b, or the
direct along-segment time |f-g|*w + a + b when source and destination share the segment.

With terrain (``network.directed``) the graph holds reversed arcs and every partial segment is
timed in the direction walked *towards* the source (:meth:`WalkNetwork.time_along_s`): the times
are those of an older adult walking to the facility.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.sparse.csgraph import dijkstra

from planner.network.graph import MIN_EDGE_S, WalkNetwork
from planner.network.snap import SnapResult

#: Memory allowed for one chunk of dense per-source distance rows (bytes).
CHUNK_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class NearestTimes:
    """Time from the nearest source to every node.

    Attributes
    ----------
    node_time_s
        Seconds, ``inf`` where no source is reachable (within the limit), shape (n,).
    node_source
        Position (in the source list given) of the nearest source, -1 where unreachable.
    """

    node_time_s: NDArray[np.float64]
    node_source: NDArray[np.int64]


def _seed_arcs(
    network: WalkNetwork, sources: SnapResult, routable: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Target nodes and times of the two arcs leaving each routable source (interleaved u, v)."""
    edge = sources.edge[routable]
    f = sources.frac[routable]
    access_s = sources.access_m[routable] / network.speed_m_s
    targets = np.empty(2 * edge.shape[0], dtype=np.int64)
    targets[0::2] = network.edge_u[edge]
    targets[1::2] = network.edge_v[edge]
    times = np.empty(2 * edge.shape[0])  # from each end node to the source
    times[0::2] = access_s + network.time_along_s(edge, np.zeros_like(f), f)
    times[1::2] = access_s + network.time_along_s(edge, np.ones_like(f), f)
    return targets, np.maximum(times, MIN_EDGE_S)


def build_augmented_graph(
    network: WalkNetwork, sources: SnapResult
) -> tuple[sp.csr_matrix, NDArray[np.int64]]:
    """CSR graph with one virtual node per routable source appended; return it and the sources used.

    Only the appended rows are new: the base arrays are concatenated, not rebuilt.
    """
    routable = np.flatnonzero(sources.routable)
    k = routable.shape[0]
    n = network.n_nodes
    base = network.graph
    targets, times = _seed_arcs(network, sources, routable)
    indptr = np.concatenate([base.indptr, base.indptr[-1] + 2 * np.arange(1, k + 1)])
    indices = np.concatenate([base.indices, targets.astype(base.indices.dtype)])
    data = np.concatenate([base.data, times])
    graph = sp.csr_matrix((data, indices, indptr), shape=(n + k, n + k))
    return graph, routable


def compute_nearest_times(
    network: WalkNetwork, sources: SnapResult, *, limit_s: float = np.inf
) -> NearestTimes:
    """One multi-source search: every node's time to its nearest routable source.

    Parameters
    ----------
    network
        Prepared walking network.
    sources
        Snapped sources (facilities); only ``status == "ok"`` ones are used.
    limit_s
        Search bound in seconds (``inf`` for none).
    """
    n = network.n_nodes
    graph, routable = build_augmented_graph(network, sources)
    if routable.shape[0] == 0:
        return NearestTimes(np.full(n, np.inf), np.full(n, -1, dtype=np.int64))
    virtual = np.arange(n, n + routable.shape[0])
    dist, _, src = dijkstra(
        graph, directed=True, indices=virtual, limit=limit_s, min_only=True,
        return_predecessors=True,
    )
    src = src[:n]
    node_source = np.where(src >= n, routable[np.clip(src - n, 0, None)], -1)
    return NearestTimes(np.asarray(dist[:n], dtype=np.float64), node_source.astype(np.int64))


def _same_edge_times(
    network: WalkNetwork, points: SnapResult, sources: SnapResult
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
    """Direct along-segment times of the point/source pairs sharing a segment.

    Returns ``(point, source, time_s)`` arrays, one entry per pair (sources grouped by segment
    with a sorted lookup; no pandas join on the hot path of a what-if)."""
    p_idx = np.flatnonzero(points.routable)
    s_idx = np.flatnonzero(sources.routable)
    order = np.argsort(sources.edge[s_idx], kind="stable")
    s_edge = sources.edge[s_idx][order]
    p_edge = points.edge[p_idx]
    lo = np.searchsorted(s_edge, p_edge, side="left")
    count = np.searchsorted(s_edge, p_edge, side="right") - lo
    first = np.repeat(lo - (np.cumsum(count) - count), count)
    p = np.repeat(p_idx, count)
    s = s_idx[order[first + np.arange(p.size)]]
    e = points.edge[p]
    speed = network.speed_m_s
    time_s = (network.time_along_s(e, points.frac[p], sources.frac[s])
              + points.access_m[p] / speed + sources.access_m[s] / speed)
    return p, s, time_s


@dataclass(frozen=True, slots=True)
class PointLegs:
    """What :func:`compute_point_times` needs of the points whatever the sources (compute once
    for several facility types): the routable points, their segment's end nodes, the walk
    from each end to the point and the access leg (seconds)."""

    ok: NDArray[np.int64]
    u: NDArray[np.int64]
    v: NDArray[np.int64]
    from_u_s: NDArray[np.float64]
    from_v_s: NDArray[np.float64]
    access_s: NDArray[np.float64]


def point_legs(network: WalkNetwork, points: SnapResult) -> PointLegs:
    """The source-independent part of :func:`compute_point_times` for ``points``."""
    ok = np.flatnonzero(points.routable)
    e = points.edge[ok]
    g = points.frac[ok]
    return PointLegs(ok, network.edge_u[e], network.edge_v[e],
                     network.time_along_s(e, g, np.zeros_like(g)),
                     network.time_along_s(e, g, np.ones_like(g)),
                     points.access_m[ok] / network.speed_m_s)


def compute_point_times(
    network: WalkNetwork, nearest: NearestTimes, points: SnapResult, sources: SnapResult,
    legs: PointLegs | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Time from each point to its nearest source and that source's position.

    Returns ``(time_s, source)``; unroutable or unreachable points get ``inf`` and -1.
    ``legs`` (:func:`point_legs` of ``points``) saves recomputing them per source set.
    """
    p = points.edge.shape[0]
    time_s = np.full(p, np.inf)
    source = np.full(p, -1, dtype=np.int64)
    legs = legs if legs is not None else point_legs(network, points)
    ok, u, v = legs.ok, legs.u, legs.v
    if ok.size == 0:
        return time_s, source
    via_u = nearest.node_time_s[u] + legs.from_u_s
    via_v = nearest.node_time_s[v] + legs.from_v_s
    use_u = via_u <= via_v
    time_s[ok] = np.where(use_u, via_u, via_v) + legs.access_s
    source[ok] = np.where(use_u, nearest.node_source[u], nearest.node_source[v])
    dp, ds, dt = _same_edge_times(network, points, sources)
    if dp.size:  # per point the quickest direct pair (lowest source position on ties)
        order = np.lexsort((ds, dt, dp))
        best = order[np.r_[True, dp[order][1:] != dp[order][:-1]]]
        bp, bt = dp[best], dt[best]
        better = bt < time_s[bp]
        time_s[bp[better]] = bt[better]
        source[bp[better]] = ds[best][better]
    source[~np.isfinite(time_s)] = -1
    return time_s, source


def iter_source_reach(
    network: WalkNetwork, sources: SnapResult, *, limit_s: float, chunk_bytes: int = CHUNK_BYTES
) -> Iterator[tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]]:
    """Bounded search from each routable source, in memory-bounded chunks.

    Yields ``(source, node, time_s)`` triples (flat arrays, one entry per reached node) for each
    chunk; never a dense sources-by-nodes matrix beyond ``chunk_bytes``.
    """
    n = network.n_nodes
    graph, routable = build_augmented_graph(network, sources)
    rows = max(1, chunk_bytes // (8 * (n + routable.shape[0])))
    for start in range(0, routable.shape[0], rows):
        chunk = np.arange(start, min(start + rows, routable.shape[0]))
        dist = dijkstra(graph, directed=True, indices=n + chunk, limit=limit_s)[:, :n]
        r, c = np.nonzero(np.isfinite(dist))
        yield routable[chunk[r]], c.astype(np.int64), dist[r, c]


def compute_source_reach(
    network: WalkNetwork, sources: SnapResult, *, limit_s: float
) -> sp.csr_matrix:
    """Sparse (sources x nodes) matrix of walking times within ``limit_s`` (seconds).

    Rows follow the positions in ``sources`` (unroutable sources have empty rows); stored
    entries are reached nodes (times are >= MIN_EDGE_S, never stored zeros).
    """
    parts = list(iter_source_reach(network, sources, limit_s=limit_s))
    k = sources.edge.shape[0]
    if not parts:
        return sp.csr_matrix((k, network.n_nodes))
    src = np.concatenate([p[0] for p in parts])
    node = np.concatenate([p[1] for p in parts])
    time_s = np.maximum(np.concatenate([p[2] for p in parts]), MIN_EDGE_S)
    return sp.csr_matrix((time_s, (src, node)), shape=(k, network.n_nodes))
