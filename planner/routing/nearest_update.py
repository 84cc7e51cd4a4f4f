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
from planner.routing.travel import NearestTimes, _seed_arcs, compute_nearest_times

#: Affected share of nodes above which a removal reruns the type's full multi-source search.
FULL_SEARCH_SHARE = 0.3


class NodeGrid:
    """Nodes bucketed on a square grid, to pick the nodes near a point without a full scan."""

    def __init__(self, network: WalkNetwork, cell_m: float = 250.0) -> None:
        self.cell_m = cell_m
        self.x0, self.y0 = float(network.x_m.min(initial=0.0)), float(network.y_m.min(initial=0.0))
        cx = ((network.x_m - self.x0) // cell_m).astype(np.int64)
        cy = ((network.y_m - self.y0) // cell_m).astype(np.int64)
        self.nx = int(cx.max(initial=0)) + 1
        self.ny = int(cy.max(initial=0)) + 1
        cell = cy * self.nx + cx
        self.order = np.argsort(cell, kind="stable")
        self.start = np.searchsorted(cell[self.order], np.arange(self.nx * self.ny + 1))
        ends = np.r_[network.edge_u, network.edge_v]
        self.edge_order = np.argsort(ends, kind="stable") % max(network.n_edges, 1)
        self.edge_start = np.searchsorted(ends[np.argsort(ends, kind="stable")],
                                          np.arange(network.n_nodes + 1))
        lengths = np.hypot(network.x_m[network.edge_u] - network.x_m[network.edge_v],
                           network.y_m[network.edge_u] - network.y_m[network.edge_v])
        self.longest_m = float(lengths.max(initial=0.0))

    def edges_within(self, x_m: float, y_m: float, radius_m: float) -> NDArray[np.int64]:
        """Every segment with a point within ``radius_m`` of (x, y), and maybe more (ascending):
        those with an end node within ``radius_m`` plus the longest segment's length."""
        nodes = self.within(x_m, y_m, radius_m + self.longest_m)
        lo, hi = self.edge_start[nodes], self.edge_start[nodes + 1]
        count = hi - lo
        at = np.repeat(lo, count) + np.arange(count.sum()) - np.repeat(np.cumsum(count) - count,
                                                                         count)
        edges: NDArray[np.int64] = np.unique(self.edge_order[at])
        return edges

    def within(self, x_m: float, y_m: float, radius_m: float) -> NDArray[np.int64]:
        """Nodes in the cells the square of half-side ``radius_m`` around (x, y) touches."""
        lo_x = max(int((x_m - radius_m - self.x0) // self.cell_m), 0)
        hi_x = min(int((x_m + radius_m - self.x0) // self.cell_m), self.nx - 1)
        lo_y = max(int((y_m - radius_m - self.y0) // self.cell_m), 0)
        hi_y = min(int((y_m + radius_m - self.y0) // self.cell_m), self.ny - 1)
        if lo_x > hi_x or lo_y > hi_y:
            return np.zeros(0, dtype=np.int64)
        rows = np.arange(lo_y, hi_y + 1) * self.nx
        a, b = self.start[rows + lo_x], self.start[rows + hi_x + 1]
        nodes: NDArray[np.int64] = self.order[np.concatenate(
            [np.arange(i, j) for i, j in zip(a, b, strict=True)])]
        return nodes


def _subgraph(network: WalkNetwork, nodes: NDArray[np.int64], local: NDArray[np.int64],
              seeds: NDArray[np.int64], seed_s: NDArray[np.float64]) -> sp.csr_matrix:
    """Induced subgraph of ``nodes`` plus a virtual last node with arcs to ``seeds`` (times
    ``seed_s``); ``local`` maps global to local positions (-1 outside)."""
    g = network.graph
    lo, hi = g.indptr[nodes], g.indptr[nodes + 1]
    count = hi - lo
    row = np.repeat(np.arange(nodes.size), count)
    at = np.repeat(lo, count) + np.arange(row.size) - np.repeat(np.cumsum(count) - count, count)
    col = local[g.indices[at]]
    keep = col >= 0
    per_row = np.bincount(row[keep], minlength=nodes.size)  # rows come grouped, in order
    indptr = np.r_[0, np.cumsum(per_row), int(keep.sum()) + seeds.size]
    cols = np.concatenate([col[keep], local[seeds]])
    data = np.concatenate([g.data[at][keep], seed_s])
    return sp.csr_matrix((data, cols, indptr), shape=(nodes.size + 1, nodes.size + 1))


def _escapes(network: WalkNetwork, nodes: NDArray[np.int64], dist: NDArray[np.float64],
             old: NDArray[np.float64], better: NDArray[np.bool_],
             local: NDArray[np.int64]) -> bool:
    """Whether an improved node could improve a neighbour the bounded search did not reach
    (outside the subgraph or beyond the time bound)."""
    g = network.graph
    src = nodes[better]
    lo, hi = g.indptr[src], g.indptr[src + 1]
    count = hi - lo
    at = np.repeat(lo, count) + np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    nbr = g.indices[at]
    via = np.repeat(dist[better], count) + g.data[at]
    reached = np.zeros(nbr.size, dtype=bool)
    inside = local[nbr] >= 0
    reached[inside] = np.isfinite(dist[local[nbr[inside]]])
    return bool((~reached & (via < old[nbr])).any())


def add_source(network: WalkNetwork, near: NearestTimes, snap: SnapResult, position: int,
               limit_s: float, grid: NodeGrid | None = None) -> tuple[NearestTimes, int]:
    """Min-merge one new source (``snap`` of one point) into ``near``.

    The search runs on the nodes within walking reach of ``limit_s`` as the crow flies (picked
    on ``grid``) and only the nodes it improves are written; bound and area double while an
    improved node could still improve one beyond them.

    Returns
    -------
    tuple of NearestTimes and int
        The merged times and the number of nodes the search reached.
    """
    if not snap.routable[0]:
        return near, 0
    grid = grid or NodeGrid(network)
    e = int(snap.edge[0])
    u, v, f = network.edge_u[e], network.edge_v[e], snap.frac[0]
    x = network.x_m[u] + f * (network.x_m[v] - network.x_m[u])
    y = network.y_m[u] + f * (network.y_m[v] - network.y_m[u])
    seeds, seed_s = _seed_arcs(network, snap, np.array([0]))
    local = np.full(network.n_nodes, -1, dtype=np.int64)
    while True:
        nodes = (grid.within(x, y, 1.1 * limit_s * network.speed_m_s + 50.0)
                 if np.isfinite(limit_s) else np.arange(network.n_nodes))
        nodes = np.concatenate([nodes, np.setdiff1d(seeds, nodes[np.isin(nodes, seeds)])])
        local[nodes] = np.arange(nodes.size)
        graph = _subgraph(network, nodes, local, seeds, seed_s)
        dist = dijkstra(graph, directed=True, indices=nodes.size, limit=limit_s)
        dist = dist[: nodes.size]
        better = dist < near.node_time_s[nodes]
        if not _escapes(network, nodes, dist, near.node_time_s, better, local):
            break
        local[nodes] = -1
        limit_s *= 2.0
    times, source = near.node_time_s.copy(), near.node_source.copy()
    times[nodes[better]] = dist[better]
    source[nodes[better]] = position
    return NearestTimes(times, source), int(np.isfinite(dist).sum())


def _seed_arcs_into(
        network: WalkNetwork, snap: SnapResult, keep: NDArray[np.bool_],
        local: NDArray[np.int64]) -> tuple[list[int], list[int], list[float], list[int]]:
    """Arcs (facility, local node, time) of kept facilities whose segment ends in the region."""
    fac, node, time_s = [], [], []
    for j in np.flatnonzero(keep & snap.routable):
        e = snap.edge[j]
        access = snap.access_m[j] / network.speed_m_s
        ends = network.time_along_s(np.array([e, e]), np.array([0.0, 1.0]), snap.frac[[j, j]])
        for end, along in ((network.edge_u[e], ends[0]), (network.edge_v[e], ends[1])):
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
