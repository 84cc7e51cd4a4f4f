"""Incremental nearest-time updates for what-if scenarios: add or remove a facility.

Incremental and exact (equal to a full recomputation of the nearest times):

* **add** — one search from the new facility, pruned in effect: it starts bounded by the largest
  coverage threshold and is widened (doubled) only while an improved node still has an
  improvable neighbour beyond the bound; improved nodes are min-merged into the type's times.
* **remove / move** — only nodes whose nearest source was the removed facility are searched
  again, seeded from the unaffected boundary nodes (their times are unchanged) and from the other
  facilities whose segment touches the region; above :data:`FULL_SEARCH_SHARE` of the network the
  type's multi-source search is rerun instead. A move is a removal followed by an add.

Ties between equally near facilities may name a different nearest facility than a full run;
times and coverage are identical.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.sparse.csgraph import dijkstra

from planner.network.graph import MIN_EDGE_S, WalkNetwork
from planner.network.snap import SnapResult
from planner.routing.travel import NearestTimes, build_augmented_graph, compute_nearest_times

#: Affected share of nodes above which a removal reruns the type's full multi-source search.
FULL_SEARCH_SHARE = 0.3


def _incomplete(network: WalkNetwork, dist: NDArray[np.float64], old: NDArray[np.float64],
                limit_s: float) -> bool:
    """Whether an improved node may still improve a neighbour beyond the search bound."""
    better = dist < old
    for a, b in ((network.edge_u, network.edge_v), (network.edge_v, network.edge_u)):
        via = dist[a] + network.edge_walk_s
        if (better[a] & np.isinf(dist[b]) & (via < old[b])).any():
            return True
    return False


def add_source(network: WalkNetwork, near: NearestTimes, snap: SnapResult, position: int,
               limit_s: float) -> tuple[NearestTimes, int]:
    """Min-merge one new source (``snap`` of one point) into ``near``.

    Returns
    -------
    tuple of NearestTimes and int
        The merged times and the number of nodes the search reached.
    """
    if not snap.routable[0]:
        return near, 0
    graph, _ = build_augmented_graph(network, snap)
    n = network.n_nodes
    while True:
        dist = dijkstra(graph, directed=True, indices=n, limit=limit_s)[:n]
        if np.isinf(limit_s) or not _incomplete(network, dist, near.node_time_s, limit_s):
            break
        limit_s *= 2.0
    better = dist < near.node_time_s
    times = np.where(better, dist, near.node_time_s)
    source = np.where(better, position, near.node_source)
    return NearestTimes(times, source.astype(np.int64)), int(np.isfinite(dist).sum())


def _seed_arcs_into(
        network: WalkNetwork, snap: SnapResult, keep: NDArray[np.bool_],
        local: NDArray[np.int64]) -> tuple[list[int], list[int], list[float], list[int]]:
    """Arcs (facility, local node, time) of kept facilities whose segment ends in the region."""
    fac, node, time_s = [], [], []
    for j in np.flatnonzero(keep & snap.routable):
        e = snap.edge[j]
        w = network.edge_walk_s[e]
        access = snap.access_m[j] / network.speed_m_s
        for end, along in ((network.edge_u[e], snap.frac[j] * w),
                           (network.edge_v[e], (1 - snap.frac[j]) * w)):
            if local[end] >= 0:
                fac.append(int(j))
                node.append(int(local[end]))
                time_s.append(max(access + along, MIN_EDGE_S))
    return fac, node, time_s, []


def _region_graph(network: WalkNetwork, region: NDArray[np.int64], seeds_s: NDArray[np.float64],
                  seed_nodes: NDArray[np.int64]) -> sp.csr_matrix:
    """Induced subgraph on ``region`` plus one virtual node per seed arc (appended)."""
    sub = network.graph[region][:, region].tocoo()
    k, r = seed_nodes.size, region.size
    rows = np.concatenate([sub.row, r + np.arange(k)])
    cols = np.concatenate([sub.col, seed_nodes])
    data = np.concatenate([sub.data, np.maximum(seeds_s, MIN_EDGE_S)])
    return sp.csr_matrix((data, (rows, cols)), shape=(r + k, r + k))


def remove_sources(network: WalkNetwork, near: NearestTimes, gone: NDArray[np.bool_],
                   snap: SnapResult, keep: NDArray[np.bool_]) -> tuple[NearestTimes, int]:
    """Times after removing the sources flagged ``gone`` (positions), re-searching their region.

    ``keep`` flags the facilities (same positions as ``snap``) that remain sources of the type.
    """
    hit = (near.node_source >= 0) & gone[np.clip(near.node_source, 0, None)]
    affected = np.flatnonzero(hit)
    if affected.size == 0:
        return near, 0
    if affected.size > FULL_SEARCH_SHARE * network.n_nodes:
        return _full_search(network, snap, keep), network.n_nodes
    g = network.graph
    nbr = np.unique(g[affected].indices)
    boundary = nbr[~hit[nbr] & np.isfinite(near.node_time_s[nbr])]
    region = np.concatenate([affected, boundary])
    local = np.full(network.n_nodes, -1, dtype=np.int64)
    local[region] = np.arange(region.size)
    fac, fnode, ftime, _ = _seed_arcs_into(network, snap, keep, local)
    seed_src = np.concatenate([near.node_source[boundary], np.asarray(fac, dtype=np.int64)])
    seed_nodes = np.concatenate([local[boundary], np.asarray(fnode, dtype=np.int64)])
    seeds_s = np.concatenate([near.node_time_s[boundary], np.asarray(ftime, dtype=float)])
    graph = _region_graph(network, region, seeds_s, seed_nodes)
    virtual = region.size + np.arange(seed_nodes.size)
    times, source = near.node_time_s.copy(), near.node_source.copy()
    if virtual.size == 0:
        times[affected], source[affected] = np.inf, -1
        return NearestTimes(times, source), int(region.size)
    dist, _, src = dijkstra(graph, directed=True, indices=virtual, min_only=True,
                            return_predecessors=True)
    d = dist[: affected.size]
    s = src[: affected.size]
    times[affected] = d
    source[affected] = np.where(np.isfinite(d), seed_src[np.clip(s - region.size, 0, None)], -1)
    return NearestTimes(times, source), int(region.size)


def _full_search(network: WalkNetwork, snap: SnapResult, keep: NDArray[np.bool_]) -> NearestTimes:
    """The type's multi-source search over the ``keep`` facilities (positions kept)."""
    pos = np.flatnonzero(keep)
    sub = snap.take(pos)
    near = compute_nearest_times(network, sub)
    src = np.where(near.node_source >= 0, pos[np.clip(near.node_source, 0, None)]
                   if pos.size else -1, -1)
    return NearestTimes(near.node_time_s, src.astype(np.int64))
