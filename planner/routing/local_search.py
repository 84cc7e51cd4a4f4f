"""Small-region shortest-path searches for what-if updates, without any per-call graph setup.

A scipy ``dijkstra`` call costs ~22 µs before any work, fills a distance row over every node,
needs the graph rebuilt (work in the number of arcs) to start from a point on a segment, and
cannot stop at the nodes a new source does not improve; a what-if add or removal touches a few
hundred nodes. These searches are compiled kernels (:func:`planner.routing.jit.kernel`) over the CSR
arrays in place; their state lives in scratch arrays of the :class:`Adjacency` told apart by a
generation stamp per call (nothing is cleared or allocated per node of the network), so the work
follows the nodes they settle. They give up (return None) past ``max_nodes`` so that a caller
can switch to the scipy search for a large change.

* :func:`grow_source` — a new source: only nodes it makes strictly nearer are settled (a node
  not improved cannot pass an improvement on: the old times obey the triangle inequality).
* :func:`refill_region` — removed sources: the nodes they served are searched again from their
  unaffected neighbours (whose times stand) and from the remaining sources' arcs into them.

Both add arc times in the order scipy's Dijkstra does (``time(predecessor) + arc``), so the times
are bit-for-bit those of a full search along the same path. The heap orders entries by (time,
node, source), so ties are settled in one fixed order.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from planner.routing import heap_kernels as hk

#: Settled nodes after which a local search gives up (the caller runs the compiled search).
MAX_LOCAL_NODES = 40_000

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]


@dataclass(frozen=True, slots=True, eq=False)
class Adjacency:
    """Arcs of a CSR graph out of each node (``indptr``, ``indices``, ``weight``) and into each
    node (``in_ptr``, ``in_from``, ``in_weight``), with the searches' scratch arrays (one
    search at a time: ``lock``)."""

    indptr: I64
    indices: I64
    weight: F64
    in_ptr: I64
    in_from: I64
    in_weight: F64
    tent: F64
    mark: I64
    inside: I64
    gen: list[int] = field(default_factory=lambda: [0])
    lock: threading.Lock = field(default_factory=threading.Lock)

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
        return cls(ip, ix, wt, in_ptr, np.ascontiguousarray(tail[order]),
                   np.ascontiguousarray(wt[order]), np.full(n, np.inf),
                   np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64))

    def next_gen(self) -> int:
        """A fresh generation stamp (even; ``gen + 1`` marks settled nodes). Hold ``lock``."""
        self.gen[0] += 2
        return self.gen[0]


def grow_source(adj: Adjacency, old_s: F64, seed_s: F64, seed_node: I64,
                max_nodes: int = MAX_LOCAL_NODES) -> tuple[I64, F64] | None:
    """Nodes a new source (seeded at ``seed_node`` with times ``seed_s``: the ends of its arcs)
    reaches strictly sooner than ``old_s``, with their times (in the order settled); the
    others are not visited. None past ``max_nodes`` settled.

    Hand-worked: path 0 -1- 1 -1- 2 with old times (5, 1.5, 0); a source seeding node 0 at
    0.5 improves 0 (0.5 < 5) and stops at 1 (1.5, not < 1.5): nodes [0], times [0.5].
    """
    with adj.lock:
        nodes, times, count = hk.grow(adj.indptr, adj.indices, adj.weight,
                                      np.ascontiguousarray(old_s, dtype=np.float64),
                                      np.asarray(seed_s, dtype=np.float64),
                                      np.asarray(seed_node, dtype=np.int64), max_nodes,
                                      adj.tent, adj.mark, adj.next_gen())
    if count < 0:
        return None
    return nodes[:count], times[:count]


def refill_region(adj: Adjacency, time_s: F64, source: I64, region: I64, seed_s: F64,
                  seed_node: I64, seed_source: I64,
                  max_nodes: int = MAX_LOCAL_NODES) -> tuple[I64, F64, I64] | None:
    """Nodes, times and sources of the ``region`` nodes (whose source was removed) searched
    again from the nodes around it (``time_s``, ``source`` stand there) and from seeds
    (``seed_s``, ``seed_node``, ``seed_source``: arcs of the remaining sources into the
    region). Unreached region nodes are left out. None past ``max_nodes`` settled.

    Hand-worked: path 0 -2- 1 -2- 2, times (0, 2, 4) from source 7 at node 0, region [1, 2]
    (their source removed) and a seed (1.0, node 2, source 9): node 2 gets 1.0 from 9, node 1
    min(0 + 2, 1 + 2) = 2.0 from 7.
    """
    with adj.lock:
        nodes, times, srcs, count = hk.refill(
            adj.indptr, adj.indices, adj.weight, adj.in_ptr, adj.in_from, adj.in_weight,
            np.ascontiguousarray(time_s, dtype=np.float64),
            np.ascontiguousarray(source, dtype=np.int64), np.asarray(region, dtype=np.int64),
            np.asarray(seed_s, dtype=np.float64), np.asarray(seed_node, dtype=np.int64),
            np.asarray(seed_source, dtype=np.int64), max_nodes, adj.tent, adj.mark, adj.inside,
            adj.next_gen())
    if count < 0:
        return None
    return nodes[:count], times[:count], srcs[:count]
