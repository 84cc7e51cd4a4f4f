"""find_nearby against a networkx oracle (points spliced into their segments), the docstring's
worked example, and route invariants (hypothesis)."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.finder.nearby import build_finder_index, find_nearby
from planner.network.graph import build_walk_network
from planner.network.snap import EdgeIndex, SnapResult
from planner.params import WalkProfile
from tests.conftest import UTM, grid_raw

SPEED = 0.8


def _network(n: int = 6, spacing: float = 100.0):  # noqa: ANN202
    return build_walk_network(grid_raw(n, n, spacing), WalkProfile(speed_m_s=SPEED), crs=UTM)


def _oracle(net, tap: SnapResult, fs: SnapResult) -> np.ndarray:  # noqa: ANN001
    """Walking seconds tap -> each facility by networkx on the graph with both spliced in."""
    g = nx.Graph()
    for e in range(net.n_edges):
        if net.edge_in_main[e]:
            g.add_edge(int(net.edge_u[e]), int(net.edge_v[e]), w=float(net.edge_walk_s[e]))

    def splice(name: str, snap: SnapResult, i: int) -> None:
        e, f, a = int(snap.edge[i]), float(snap.frac[i]), float(snap.access_m[i]) / SPEED
        w = float(net.edge_walk_s[e])
        g.add_edge(name, int(net.edge_u[e]), w=a + f * w)
        g.add_edge(name, int(net.edge_v[e]), w=a + (1 - f) * w)

    splice("tap", tap, 0)
    out = np.full(fs.edge.shape[0], np.inf)
    for i in range(fs.edge.shape[0]):
        splice(f"f{i}", fs, i)
        times = [nx.shortest_path_length(g, "tap", f"f{i}", weight="w")]
        if int(fs.edge[i]) == int(tap.edge[0]):  # along the shared segment
            times.append(abs(fs.frac[i] - tap.frac[0]) * net.edge_walk_s[fs.edge[i]]
                         + (tap.access_m[0] + fs.access_m[i]) / SPEED)
        out[i] = min(times)
        g.remove_node(f"f{i}")
    return out


def test_worked_example_same_segment() -> None:
    """Docstring example: 100 m segment, tap 10 m off at 20 %, facility 5 m off at 60 %."""
    net = _network(2, 100.0)
    edges = EdgeIndex(net)
    e = int(np.flatnonzero((net.edge_u == 0) & (net.edge_v == 1) | (net.edge_u == 1)
                           & (net.edge_v == 0))[0])
    ux, uy = net.x_m[net.edge_u[e]], net.y_m[net.edge_u[e]]
    vx, vy = net.x_m[net.edge_v[e]], net.y_m[net.edge_v[e]]
    dx, dy = (vx - ux) / 100.0, (vy - uy) / 100.0
    nx_, ny_ = -dy, dx  # unit normal (away from the grid on one side)
    fac = np.array([[ux + 60 * dx + 5 * nx_, uy + 60 * dy + 5 * ny_]])
    fsnap = edges.snap(fac[:, 0], fac[:, 1], 50.0)
    index = build_finder_index(net, fsnap, 50.0, edges)
    hits = find_nearby(index, ux + 20 * dx + 10 * nx_, uy + 20 * dy + 10 * ny_, 600.0,
                       np.array([True]), fac)
    assert len(hits) == 1
    assert hits[0].walk_s == pytest.approx(68.75)
    assert hits[0].walk_m == pytest.approx(55.0)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(-30, 530), st.floats(-30, 530)), min_size=2, max_size=8),
       st.floats(60.0, 900.0))
def test_matches_networkx_and_routes_are_consistent(points: list[tuple[float, float]],
                                                    limit_s: float) -> None:
    net = _network()
    edges = EdgeIndex(net)
    arr = np.asarray(points, dtype=float) + [net.x_m.min(), net.y_m.min()]
    tap_xy, fac = arr[0], arr[1:]
    fsnap = edges.snap(fac[:, 0], fac[:, 1], 60.0)
    tap = edges.snap(tap_xy[:1], tap_xy[1:2], 60.0)
    index = build_finder_index(net, fsnap, 60.0, edges)
    mask = np.ones(len(fac), dtype=bool)
    hits = find_nearby(index, float(tap_xy[0]), float(tap_xy[1]), limit_s, mask, fac)
    if not tap.routable[0]:
        assert hits == []
        return
    expect = _oracle(net, tap, fsnap)
    expect[~fsnap.routable] = np.inf
    want = sorted(i for i in range(len(fac)) if expect[i] <= limit_s - 1e-6)
    got = sorted(h.position for h in hits)
    assert set(want) <= set(got) <= {i for i in range(len(fac)) if expect[i] <= limit_s + 1e-6}
    times = [h.walk_s for h in hits]
    assert times == sorted(times)
    for h in hits:
        assert h.walk_s == pytest.approx(expect[h.position], abs=1e-6)
        assert np.allclose(h.route_xy[0], tap_xy) and np.allclose(h.route_xy[-1], fac[h.position])
        # a flat grid without steps: route length = time x speed (access legs included)
        assert h.walk_m == pytest.approx(h.walk_s * SPEED, rel=1e-6, abs=1e-6)
