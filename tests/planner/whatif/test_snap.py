"""A what-if snaps an added or moved facility exactly as the full analysis snaps it: the local
snap (candidate segments from the node grid, all measured) and the one-point snap on the segment
grid (:func:`snap_point`) equal the STRtree oracle and the whole-network :class:`EdgeIndex`,
ties and out-of-reach points included."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.io.catalogue import read_catalogue
from planner.io.osm import read_osm_file
from planner.network.graph import WalkNetwork, build_walk_network
from planner.network.snap_grid import FIRST_CELL_M, SegmentGrid, segment_distance, segment_fraction
from planner.params import WalkProfile
from planner.routing.nearest_update import NodeGrid
from planner.whatif import snap_local
from planner.whatif.snap import segment_distance_one, segment_fraction_one, snap_point
from tests.conftest import grid_raw, random_raw
from tests.planner.network.test_snap_grid import tree_snap


def _check(net: WalkNetwork, px: np.ndarray, py: np.ndarray, snap_m: float) -> None:
    grid = NodeGrid(net)
    coords = (net.x_m[net.edge_u], net.y_m[net.edge_u], net.x_m[net.edge_v], net.y_m[net.edge_v])
    segments = SegmentGrid(*coords, min(FIRST_CELL_M, snap_m))
    want = tree_snap(net, px, py, snap_m)
    for i in range(px.size):
        got = snap_local(net, float(px[i]), float(py[i]), snap_m, grid)
        assert got.edge[0] == want.edge[i], (i, px[i], py[i])
        np.testing.assert_array_equal(got.access_m, want.access_m[[i]])
        np.testing.assert_array_equal(got.frac, want.frac[[i]])
        assert got.status[0] == want.status[i]
        edge, frac, access_m, status = snap_point(net, segments, coords, float(px[i]),
                                                  float(py[i]), snap_m)
        assert edge == want.edge[i], (i, px[i], py[i])
        np.testing.assert_array_equal([access_m, frac], [want.access_m[i], want.frac[i]])
        assert status == want.status[i]


def test_ties_on_a_grid() -> None:
    """Nodes, midpoints and cell centres of a 100 m grid tie between two to four segments."""
    net = build_walk_network(grid_raw(6, 5, 100.0), WalkProfile())
    xs = np.r_[np.arange(0, 501, 50.0), 37.5, 612.0, -350.0]
    gx, gy = np.meshgrid(xs + net.x_m.min(), np.arange(0, 401, 50.0) + net.y_m.min())
    _check(net, gx.ravel(), gy.ravel(), 300.0)
    _check(net, gx.ravel(), gy.ravel(), 30.0)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), snap_m=st.sampled_from([5.0, 60.0, 300.0, 900.0]))
def test_random_networks(seed: int, snap_m: float) -> None:
    rng = np.random.default_rng(seed)
    net = build_walk_network(random_raw(rng, 40), WalkProfile())
    a, b = rng.integers(0, net.n_nodes, 10), rng.integers(0, net.n_nodes, 10)
    px = np.r_[rng.uniform(net.x_m.min() - 800, net.x_m.max() + 800, 30), net.x_m[a],
               (net.x_m[a] + net.x_m[b]) / 2]
    py = np.r_[rng.uniform(net.y_m.min() - 800, net.y_m.max() + 800, 30), net.y_m[a],
               (net.y_m[a] + net.y_m[b]) / 2]
    _check(net, px, py, snap_m)


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_one_point_formulas_equal_the_vectorised_ones(seed: int) -> None:
    """Python-float distance and fraction are the numpy ones bit for bit: random segments,
    zero-length ones, points at either end and on the line."""
    rng = np.random.default_rng(seed)
    ax, ay, bx, by = (rng.uniform(-50, 50, 40).round(int(rng.integers(0, 4))) for _ in range(4))
    bx[:5], by[:5] = ax[:5], ay[:5]
    px, py = rng.uniform(-60, 60, 40), rng.uniform(-60, 60, 40)
    px[5:10], py[5:10] = ax[5:10], ay[5:10]
    px[10:15], py[10:15] = bx[10:15], by[10:15]
    px[15:20], py[15:20] = (ax[15:20] + bx[15:20]) / 2, (ay[15:20] + by[15:20]) / 2
    d = segment_distance(px, py, ax, ay, bx, by)
    f = segment_fraction(px, py, ax, ay, bx, by)
    for i in range(40):
        args = (float(px[i]), float(py[i]), float(ax[i]), float(ay[i]), float(bx[i]),
                float(by[i]))
        assert segment_distance_one(*args) == d[i]
        assert segment_fraction_one(*args) == f[i]


def test_chengdu_points(chengdu_osm: Path) -> None:
    """Random points, nodes and segment midpoints over the Chengdu extract."""
    net = build_walk_network(read_osm_file(chengdu_osm, read_catalogue()).network, WalkProfile())
    rng = np.random.default_rng(3)
    a, b = rng.integers(0, net.n_nodes, 60), rng.integers(0, net.n_edges, 60)
    px = np.r_[rng.uniform(net.x_m.min() - 400, net.x_m.max() + 400, 120), net.x_m[a],
               (net.x_m[net.edge_u[b]] + net.x_m[net.edge_v[b]]) / 2]
    py = np.r_[rng.uniform(net.y_m.min() - 400, net.y_m.max() + 400, 120), net.y_m[a],
               (net.y_m[net.edge_u[b]] + net.y_m[net.edge_v[b]]) / 2]
    _check(net, px, py, 300.0)
    _check(net, px[:60], py[:60], 20.0)
