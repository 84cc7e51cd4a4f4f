"""Small-region shortest-path searches for what-if updates, without any per-call graph setup.

A scipy ``dijkstra`` call costs ~22 µs before any work, fills a distance row over every node,
needs the graph rebuilt (work in the number of arcs) to start from a point on a segment, and
cannot stop at the nodes a new source does not improve; a what-if add or removal touches a few
hundred nodes. These searches read the CSR arrays in place (through memoryviews, so each
element read is a plain Python number) and keep their state in dicts: the work follows the nodes
they settle, and they give up (return None) past ``max_nodes`` so that a caller can switch to the
compiled search for a large change.

* :func:`grow_source` — a new source: only nodes it makes strictly nearer are settled (a node
  not improved cannot pass an improvement on: the old times obey the triangle inequality).
* :func:`refill_region` — removed sources: the nodes they served are searched again from their
  unaffected neighbours (whose times stand) and from the remaining sources' arcs into them.

Both add arc times in the order scipy's Dijkstra does (``time(predecessor) + arc``), so the times
are bit-for-bit those of a full search along the same path.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from heapq import heapify, heappop, heappush

import numpy as np
from numpy.typing import NDArray

#: Settled nodes after which a local search gives up (the caller runs the compiled search).
MAX_LOCAL_NODES = 40_000


@dataclass(frozen=True, slots=True)
class Adjacency:
    """Arcs of a CSR graph out of each node (``indptr``, ``indices``, ``weight``) and into each
    node (``in_ptr``, ``in_from``, ``in_weight``), as memoryviews over numpy arrays."""

    indptr: memoryview
    indices: memoryview
    weight: memoryview
    in_ptr: memoryview
    in_from: memoryview
    in_weight: memoryview

    @classmethod
    def of_csr(cls, indptr: NDArray[np.integer], indices: NDArray[np.integer],
               weight: NDArray[np.float64]) -> Adjacency:
        """The adjacency of CSR arrays (the arrays into each node are built here, once)."""
        n = indptr.size - 1
        ip = np.ascontiguousarray(indptr, dtype=np.int64)
        ix = np.ascontiguousarray(indices, dtype=np.int64)
        wt = np.ascontiguousarray(weight, dtype=np.float64)
        tail = np.repeat(np.arange(n, dtype=np.int64), np.diff(ip))
        order = np.argsort(ix, kind="stable")
        in_ptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(ix, minlength=n), out=in_ptr[1:])
        return cls(ip.data, ix.data, wt.data, in_ptr.data,
                   np.ascontiguousarray(tail[order]).data, np.ascontiguousarray(wt[order]).data)


def grow_source(adj: Adjacency, old_s: NDArray[np.float64], seeds: list[tuple[float, int]],
                max_nodes: int = MAX_LOCAL_NODES) -> dict[int, float] | None:
    """Times from a new source (``seeds``: time and node of its arcs) to every node it reaches
    strictly sooner than ``old_s``; the others are not visited. None past ``max_nodes``.

    Hand-worked: path 0 -1- 1 -1- 2 with old times (5, 1.5, 0); a source seeding node 0 at
    0.5 improves 0 (0.5 < 5) and stops at 1 (1.5, not < 1.5): ``{0: 0.5}``.
    """
    indptr, indices, weight = adj.indptr, adj.indices, adj.weight
    old = np.ascontiguousarray(old_s, dtype=np.float64).data
    tent: dict[int, float] = {}
    for t, v in seeds:
        if t < old[v] and t < tent.get(v, math.inf):
            tent[v] = t
    heap = [(t, v) for v, t in tent.items()]
    heapify(heap)
    done: dict[int, float] = {}
    inf = math.inf
    while heap:
        d, v = heappop(heap)
        if v in done:
            continue
        done[v] = d
        if len(done) > max_nodes:
            return None
        for k in range(indptr[v], indptr[v + 1]):
            w = indices[k]
            nd = d + weight[k]
            if nd < old[w] and nd < tent.get(w, inf):
                tent[w] = nd
                heappush(heap, (nd, w))
    return done


def refill_region(adj: Adjacency, time_s: NDArray[np.float64], source: NDArray[np.int64],
                  region: list[int], seeds: list[tuple[float, int, int]],
                  max_nodes: int = MAX_LOCAL_NODES) -> dict[int, tuple[float, int]] | None:
    """Times and sources of the ``region`` nodes (whose source was removed) from the nodes
    around it (``time_s``, ``source`` stand there) and from ``seeds`` (time, region node,
    source: arcs of the remaining sources into the region). Unreached region nodes are left
    out. None past ``max_nodes``.

    Hand-worked: path 0 -2- 1 -2- 2, times (0, 2, 4) from source 7 at node 0, region [1, 2]
    (their source removed) and a seed (1.0, 2, 9): node 2 gets 1.0 from 9, node 1 gets
    min(0 + 2, 1 + 2) = 2.0 from 7: ``{2: (1.0, 9), 1: (2.0, 7)}``.
    """
    inside = set(region)
    tm = np.ascontiguousarray(time_s, dtype=np.float64).data
    src = np.ascontiguousarray(source, dtype=np.int64).data
    in_ptr, in_from, in_weight = adj.in_ptr, adj.in_from, adj.in_weight
    tent: dict[int, float] = {}
    heap: list[tuple[float, int, int]] = []
    inf = math.inf
    for v in region:  # arcs into the region from the nodes around it
        for k in range(in_ptr[v], in_ptr[v + 1]):
            w = in_from[k]
            if w not in inside:
                t = tm[w] + in_weight[k]
                if t < tent.get(v, inf):
                    tent[v] = t
                    heap.append((t, v, src[w]))
    for seed_s, v, s in seeds:
        if v in inside and seed_s < tent.get(v, inf):
            tent[v] = seed_s
            heap.append((seed_s, v, s))
    heapify(heap)
    return _settle(adj, heap, tent, inside, max_nodes)


def _settle(adj: Adjacency, heap: list[tuple[float, int, int]], tent: dict[int, float],
            inside: set[int], max_nodes: int) -> dict[int, tuple[float, int]] | None:
    """Dijkstra from the (time, node, source) ``heap`` (``tent``: best time pushed per node)
    over the arcs between ``inside`` nodes."""
    indptr, indices, weight = adj.indptr, adj.indices, adj.weight
    done: dict[int, tuple[float, int]] = {}
    inf = math.inf
    while heap:
        d, v, s = heappop(heap)
        if v in done:
            continue
        done[v] = (d, s)
        if len(done) > max_nodes:
            return None
        for k in range(indptr[v], indptr[v + 1]):
            w = indices[k]
            if w in inside and w not in done:
                nd = d + weight[k]
                if nd < tent.get(w, inf):
                    tent[w] = nd
                    heappush(heap, (nd, w, s))
    return done
