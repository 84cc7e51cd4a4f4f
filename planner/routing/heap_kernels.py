"""Compiled Dijkstra kernels of :mod:`planner.routing.local_search` (numba: see
:mod:`planner.routing.jit`).

A binary heap of (time, node, source) entries in three arrays, ordered lexicographically (as
Python's ``heapq`` orders tuples). Scratch per network node: ``tent`` (best time pushed) is
valid where ``mark == gen``; ``mark == gen + 1`` means settled; ``inside == gen`` marks the
region of a refill. A caller passes a fresh even ``gen`` per search, so nothing is cleared.
Output arrays grow by doubling; ``count`` -1 means the search gave up past ``max_nodes``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from planner.routing.jit import kernel


@kernel
def _before(ta: float, va: int, sa: int, tb: float, vb: int, sb: int) -> bool:
    """(ta, va, sa) < (tb, vb, sb) lexicographically."""
    if ta != tb:
        return ta < tb
    if va != vb:
        return va < vb
    return sa < sb


@kernel
def _best(tent: Any, mark: Any, v: int, gen: int) -> float:
    """Best time pushed to ``v`` in this search (``inf`` if none)."""
    return tent[v] if mark[v] >= gen else np.inf


@kernel
def _grown(a: Any) -> Any:
    """``a`` copied into an array twice as long."""
    out = np.empty(2 * a.size + 16, dtype=a.dtype)
    out[:a.size] = a
    return out


@kernel
def _push(ht: Any, hv: Any, hs: Any, size: int, t: float, v: int, s: int) -> Any:
    """Push (t, v, s); returns the (possibly grown) heap arrays and the new size."""
    if size == ht.size:
        ht, hv, hs = _grown(ht), _grown(hv), _grown(hs)
    i = size
    while i > 0:
        p = (i - 1) >> 1
        if not _before(t, v, s, ht[p], hv[p], hs[p]):
            break
        ht[i], hv[i], hs[i] = ht[p], hv[p], hs[p]
        i = p
    ht[i], hv[i], hs[i] = t, v, s
    return ht, hv, hs, size + 1


@kernel
def _pop(ht: Any, hv: Any, hs: Any, size: int) -> Any:
    """Pop the least entry: (t, v, s, new size)."""
    t, v, s = ht[0], hv[0], hs[0]
    size -= 1
    if size > 0:
        lt, lv, ls = ht[size], hv[size], hs[size]
        i = 0
        while True:
            c = 2 * i + 1
            if c >= size:
                break
            if c + 1 < size and _before(ht[c + 1], hv[c + 1], hs[c + 1], ht[c], hv[c], hs[c]):
                c += 1
            if not _before(ht[c], hv[c], hs[c], lt, lv, ls):
                break
            ht[i], hv[i], hs[i] = ht[c], hv[c], hs[c]
            i = c
        ht[i], hv[i], hs[i] = lt, lv, ls
    return t, v, s, size


@kernel
def _empty_heap() -> Any:
    return np.empty(64), np.empty(64, dtype=np.int64), np.empty(64, dtype=np.int64)


@kernel
def _settle(indptr: Any, indices: Any, weight: Any, heap: Any, size: int, max_nodes: int,
            tent: Any, mark: Any, gen: int, bound: Any, inside: Any, regional: bool) -> Any:
    """Dijkstra from the pushed ``heap`` entries: (nodes, times, sources, count), in the order
    settled. An arc is followed only to a node not yet settled and reached sooner than pushed
    so far; with ``regional`` only to a node whose ``inside`` is ``gen`` (a refill), else only
    if sooner than ``bound`` too (a new source against the old times)."""
    ht, hv, hs = heap
    nodes, times, srcs = np.empty(64, dtype=np.int64), np.empty(64), np.empty(64, dtype=np.int64)
    count = 0
    while size > 0:
        d, v, s, size = _pop(ht, hv, hs, size)
        if mark[v] == gen + 1:
            continue
        mark[v] = gen + 1
        if count == nodes.size:
            nodes, times, srcs = _grown(nodes), _grown(times), _grown(srcs)
        nodes[count], times[count], srcs[count] = v, d, s
        count += 1
        if count > max_nodes:
            return nodes, times, srcs, -1
        for k in range(indptr[v], indptr[v + 1]):
            w = indices[k]
            if mark[w] == gen + 1 or (regional and inside[w] != gen):
                continue
            nd = d + weight[k]
            if (regional or nd < bound[w]) and nd < _best(tent, mark, w, gen):
                tent[w], mark[w] = nd, gen
                ht, hv, hs, size = _push(ht, hv, hs, size, nd, w, s)
    return nodes, times, srcs, count


@kernel
def grow(indptr: Any, indices: Any, weight: Any, old: Any, seed_t: Any, seed_v: Any,
         max_nodes: int, tent: Any, mark: Any, gen: int) -> Any:
    """Settle the nodes a new source improves on ``old``: (nodes, times, count)."""
    ht, hv, hs = _empty_heap()
    size = 0
    for i in range(seed_t.size):
        t, v = seed_t[i], seed_v[i]
        if t < old[v] and t < _best(tent, mark, v, gen):
            tent[v], mark[v] = t, gen
            ht, hv, hs, size = _push(ht, hv, hs, size, t, v, 0)
    nodes, times, _, count = _settle(indptr, indices, weight, (ht, hv, hs), size, max_nodes,
                                     tent, mark, gen, old, mark, False)
    return nodes, times, count


@kernel
def refill(indptr: Any, indices: Any, weight: Any, in_ptr: Any, in_from: Any, in_weight: Any,
           time_s: Any, source: Any, region: Any, seed_t: Any, seed_v: Any, seed_s: Any,
           max_nodes: int, tent: Any, mark: Any, inside: Any, gen: int) -> Any:
    """Search the ``region`` nodes again from around them and from the seeds:
    (nodes, times, sources, count)."""
    for v in region:
        inside[v] = gen
    ht, hv, hs = _empty_heap()
    size = 0
    for v in region:  # arcs into the region from the nodes around it
        for k in range(in_ptr[v], in_ptr[v + 1]):
            w = in_from[k]
            if inside[w] != gen:
                t = time_s[w] + in_weight[k]
                if t < _best(tent, mark, v, gen):
                    tent[v], mark[v] = t, gen
                    ht, hv, hs, size = _push(ht, hv, hs, size, t, v, source[w])
    for i in range(seed_t.size):
        t, v = seed_t[i], seed_v[i]
        if inside[v] == gen and t < _best(tent, mark, v, gen):
            tent[v], mark[v] = t, gen
            ht, hv, hs, size = _push(ht, hv, hs, size, t, v, seed_s[i])
    return _settle(indptr, indices, weight, (ht, hv, hs), size, max_nodes, tent, mark, gen,
                   time_s, inside, True)  # a refill has no bound: time_s is not read
