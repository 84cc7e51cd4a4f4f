"""The what-if's point re-timing equals :func:`compute_point_times` bit for bit, including
points sharing a segment with one or more facilities (the direct along-segment walk)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.network.graph import build_walk_network
from planner.network.snap import DISCONNECTED, NOT_SNAPPED
from planner.params import WalkProfile
from planner.routing.travel import compute_nearest_times, compute_point_times
from planner.whatif.core import PointWalk, segment_times
from planner.whatif.update import point_times
from tests.conftest import random_raw
from tests.planner.routing.test_travel import snap_at


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 100_000), k=st.integers(1, 8), p=st.integers(1, 60),
       terrain=st.booleans())
def test_point_times_equal_compute_point_times(seed: int, k: int, p: int,
                                               terrain: bool) -> None:
    """Flat networks, and networks with direction-dependent segment times (terrain)."""
    rng = np.random.default_rng(seed)
    net = build_walk_network(random_raw(rng, 25), WalkProfile())
    if terrain:  # uphill slower one way: the direct along-segment walk depends on direction
        net = replace(net, edge_uv_s=net.edge_walk_s * rng.uniform(0.8, 1.6, net.n_edges),
                      edge_vu_s=net.edge_walk_s * rng.uniform(0.8, 1.6, net.n_edges))
    edges = np.flatnonzero(net.edge_in_main)
    fac = snap_at(rng.choice(edges, k).tolist(), rng.random(k).round(1).tolist(),
                  rng.uniform(0, 20, k).round(0).tolist())
    on_fac = rng.random(p) < 0.5  # half the points on a facility's segment
    pe = np.where(on_fac, rng.choice(fac.edge, p), rng.choice(edges, p))
    pts = snap_at(pe.tolist(), rng.random(p).round(1).tolist(), rng.uniform(0, 20, p).tolist())
    pts.status[rng.random(p) < 0.1] = NOT_SNAPPED
    pts.status[rng.random(p) < 0.1] = DISCONNECTED
    near = compute_nearest_times(net, fac)
    want_t, want_s = compute_point_times(net, near, pts, fac)
    keys = np.arange(k) + 100  # keys differ from positions
    near_keys = type(near)(near.node_time_s, np.where(near.node_source >= 0,
                                                      keys[near.node_source], -1))
    which = rng.permutation(p)[: int(rng.integers(1, p + 1))]
    got_t, got_s = point_times(PointWalk.build(net, pts), segment_times(net), net.speed_m_s,
                               near_keys, which, fac, np.arange(k), keys)
    np.testing.assert_array_equal(got_t, want_t[which])
    np.testing.assert_array_equal(got_s, np.where(want_s[which] >= 0, keys[want_s[which]], -1))
