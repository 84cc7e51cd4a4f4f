"""Nearby services from one tapped point: one bounded search, times, distances and routes.

The tapped point is snapped to its nearest segment (as facilities and demand points are, see
:mod:`planner.network.snap`) and becomes one virtual source node with two arcs, exactly as in
:mod:`planner.routing.travel`; a single scipy Dijkstra bounded at ``limit_s`` gives every node's
time, and node times become place times by the rule of
:func:`planner.routing.travel.compute_point_times` (access legs and same-segment shortcuts).
Routes follow the predecessors back to the tapped point.

Worked example: a segment of 100 m walked at 0.8 m/s (125 s); the point taps 10 m off the
segment at 20 % of it and a facility stands 5 m off it at 60 %. Same segment, so the time is
|0.6 - 0.2| * 125 + 10/0.8 + 5/0.8 = 50 + 12.5 + 6.25 = 68.75 s, and the route is
10 + 40 + 5 = 55 m long.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.sparse.csgraph import dijkstra

from planner.network.graph import MIN_EDGE_S, WalkNetwork
from planner.network.snap import EdgeIndex, SnapResult

#: Predecessor value scipy uses for "none".
_NO_PRED = -9999


@dataclass(frozen=True, slots=True)
class NearbyHit:
    """One reachable facility.

    Attributes
    ----------
    position
        Row position in the facility table the index was built on.
    walk_s
        Walking time from the tapped point, seconds (steps penalised as in the network).
    walk_m
        Length of the route, metres (access legs included).
    route_xy
        Route vertices in the network CRS, from the tapped point to the facility, shape (k, 2).
    """

    position: int
    walk_s: float
    walk_m: float
    route_xy: NDArray[np.float64]


@dataclass(slots=True)
class FinderIndex:
    """Network, segment index and snapped facilities, prepared once per analysis.

    The search graph is the network's CSR matrix with one spare row (the tapped point) whose two
    arcs are rewritten per query under a lock, so a query copies nothing of size n.
    """

    network: WalkNetwork
    edges: EdgeIndex
    facility_snap: SnapResult
    max_snap_m: float
    graph: sp.csr_matrix = field(init=False)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        base = self.network.graph
        n = self.network.n_nodes
        indptr = np.concatenate([base.indptr, [base.indptr[-1] + 2]])
        indices = np.concatenate([base.indices, np.zeros(2, dtype=base.indices.dtype)])
        data = np.concatenate([base.data, np.full(2, MIN_EDGE_S)])
        self.graph = sp.csr_matrix((data, indices, indptr), shape=(n + 1, n + 1))


def build_finder_index(network: WalkNetwork, facility_snap: SnapResult,
                       max_snap_m: float, edges: EdgeIndex | None = None) -> FinderIndex:
    """Prepare the finder for a network and its snapped facilities (rows of the facility table)."""
    return FinderIndex(network, edges or EdgeIndex(network), facility_snap, max_snap_m)


def _edge_point(net: WalkNetwork, edge: int, frac: float) -> tuple[float, float]:
    u, v = net.edge_u[edge], net.edge_v[edge]
    return (float(net.x_m[u] + frac * (net.x_m[v] - net.x_m[u])),
            float(net.y_m[u] + frac * (net.y_m[v] - net.y_m[u])))


def _search(index: FinderIndex, tap: SnapResult, limit_s: float) -> tuple[NDArray[np.float64],
                                                                          NDArray[np.int32]]:
    net = index.network
    edge = int(tap.edge[0])
    w = float(net.edge_walk_s[edge])
    access_s = float(tap.access_m[0]) / net.speed_m_s
    g = index.graph
    with index.lock:
        g.indices[-2:] = (net.edge_u[edge], net.edge_v[edge])
        g.data[-2:] = np.maximum([access_s + tap.frac[0] * w,
                                  access_s + (1.0 - tap.frac[0]) * w], MIN_EDGE_S)
        dist, pred = dijkstra(g, directed=True, indices=net.n_nodes, limit=limit_s,
                              return_predecessors=True)
    return np.asarray(dist), np.asarray(pred)


def _node_path(pred: NDArray[np.int32], end: int, virtual: int) -> list[int]:
    path = [end]
    while True:
        step = int(pred[path[-1]])
        if step in (virtual, _NO_PRED):
            break
        path.append(step)
    path.reverse()
    return path


def _route(index: FinderIndex, tap: SnapResult, tap_xy: tuple[float, float],
           pred: NDArray[np.int32], position: int, via: int | None) -> NDArray[np.float64]:
    net = index.network
    fs = index.facility_snap
    pts = [tap_xy, _edge_point(net, int(tap.edge[0]), float(tap.frac[0]))]
    if via is not None:
        pts.extend((float(net.x_m[i]), float(net.y_m[i]))
                   for i in _node_path(pred, via, net.n_nodes))
    pts.append(_edge_point(net, int(fs.edge[position]), float(fs.frac[position])))
    return np.asarray(pts, dtype=float)


def find_nearby(index: FinderIndex, x_m: float, y_m: float, limit_s: float,
                candidates: NDArray[np.bool_], facility_xy: NDArray[np.float64]) -> list[NearbyHit]:
    """Facilities among ``candidates`` reachable within ``limit_s``, nearest first.

    Parameters
    ----------
    index
        Prepared finder index.
    x_m, y_m
        Tapped point in the network CRS.
    limit_s
        Search bound, seconds.
    candidates
        Mask over the index's facilities (e.g. the requested types).
    facility_xy
        Facility points in the network CRS, shape (k, 2) (route end points).

    Returns
    -------
    list of NearbyHit
        Sorted by walking time, then position; empty when the point does not snap onto the
        routed network.
    """
    tap = index.edges.snap(np.array([x_m]), np.array([y_m]), index.max_snap_m)
    if not tap.routable[0]:
        return []
    dist, pred = _search(index, tap, limit_s)
    time_s, via = _place_times(index, tap, dist, candidates)
    ok = np.flatnonzero(time_s <= limit_s)
    order = ok[np.lexsort((ok, time_s[ok]))]
    hits = []
    for pos in order.tolist():
        node = None if via[pos] < 0 else int(via[pos])
        line = np.vstack([_route(index, tap, (x_m, y_m), pred, pos, node), facility_xy[pos]])
        walk_m = float(np.hypot(*np.diff(line, axis=0).T).sum())
        hits.append(NearbyHit(pos, float(time_s[pos]), walk_m, line))
    return hits


def _place_times(index: FinderIndex, tap: SnapResult, dist: NDArray[np.float64],
                 candidates: NDArray[np.bool_]) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Seconds to each candidate place (inf elsewhere) and the node its route enters by (-1:
    along the tapped segment itself), as in :func:`planner.routing.travel.compute_point_times`."""
    net = index.network
    fs = index.facility_snap
    time_s = np.full(fs.edge.shape[0], np.inf)
    via = np.full(fs.edge.shape[0], -1, dtype=np.int64)
    ok = np.flatnonzero(candidates & fs.routable)
    e = fs.edge[ok]
    w = net.edge_walk_s[e]
    u, v = net.edge_u[e], net.edge_v[e]
    via_u = dist[u] + fs.frac[ok] * w
    via_v = dist[v] + (1.0 - fs.frac[ok]) * w
    use_u = via_u <= via_v
    time_s[ok] = np.where(use_u, via_u, via_v) + fs.access_m[ok] / net.speed_m_s
    via[ok] = np.where(use_u, u, v)
    same = ok[e == tap.edge[0]]
    direct = (np.abs(fs.frac[same] - tap.frac[0]) * net.edge_walk_s[tap.edge[0]]
              + (tap.access_m[0] + fs.access_m[same]) / net.speed_m_s)
    better = direct < time_s[same]
    time_s[same[better]] = direct[better]
    via[same[better]] = -1
    return time_s, via
