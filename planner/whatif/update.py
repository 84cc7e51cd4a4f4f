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

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from planner.network.graph import WalkNetwork
from planner.network.snap import SnapResult
from planner.routing.local_search import Adjacency, grow_source, refill_region
from planner.routing.nearest_update import FULL_SEARCH_SHARE, NodeGrid, add_source, remove_sources
from planner.routing.travel import NearestTimes, _seed_arcs
from planner.whatif.core import PointWalk

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class TypeChange:
    """A facility type's scenario: positions (old table) of its facilities taken away, positions
    (new table) of those added, and of those it keeps as sources."""

    gone_old: I64
    fresh_new: I64
    kept_new: I64


def _remove(network: WalkNetwork, adj: Adjacency, near: NearestTimes, src_new: I64,
            change: TypeChange, snap: SnapResult, n_old: int) -> tuple[F64, I64, I64]:
    """Times and sources (new positions) after taking ``change.gone_old`` away, and the nodes
    searched again."""
    gone = np.zeros(n_old + 1, dtype=bool)
    gone[change.gone_old] = True
    gone[-1] = False
    hit = gone[near.node_source]  # node_source -1 reads the last (False) entry
    region = np.flatnonzero(hit)
    if region.size == 0:
        return near.node_time_s, src_new, region
    seeds: list[tuple[float, int, int]] = []
    if change.kept_new.size:
        ok = change.kept_new[snap.routable[change.kept_new]]
        node, time_s = _seed_arcs(network, snap, ok)
        into = hit[node]
        seeds = list(zip(time_s[into].tolist(), node[into].tolist(),
                         np.repeat(ok, 2)[into].tolist(), strict=True))
    got = (refill_region(adj, near.node_time_s, src_new, region.tolist(), seeds)
           if region.size <= FULL_SEARCH_SHARE * network.n_nodes else None)
    if got is None:  # a large region: the compiled search
        keep = np.zeros(snap.edge.size, dtype=bool)
        keep[change.kept_new] = True
        sentinel = np.append(np.zeros(snap.edge.size, dtype=bool), True)
        src_gone = np.where(hit, snap.edge.size, src_new)
        out, _ = remove_sources(network, NearestTimes(near.node_time_s, src_gone), sentinel,
                                snap, keep)
        return out.node_time_s, out.node_source, region
    times, source = near.node_time_s.copy(), src_new.copy()
    times[region], source[region] = np.inf, -1
    if got:
        nodes = np.fromiter(got.keys(), dtype=np.int64, count=len(got))
        ts = np.fromiter((t for t, _ in got.values()), dtype=float, count=len(got))
        ss = np.fromiter((s for _, s in got.values()), dtype=np.int64, count=len(got))
        times[nodes], source[nodes] = ts, ss
    return times, source, region


def _add(network: WalkNetwork, adj: Adjacency, grid: NodeGrid, times: F64, source: I64,
         snap: SnapResult, j: int, limit_s: float) -> tuple[F64, I64, I64, int]:
    """Min-merge the facility at new position ``j``: times, sources, improved nodes, searched."""
    if not snap.routable[j]:
        return times, source, np.zeros(0, dtype=np.int64), 0
    node, time_s = _seed_arcs(network, snap, np.array([j]))
    got = grow_source(adj, times, list(zip(time_s.tolist(), node.tolist(), strict=True)))
    if got is None:
        before = times
        near, searched = add_source(network, NearestTimes(times, source), snap.take(np.array([j])),
                                    j, limit_s, grid)
        return near.node_time_s, near.node_source, np.flatnonzero(near.node_time_s < before), \
            searched
    nodes = np.fromiter(got.keys(), dtype=np.int64, count=len(got))
    times, source = times.copy(), source.copy()
    times[nodes] = np.fromiter(got.values(), dtype=float, count=len(got))
    source[nodes] = j
    return times, source, nodes, len(got)


def update_nodes(network: WalkNetwork, adj: Adjacency, grid: NodeGrid, near: NearestTimes,
                 src_new: I64, change: TypeChange, snap: SnapResult, n_old: int,
                 limit_s: float) -> tuple[NearestTimes, I64, int]:
    """Node times of one type after ``change``: sources as new positions, the nodes whose time
    or source may have changed, and the number of nodes searched."""
    times, source = near.node_time_s, src_new
    changed = [np.zeros(0, dtype=np.int64)]
    searched = 0
    if change.gone_old.size:
        times, source, region = _remove(network, adj, near, src_new, change, snap, n_old)
        changed.append(region)
        searched += region.size
    for j in change.fresh_new.tolist():
        times, source, nodes, n = _add(network, adj, grid, times, source, snap, j, limit_s)
        changed.append(nodes)
        searched += n
    return NearestTimes(times, source), np.concatenate(changed), searched


def point_times(walk: PointWalk, near: NearestTimes, points: I64, network: WalkNetwork,
                snap: SnapResult, sources: I64) -> tuple[F64, I64]:
    """Times of demand ``points`` to the nearest facility and its position (-1 none), as
    :func:`planner.routing.travel.compute_point_times` computes them; ``sources`` are the
    positions of the type's facilities."""
    u, v = walk.u[points], walk.v[points]
    ok = u >= 0
    uu, vv = np.where(ok, u, 0), np.where(ok, v, 0)
    via_u = near.node_time_s[uu] + walk.from_u_s[points]
    via_v = near.node_time_s[vv] + walk.from_v_s[points]
    use_u = via_u <= via_v
    t_s = np.where(ok, np.where(use_u, via_u, via_v) + walk.access_s[points], np.inf)
    src = np.where(use_u, near.node_source[uu], near.node_source[vv])
    on = sources[snap.routable[sources]]
    if on.size:
        _same_edge(walk, points, network, snap, on, t_s, src)
    src[~np.isfinite(t_s)] = -1
    return t_s, src


def _same_edge(walk: PointWalk, points: I64, network: WalkNetwork, snap: SnapResult, on: I64,
               t_s: F64, src: I64) -> None:
    """Lower ``t_s``/``src`` in place where a facility on the point's own segment is quicker
    directly (the quickest, lowest position on ties; only if strictly quicker)."""
    fe = snap.edge[on]
    pe = walk.edge[points]
    share = np.flatnonzero(np.isin(pe, fe) & (pe >= 0))
    for i in share.tolist():
        p = int(points[i])
        cand = on[fe == pe[i]]
        e = np.full(cand.size, pe[i])
        direct = (network.time_along_s(e, np.full(cand.size, walk.frac[p]), snap.frac[cand])
                  + walk.access_s[p] + snap.access_m[cand] / network.speed_m_s)
        best = int(np.lexsort((cand, direct))[0])
        if direct[best] < t_s[i]:
            t_s[i], src[i] = direct[best], cand[best]
