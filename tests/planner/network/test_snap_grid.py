"""The grid snapping equals the STRtree method it replaced (nearest query with all matches,
lowest index on ties, ``line_locate_point``), field by field, on random points, on points built
to tie, and on the real Chengdu network."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.network.graph import WalkNetwork, build_walk_network
from planner.network.snap import NOT_SNAPPED, EdgeIndex, SnapResult, build_edge_lines
from planner.network.snap_grid import segment_distance
from planner.params import WalkProfile
from tests.conftest import grid_raw, random_raw


def tree_snap(network: WalkNetwork, x_m: np.ndarray, y_m: np.ndarray,
              max_snap_m: float) -> SnapResult:
    """The STRtree method used before the grid (the oracle)."""
    n = x_m.shape[0]
    edge, frac = np.full(n, -1, dtype=np.int64), np.zeros(n)
    access, status = np.full(n, np.nan), np.full(n, NOT_SNAPPED, dtype="<U12")
    lines = build_edge_lines(network)
    points = shapely.points(x_m, y_m)
    (pi, ei), dist = shapely.STRtree(lines).query_nearest(
        points, max_distance=max_snap_m, return_distance=True, all_matches=True)
    order = np.lexsort((ei, pi))
    pi, ei, dist = pi[order], ei[order], dist[order]
    first = np.r_[True, pi[1:] != pi[:-1]]
    pi, ei, dist = pi[first], ei[first], dist[first]
    edge[pi], access[pi] = ei, dist
    frac[pi] = np.nan_to_num(shapely.line_locate_point(lines[ei], points[pi], normalized=True))
    status[pi] = np.where(network.edge_in_main[ei], "ok", "disconnected")
    return SnapResult(edge, frac, access, status)


def assert_same(network: WalkNetwork, x: np.ndarray, y: np.ndarray, max_snap_m: float) -> None:
    got = EdgeIndex(network).snap(x, y, max_snap_m)
    want = tree_snap(network, x, y, max_snap_m)
    np.testing.assert_array_equal(got.edge, want.edge)
    np.testing.assert_array_equal(got.access_m, want.access_m)
    np.testing.assert_array_equal(got.frac, want.frac)
    np.testing.assert_array_equal(got.status, want.status)


def test_ties_on_a_grid_go_to_the_lowest_segment() -> None:
    """Points on nodes, on segment midpoints, at cell centres and on diagonals of a 100 m grid:
    each is equally near two to four segments."""
    net = build_walk_network(grid_raw(6, 5, 100.0), WalkProfile())
    xs = np.r_[np.arange(0, 501, 25.0), 37.5, 250.0, 612.0, -350.0]
    gx, gy = np.meshgrid(xs + net.x_m.min(), np.arange(0, 401, 25.0) + net.y_m.min())
    assert_same(net, gx.ravel(), gy.ravel(), 300.0)
    assert_same(net, gx.ravel(), gy.ravel(), 30.0)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), snap_m=st.sampled_from([5.0, 60.0, 150.0, 300.0, 900.0]))
def test_random_networks_and_points(seed: int, snap_m: float) -> None:
    rng = np.random.default_rng(seed)
    net = build_walk_network(random_raw(rng, 60), WalkProfile())
    px = rng.uniform(net.x_m.min() - 800, net.x_m.max() + 800, 400)
    py = rng.uniform(net.y_m.min() - 800, net.y_m.max() + 800, 400)
    # plus points exactly on nodes and on the bisector of two nodes (ties)
    a, b = rng.integers(0, net.n_nodes, 50), rng.integers(0, net.n_nodes, 50)
    px = np.r_[px, net.x_m[a], (net.x_m[a] + net.x_m[b]) / 2, net.x_m[a] + 3.0]
    py = np.r_[py, net.y_m[a], (net.y_m[a] + net.y_m[b]) / 2, net.y_m[a] + 4.0]
    assert_same(net, px, py, snap_m)


def test_numpy_distance_is_the_geos_distance(rng: np.random.Generator) -> None:
    c = rng.uniform(-1e3, 1e3, (5000, 6)) + np.array([5e5, 3.4e6] * 3)
    c[::7, 2:4] = c[::7, 0:2]  # zero-length segments
    lines = shapely.linestrings(np.stack([c[:, 2:4], c[:, 4:6]], axis=1))
    want = shapely.distance(lines, shapely.points(c[:, 0], c[:, 1]))
    got = segment_distance(c[:, 0], c[:, 1], c[:, 2], c[:, 3], c[:, 4], c[:, 5])
    np.testing.assert_array_equal(got, want)


def test_chengdu_random_points(chengdu_osm: Path) -> None:
    from planner.io.catalogue import read_catalogue
    from planner.io.osm import read_osm_file

    net = build_walk_network(read_osm_file(chengdu_osm, read_catalogue()).network, WalkProfile())
    rng = np.random.default_rng(7)
    n = 30_000
    px = rng.uniform(net.x_m.min() - 300, net.x_m.max() + 300, n)
    py = rng.uniform(net.y_m.min() - 300, net.y_m.max() + 300, n)
    on_nodes = rng.integers(0, net.n_nodes, 3000)
    px = np.r_[px, net.x_m[on_nodes], net.x_m[on_nodes] + 0.5]
    py = np.r_[py, net.y_m[on_nodes], net.y_m[on_nodes]]
    assert_same(net, px, py, 300.0)
    assert_same(net, px, py, 40.0)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_points_are_not_snapped(grid3: WalkNetwork, bad: float) -> None:
    got = EdgeIndex(grid3).snap(np.array([bad, grid3.x_m[0]]), np.array([0.0, grid3.y_m[0]]), 50)
    assert got.status[0] == NOT_SNAPPED and got.edge[0] == -1 and got.status[1] == "ok"


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), top=st.sampled_from([3, 2**16 + 5, 2**31, 2**40]))
def test_radix_order_is_numpys_stable_order(seed: int, top: int) -> None:
    from planner.network.snap_grid import stable_code_order

    code = np.random.default_rng(seed).integers(0, top, 3000)
    code[::5] = code[0]  # ties keep their order
    np.testing.assert_array_equal(stable_code_order(code), np.argsort(code, kind="stable"))
