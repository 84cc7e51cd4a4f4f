"""Travel times against networkx Dijkstra on hand-worked and random graphs (the oracle)."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.network.graph import WalkNetwork, build_walk_network
from planner.network.snap import SNAPPED, SnapResult
from planner.params import WalkProfile
from planner.routing.travel import compute_nearest_times, compute_point_times, compute_source_reach
from tests.conftest import UTM, grid_raw, raw_from_xy


def snap_at(edge: list[int], frac: list[float], access_m: list[float]) -> SnapResult:
    n = len(edge)
    return SnapResult(np.asarray(edge, dtype=np.int64), np.asarray(frac, float),
                      np.asarray(access_m, float), np.full(n, SNAPPED, dtype="<U12"))


def oracle_graph(net: WalkNetwork, sources: SnapResult, points: SnapResult) -> nx.Graph:
    """Independent model: every snapped point splits its segment; access legs are pendant edges."""
    speed = net.speed_m_s
    graph = nx.Graph()
    on_edge: dict[int, list[tuple[float, object]]] = {}
    for kind, snap in (("s", sources), ("d", points)):
        for i in range(snap.edge.shape[0]):
            on_edge.setdefault(int(snap.edge[i]), []).append((float(snap.frac[i]), (kind, i, "on")))
            graph.add_edge((kind, i), (kind, i, "on"), weight=snap.access_m[i] / speed)
    for e in np.flatnonzero(net.edge_in_main):
        u, v, w = int(net.edge_u[e]), int(net.edge_v[e]), float(net.edge_walk_s[e])
        chain = [(0.0, u), *sorted(on_edge.get(int(e), []), key=lambda t: t[0]), (1.0, v)]
        for (fa, a), (fb, b) in zip(chain[:-1], chain[1:], strict=True):
            weight = (fb - fa) * w
            if graph.has_edge(a, b):
                weight = min(weight, graph[a][b]["weight"])
            graph.add_edge(a, b, weight=weight)
    return graph


def test_grid3_hand_worked(grid3: WalkNetwork) -> None:
    """A facility at node 0's end of segment 0-1 (frac 0): node 8 is 4 edges = 240 s away."""
    seg = int(np.flatnonzero((grid3.edge_u == 0) & (grid3.edge_v == 1))[0])
    near = compute_nearest_times(grid3, snap_at([seg], [0.0], [0.0]))
    expected = {0: 0, 1: 60, 2: 120, 3: 60, 4: 120, 5: 180, 6: 120, 7: 180, 8: 240}
    for node, t_s in expected.items():
        assert near.node_time_s[node] == pytest.approx(t_s, abs=1e-5)
    assert (near.node_source == 0).all()


def test_grid3_point_halfway_with_access(grid3: WalkNetwork) -> None:
    """Source halfway along 0-1 with a 10 m access leg; destination at 4-5 quarter, 20 m leg."""
    e01 = int(np.flatnonzero((grid3.edge_u == 0) & (grid3.edge_v == 1))[0])
    e45 = int(np.flatnonzero((grid3.edge_u == 4) & (grid3.edge_v == 5))[0])
    src = snap_at([e01], [0.5], [10.0])
    pts = snap_at([e45], [0.25], [20.0])
    near = compute_nearest_times(grid3, src)
    t_s, which = compute_point_times(grid3, near, pts, src)
    # 10 (leg) + 30 (to node 1) + 60 (1->4) + 15 (quarter of 4-5) + 20 (leg) = 135 s
    assert t_s[0] == pytest.approx(135.0, abs=1e-5)
    assert which[0] == 0


def test_same_segment_direct_walk(grid3: WalkNetwork) -> None:
    """Source and destination on one segment walk along it, not around the block."""
    e = int(np.flatnonzero((grid3.edge_u == 0) & (grid3.edge_v == 1))[0])
    src = snap_at([e], [0.4], [0.0])
    pts = snap_at([e], [0.6], [5.0])
    t_s, _ = compute_point_times(grid3, compute_nearest_times(grid3, src), pts, src)
    assert t_s[0] == pytest.approx(0.2 * 60 + 5.0, abs=1e-5)


