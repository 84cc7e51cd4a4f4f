"""Small-region what-if searches against full searches (scipy) and networkx, on hand-worked
graphs (ties, equal times), random graphs and the Chengdu network."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.io.catalogue import read_catalogue
from planner.io.osm import read_osm_file
from planner.network.graph import WalkNetwork, build_walk_network
from planner.params import WalkProfile
from planner.routing.local_search import Adjacency, grow_source, refill_region
from planner.routing.travel import compute_nearest_times
from tests.conftest import random_raw
from tests.planner.routing.test_travel import snap_at


def _adj(n: int, arcs: list[tuple[int, int, float]]) -> Adjacency:
    u, v, w = (np.array(c) for c in zip(*arcs, strict=True))
    g = sp.csr_matrix((w.astype(float), (u, v)), shape=(n, n))
    return Adjacency.of_csr(g.indptr, g.indices, g.data)


def _grow(adj: Adjacency, old: np.ndarray, seeds: list[tuple[float, int]],
          max_nodes: int = 40_000) -> dict[int, float] | None:
    """:func:`grow_source` as {node: time} (seeds as (time, node))."""
    got = grow_source(adj, old, np.array([t for t, _ in seeds]),
                      np.array([v for _, v in seeds], dtype=np.int64), max_nodes)
    return None if got is None else dict(zip(got[0].tolist(), got[1].tolist(), strict=True))


def _refill(adj: Adjacency, times: np.ndarray, src: np.ndarray, region: list[int],
            seeds: list[tuple[float, int, int]]) -> dict[int, tuple[float, int]] | None:
    """:func:`refill_region` as {node: (time, source)} (seeds as (time, node, source))."""
    got = refill_region(adj, times, src, np.array(region, dtype=np.int64),
                        np.array([s[0] for s in seeds]),
                        np.array([s[1] for s in seeds], dtype=np.int64),
                        np.array([s[2] for s in seeds], dtype=np.int64))
    if got is None:
        return None
    return {v: (t, s) for v, t, s in zip(*(a.tolist() for a in got), strict=True)}


def _path() -> Adjacency:
    """0 -1- 1 -1- 2 (both directions)."""
    return _adj(3, [(0, 1, 1.0), (1, 0, 1.0), (1, 2, 1.0), (2, 1, 1.0)])


def test_grow_hand_worked() -> None:
    """Old times (5, 1.5, 0): a source at node 0 (0.5) improves 0 only; node 1 at 1.5 ties
    with its old time and is not taken (nor is anything beyond it)."""
    assert _grow(_path(), np.array([5.0, 1.5, 0.0]), [(0.5, 0)]) == {0: 0.5}
    assert _grow(_path(), np.array([5.0, 1.6, 0.0]), [(0.5, 0)]) == {0: 0.5, 1: 1.5}
    assert _grow(_path(), np.array([0.5, 1.5, 0.0]), [(0.5, 0)]) == {}
    assert _grow(_path(), np.full(3, np.inf), [(0.0 + 2.0, 2), (3.0, 0)]) == {
        2: 2.0, 1: 3.0, 0: 3.0}  # two seeds meeting (0 is reached at 3.0 either way)


def test_grow_gives_up_past_the_limit() -> None:
    assert _grow(_path(), np.full(3, np.inf), [(0.0, 0)], max_nodes=2) is None


def test_refill_hand_worked() -> None:
    """Path 0 -2- 1 -2- 2 with times (0, 2, 4) from source 7 at node 0; nodes 1 and 2 lose
    their source; a remaining source 9 seeds node 2 at 1.0: node 2 gets 1.0 from 9, node 1
    min(0 + 2, 1 + 2) = 2.0 from 7. Without the seed node 2 is 4.0 from 7 through node 1."""
    adj = _adj(3, [(0, 1, 2.0), (1, 0, 2.0), (1, 2, 2.0), (2, 1, 2.0)])
    times, src = np.array([0.0, 2.0, 4.0]), np.array([7, 7, 7])
    assert _refill(adj, times, src, [1, 2], [(1.0, 2, 9)]) == {2: (1.0, 9), 1: (2.0, 7)}
    assert _refill(adj, times, src, [1, 2], []) == {1: (2.0, 7), 2: (4.0, 7)}
    assert _refill(adj, times, src, [0, 1, 2], []) == {}  # nothing left reaches them


def test_directed_arcs_are_read_the_right_way() -> None:
    """Arcs 0 -> 1 (1 s) and 1 -> 0 (5 s): from a source at node 0 node 1 is 1 s away, and a
    region {1} refilled from node 0 (time 0) gets 1 s, not 5 s."""
    adj = _adj(2, [(0, 1, 1.0), (1, 0, 5.0)])
    assert _grow(adj, np.full(2, np.inf), [(0.0 + 1e-6, 0)]) == {0: 1e-6, 1: 1e-6 + 1.0}
    assert _refill(adj, np.array([0.0, 9.0]), np.array([3, 4]), [1], []) == {1: (1.0, 3)}


def _oracle(net: WalkNetwork, seeds: dict[int, float]) -> dict[int, float]:
    """networkx multi-source times from ``seeds`` (node: start time) over the graph's arcs."""
    g = nx.DiGraph()
    csr = net.graph.tocoo()
    g.add_weighted_edges_from(zip(csr.row.tolist(), csr.col.tolist(), csr.data.tolist(),
                                  strict=True))
    g.add_node("s")
    for node, t in seeds.items():
        g.add_edge("s", node, weight=t)
    got = nx.single_source_dijkstra_path_length(g, "s")
    return {int(k): float(v) for k, v in got.items() if k != "s"}


