"""A what-if snaps an added or moved facility exactly as the full analysis snaps it: the local
snap (candidate segments from the node grid, all measured) equals the STRtree oracle and the
whole-network :class:`EdgeIndex`, ties and out-of-reach points included."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.network.graph import build_walk_network
from planner.params import WalkProfile
from planner.routing.nearest_update import NodeGrid
from planner.whatif import snap_local
from tests.conftest import grid_raw, random_raw
from tests.planner.network.test_snap_grid import tree_snap


def _check(net: object, px: np.ndarray, py: np.ndarray, snap_m: float) -> None:
    grid = NodeGrid(net)  # type: ignore[arg-type]
    want = tree_snap(net, px, py, snap_m)  # type: ignore[arg-type]
    for i in range(px.size):
        got = snap_local(net, float(px[i]), float(py[i]), snap_m, grid)  # type: ignore[arg-type]
        assert got.edge[0] == want.edge[i], (i, px[i], py[i])
        np.testing.assert_array_equal(got.access_m, want.access_m[[i]])
        np.testing.assert_array_equal(got.frac, want.frac[[i]])
        assert got.status[0] == want.status[i]


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