def random_network(seed: int, n: int) -> WalkNetwork:
    rng = np.random.default_rng(seed)
    x, y = rng.uniform(0, 2000, n), rng.uniform(0, 2000, n)
    u = rng.integers(0, n, 3 * n)
    v = rng.integers(0, n, 3 * n)
    steps = np.where(rng.random(3 * n) < 0.1, "steps", "footway")
    return build_walk_network(raw_from_xy(x, y, u, v, steps), WalkProfile(0.8, 2.0), crs=UTM)


def random_snaps(net: WalkNetwork, rng: np.random.Generator, k: int) -> SnapResult:
    main = np.flatnonzero(net.edge_in_main)
    return snap_at(list(rng.choice(main, k)), list(rng.random(k)), list(rng.uniform(0, 80, k)))


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(8, 60), k=st.integers(1, 6), p=st.integers(1, 15))
def test_point_times_equal_networkx(seed: int, n: int, k: int, p: int) -> None:
    net = random_network(seed, n)
    rng = np.random.default_rng(seed + 1)
    src, pts = random_snaps(net, rng, k), random_snaps(net, rng, p)
    t_s, which = compute_point_times(net, compute_nearest_times(net, src), pts, src)
    graph = oracle_graph(net, src, pts)
    dist = nx.multi_source_dijkstra_path_length(graph, {("s", j) for j in range(k)}, weight="weight")
    for i in range(p):
        assert t_s[i] == pytest.approx(dist.get(("d", i), np.inf), rel=1e-9, abs=1e-6)
        if np.isfinite(t_s[i]):
            own = nx.dijkstra_path_length(graph, ("s", int(which[i])), ("d", i), weight="weight")
            assert own == pytest.approx(t_s[i], rel=1e-9, abs=1e-6)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), limit_s=st.floats(60, 3000))
def test_bounded_reach_equals_networkx_cutoff(seed: int, limit_s: float) -> None:
    net = random_network(seed, 40)
    src = random_snaps(net, np.random.default_rng(seed), 4)
    reach = compute_source_reach(net, src, limit_s=limit_s).tocsr()
    graph = oracle_graph(net, src, snap_at([], [], []))
    for j in range(4):
        dist = nx.single_source_dijkstra_path_length(graph, ("s", j), cutoff=limit_s, weight="weight")
        want = {node: t for node, t in dist.items() if isinstance(node, int | np.integer)}
        row = reach.getrow(j)
        got = dict(zip(row.indices.tolist(), row.data.tolist(), strict=True))
        assert set(got) == set(want)
        for node, t in want.items():
            assert got[node] == pytest.approx(max(t, 1e-6), abs=1e-6)


def test_times_symmetric_on_grid() -> None:
    """Walking is two-way: A->B equals B->A (property d)."""
    net = build_walk_network(grid_raw(5, 4, 75.0), WalkProfile(0.8), crs=UTM)
    a, b = snap_at([3], [0.3], [12.0]), snap_at([11], [0.8], [4.0])
    ab = compute_point_times(net, compute_nearest_times(net, a), b, a)[0][0]
    ba = compute_point_times(net, compute_nearest_times(net, b), a, b)[0][0]
    assert ab == pytest.approx(ba, abs=1e-6)


def test_steps_are_penalised() -> None:
    raw = raw_from_xy(np.array([0.0, 100.0]), np.array([0.0, 0.0]), np.array([0]), np.array([1]),
                      np.array(["steps"]))
    net = build_walk_network(raw, WalkProfile(speed_m_s=1.0, steps_factor=3.0), crs=UTM)
    assert net.edge_walk_s[0] == pytest.approx(300.0, rel=1e-6)
