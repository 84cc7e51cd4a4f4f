"""One facility type's node and demand-point times after a scenario, with work ~ the change.

Removed (or moved-away) facilities: the nodes they served are searched again from the nodes
around them (:func:`planner.routing.local_search.refill_region`). New (or moved-in) facilities:
one search each that settles only the nodes it makes nearer
(:func:`planner.routing.local_search.grow_source`). A search that outgrows
:data:`~planner.routing.local_search.MAX_LOCAL_NODES` falls back to the compiled searches of
:mod:`planner.routing.nearest_update`. Demand points are then re-timed only on the segments
touching a changed node or holding a changed facility, with the arithmetic of
:func:`planner.routing.travel.compute_point_times`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from planner.network.graph import MIN_EDGE_S, WalkNetwork
from planner.network.snap import SNAPPED, SnapResult
from planner.routing import local_search
from planner.routing.local_search import Adjacency, grow_source, refill_region
from planner.routing.nearest_update import FULL_SEARCH_SHARE, NodeGrid, add_source, remove_sources
from planner.routing.travel import NearestTimes
from planner.whatif.core import PointWalk
from planner.whatif.point_kernels import leg_times

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class TypeChange:
    """A facility type's scenario: keys of its facilities taken away (removed or moved away),
    and positions in the new table of those added (new or moved in) and of those kept."""

    gone_keys: I64
    fresh_new: I64
    kept_new: I64


def seed_arcs(network: WalkNetwork, snap: SnapResult, positions: list[int],
              keys: I64) -> list[tuple[float, int, int]]:
    """(time, end node, key) of the two arcs leaving each facility at ``positions`` (routable),
    :func:`planner.routing.travel._seed_arcs` in Python floats (the same operations)."""
    uv, vu = network.edge_uv_s, network.edge_vu_s
    out = []
    for j in positions:
        e = int(snap.edge[j])
        f = float(snap.frac[j])
        access_s = float(snap.access_m[j]) / network.speed_m_s
        for node, d in ((int(network.edge_u[e]), f - 0.0), (int(network.edge_v[e]), f - 1.0)):
            if uv is None or vu is None:
                along = abs(d) * float(network.edge_walk_s[e])
            else:
                along = d * float(uv[e]) if d >= 0 else -d * float(vu[e])
            out.append((max(access_s + along, MIN_EDGE_S), node, int(keys[j])))
    return out


def _remove(network: WalkNetwork, adj: Adjacency, near: NearestTimes, change: TypeChange,
            snap: SnapResult, keys: I64) -> tuple[F64, I64, I64]:
    """Times and source keys after taking ``change.gone_keys`` away, and the nodes searched
    again (``keys`` per position of the new table)."""
    gone = np.zeros(int(max(keys.max(initial=-1), change.gone_keys.max(initial=-1))) + 2,
                    dtype=bool)
    gone[change.gone_keys] = True
    hit = gone[near.node_source]  # a source -1 reads the last entry (False)
    region = np.flatnonzero(hit)
    if region.size == 0:
        return near.node_time_s, near.node_source, region
    kept = change.kept_new[snap.status[change.kept_new] == SNAPPED]
    e = snap.edge[kept]
    near_region = kept[hit[network.edge_u[e]] | hit[network.edge_v[e]]]
    seeds = [arc for arc in seed_arcs(network, snap, near_region.tolist(), keys) if hit[arc[1]]]
    seed_s, seed_node, seed_key = (np.array([a[i] for a in seeds]) for i in range(3))
    got = (refill_region(adj, near.node_time_s, near.node_source, region, seed_s, seed_node,
                         seed_key, local_search.MAX_LOCAL_NODES)
           if region.size <= FULL_SEARCH_SHARE * network.n_nodes else None)
    if got is None:  # a large region: the compiled search (on table positions)
        return (*_remove_compiled(network, near, hit, change, snap, keys), region)
    times, source = near.node_time_s.copy(), near.node_source.copy()
    times[region], source[region] = np.inf, -1
    nodes, ts, ss = got
    times[nodes], source[nodes] = ts, ss
    return times, source, region


def _remove_compiled(network: WalkNetwork, near: NearestTimes, hit: NDArray[np.bool_],
                     change: TypeChange, snap: SnapResult, keys: I64) -> tuple[F64, I64]:
    """:func:`planner.routing.nearest_update.remove_sources` with sources as keys."""
    n = keys.size
    position = np.full(int(keys.max(initial=-1)) + 2, -1, dtype=np.int64)
    position[keys] = np.arange(n)
    src = np.where(hit, n, position[np.where(hit, -1, near.node_source)])
    keep = np.zeros(n, dtype=bool)
    keep[change.kept_new] = True
    gone = np.zeros(n + 1, dtype=bool)
    gone[n] = True
    out, _ = remove_sources(network, NearestTimes(near.node_time_s, src), gone, snap, keep)
    return out.node_time_s, np.append(keys, -1)[out.node_source]


def _add(network: WalkNetwork, adj: Adjacency, grid: Callable[[], NodeGrid], times: F64,
         source: I64, snap: SnapResult, j: int, keys: I64,
         limit_s: float) -> tuple[F64, I64, I64, int]:
    """Min-merge the facility at new position ``j`` (source ``keys[j]``): times, sources,
    improved nodes, nodes searched (``grid`` gives the node grid of the compiled fallback)."""
    key = int(keys[j])
    if snap.status[j] != SNAPPED:
        return times, source, np.zeros(0, dtype=np.int64), 0
    seeds = seed_arcs(network, snap, [j], keys)
    got = grow_source(adj, times, np.array([a[0] for a in seeds]),
                      np.array([a[1] for a in seeds]), local_search.MAX_LOCAL_NODES)
    if got is None:
        near, searched = add_source(network, NearestTimes(times, source),
                                    snap.take(np.array([j])), key, limit_s, grid())
        return (near.node_time_s, near.node_source, np.flatnonzero(near.node_time_s < times),
                searched)
    nodes, ts = got
    times, source = times.copy(), source.copy()
    times[nodes] = ts
    source[nodes] = key
    return times, source, nodes, nodes.size


def update_nodes(network: WalkNetwork, adj: Adjacency, grid: Callable[[], NodeGrid],
                 near: NearestTimes, change: TypeChange, snap: SnapResult, keys: I64,
                 limit_s: float) -> tuple[NearestTimes, I64, int]:
    """Node times of one type after ``change`` (sources are facility keys; ``keys`` per position
    of the new table), the nodes whose time or source may have changed, and the number of
    nodes searched."""
    times, source = near.node_time_s, near.node_source
    changed = [np.zeros(0, dtype=np.int64)]
    searched = 0
    if change.gone_keys.size:
        times, source, region = _remove(network, adj, near, change, snap, keys)
        changed.append(region)
        searched += region.size
    for j in change.fresh_new.tolist():
        times, source, nodes, n = _add(network, adj, grid, times, source, snap, j, keys,
                                       limit_s)
        changed.append(nodes)
        searched += n
    return NearestTimes(times, source), np.concatenate(changed), searched


def point_times(walk: PointWalk, segment_s: F64, speed_m_s: float, near: NearestTimes,
                points: I64, snap: SnapResult, sources: I64, keys: I64) -> tuple[F64, I64]:
    """Times of demand ``points`` to the nearest facility and its key (-1 none), as
    :func:`planner.routing.travel.compute_point_times` computes them (one compiled call,
    :func:`planner.whatif.point_kernels.leg_times`); ``segment_s`` as
    :func:`planner.whatif.core.segment_times`; ``sources`` are the positions of the type's
    facilities (``keys`` per position)."""
    on = sources[snap.status[sources] == SNAPPED]
    on = on[np.argsort(snap.edge[on], kind="stable")]  # positions ascending within a segment
    fac = (np.vstack([snap.edge[on], keys[on]]), np.vstack([snap.frac[on], snap.access_m[on]]))
    t_s, src = leg_times((walk.ints, walk.floats), points, near.node_time_s, near.node_source,
                         fac, segment_s, speed_m_s)
    return t_s, src