def _check_add_and_remove(net: WalkNetwork, rng: np.random.Generator, k: int) -> None:
    """Add one random source to k random ones, then remove one: equal to full searches."""
    edges = np.flatnonzero(net.edge_in_main)
    snap = snap_at(rng.choice(edges, k + 1).tolist(), rng.random(k + 1).tolist(),
                   rng.uniform(0, 30, k + 1).tolist())
    old = compute_nearest_times(net, snap.take(np.arange(k)))
    full = compute_nearest_times(net, snap)
    adj = Adjacency.of_csr(net.graph.indptr, net.graph.indices, net.graph.data)
    e, f, a_s = int(snap.edge[k]), float(snap.frac[k]), float(snap.access_m[k]) / net.speed_m_s
    w = float(net.edge_walk_s[e])
    seeds = [(max(a_s + f * w, 1e-6), int(net.edge_u[e])),
             (max(a_s + (1 - f) * w, 1e-6), int(net.edge_v[e]))]
    got = _grow(adj, old.node_time_s, seeds)
    assert got is not None
    times = old.node_time_s.copy()
    times[list(got)] = list(got.values())
    np.testing.assert_array_equal(times, full.node_time_s)
    assert all(full.node_time_s[v] < old.node_time_s[v] for v in got)  # only improved nodes
    oracle = _oracle(net, {u: t for t, u in seeds})
    for v, t in got.items():
        assert t == pytest.approx(oracle[v], abs=1e-9)
    # remove source 0 from the k + 1: refill the nodes it served
    src = full.node_source
    region = np.flatnonzero(src == 0)
    rest = compute_nearest_times(net, snap.take(np.arange(1, k + 1)))
    arcs = [(max(float(snap.access_m[j]) / net.speed_m_s + d * float(net.edge_walk_s[snap.edge[j]]),
                 1e-6), int(end), j)
            for j in range(1, k + 1)
            for end, d in ((net.edge_u[snap.edge[j]], snap.frac[j]),
                           (net.edge_v[snap.edge[j]], 1 - snap.frac[j]))]
    refilled = _refill(adj, full.node_time_s, src, region.tolist(), arcs)
    assert refilled is not None
    times = full.node_time_s.copy()
    times[region] = np.inf
    for v, (t, _) in refilled.items():
        times[v] = t
    np.testing.assert_allclose(times, rest.node_time_s, rtol=0, atol=1e-9)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), k=st.integers(1, 6))
def test_random_networks(seed: int, k: int) -> None:
    rng = np.random.default_rng(seed)
    net = build_walk_network(random_raw(rng, 30), WalkProfile())
    _check_add_and_remove(net, rng, k)


def test_chengdu_network(chengdu_osm: Path) -> None:
    net = build_walk_network(read_osm_file(chengdu_osm, read_catalogue()).network, WalkProfile())
    rng = np.random.default_rng(7)
    for k in (5, 40, 120):
        _check_add_and_remove(net, rng, k)
