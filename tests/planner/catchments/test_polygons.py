"""Catchment polygons: raster build against the exact GEOS buffer of the same street pieces."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from planner.catchments.polygons import (
    CatchmentParams,
    build_facility_catchments,
    compute_reached_pieces,
    pieces_to_polygon,
)
from planner.network.graph import build_walk_network
from planner.network.snap import EdgeIndex
from planner.params import WalkProfile
from planner.routing.travel import compute_source_reach
from tests.conftest import UTM, grid_raw


@pytest.fixture(scope="module")
def setup():  # type: ignore[no-untyped-def]
    net = build_walk_network(grid_raw(25, 25, 80.0), WalkProfile(0.8), crs=UTM)
    pts_x = net.x_m.min() + np.array([500.0, 1010.0, 1530.0])
    pts_y = net.y_m.min() + np.array([505.0, 1200.0, 700.0])
    snap = EdgeIndex(net).snap(pts_x, pts_y, 300)
    reach = compute_source_reach(net, snap, limit_s=1800)
    return net, snap, reach


def test_polygons_match_exact_buffer(setup) -> None:  # type: ignore[no-untyped-def]
    net, snap, reach = setup
    built = build_facility_catchments(net, reach, snap, (300.0, 900.0, 1800.0), CatchmentParams())
    row = np.full(net.n_nodes, np.inf)
    dense = reach.toarray()
    for j, t_s, poly, length_m in built:
        row[:] = np.where(dense[j] > 0, dense[j], np.inf)
        pieces = compute_reached_pieces(net, row, t_s, snap, np.array([j]))
        exact = pieces_to_polygon(pieces, 50.0)
        assert poly.is_valid
        assert shapely.symmetric_difference(poly, exact).area < 0.06 * exact.area
        union = shapely.union_all(shapely.linestrings(np.stack(
            [np.column_stack(pieces[:2]), np.column_stack(pieces[2:])], axis=1)))
        assert length_m == pytest.approx(union.length, rel=1e-6)


def test_reached_street_is_within_threshold(setup) -> None:  # type: ignore[no-untyped-def]
    """Every reached piece end is reachable within T (checked against the node times)."""
    net, snap, reach = setup
    dense = reach.toarray()
    row = np.where(dense[0] > 0, dense[0], np.inf)
    x0, y0, x1, y1 = compute_reached_pieces(net, row, 600.0, snap, np.array([0]))
    lines = shapely.linestrings(np.stack([np.column_stack([x0, y0]), np.column_stack([x1, y1])], 1))
    # a 600 s walk at 0.8 m/s is 480 m: no reached piece lies farther than that (straight line)
    origin = shapely.Point(net.x_m.min() + 500.0, net.y_m.min() + 505.0)
    assert shapely.distance(lines, origin).max() <= 480.0 + 1e-6
    assert len(lines) > 0


def test_grid_catchment_area_hand_worked() -> None:
    """On an 80 m grid, 5 minutes at 1 m/s = 300 m: a diamond of street, buffered 50 m."""
    net = build_walk_network(grid_raw(21, 21, 80.0), WalkProfile(1.0), crs=UTM)
    cx, cy = net.x_m.min() + 800.0, net.y_m.min() + 800.0
    snap = EdgeIndex(net).snap(np.array([cx + 0.001]), np.array([cy]), 10)
    reach = compute_source_reach(net, snap, limit_s=300.0)
    (_, _, poly, length_m), = build_facility_catchments(net, reach, snap, (300.0,),
                                                         CatchmentParams())
    assert poly.contains(shapely.Point(cx + 290, cy + 20))
    assert not poly.contains(shapely.Point(cx + 420, cy))
    # grid lines y = k*80 (|k| <= 3) carry 2 * (300 - 80|k|) m each, x-lines the same: 4,560 m
    assert length_m == pytest.approx(4560.0, abs=0.5)


def test_tiled_raster_equals_untiled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tiles meet exactly: a tiled dissolved polygon equals the single-raster one."""
    import planner.catchments.tiled as raster
    from planner.catchments.polygons import build_dissolved_catchments
    from planner.routing.travel import compute_nearest_times

    net = build_walk_network(grid_raw(40, 30, 90.0), WalkProfile(0.8), crs=UTM)
    xs = net.x_m.min() + np.array([300.0, 1900.0, 3300.0])
    ys = net.y_m.min() + np.array([400.0, 2000.0, 1100.0])
    snap = EdgeIndex(net).snap(xs, ys, 300)
    near = compute_nearest_times(net, snap)
    args = (net, near.node_time_s, snap, np.arange(3), (300.0, 900.0), CatchmentParams())
    monkeypatch.setattr(raster, "TILE_CELLS", 10**6)
    whole = build_dissolved_catchments(*args)
    monkeypatch.setattr(raster, "TILE_CELLS", 64)
    tiled = build_dissolved_catchments(*args)
    for a, b in zip(tiled, whole, strict=True):
        assert a.is_valid and b.area > 0
        assert shapely.symmetric_difference(a, b).area < 1e-6 * b.area


def test_facility_catchments_in_two_processes_equal_one(setup):  # type: ignore[no-untyped-def]
    """Sources split between this process and a forked child give the same polygons, in order."""
    net, snap, reach = setup
    many = EdgeIndex(net).snap(net.x_m.min() + np.linspace(100, 1800, 20),
                               net.y_m.min() + np.linspace(150, 1700, 20), 300)
    reach = compute_source_reach(net, many, limit_s=900)
    args = (net, reach, many, (300.0, 900.0))
    one = build_facility_catchments(*args, CatchmentParams(workers=1))
    two = build_facility_catchments(*args, CatchmentParams(workers=2))
    assert [(j, t) for j, t, _, _ in one] == [(j, t) for j, t, _, _ in two]
    assert [j for j, _, _, _ in one] == sorted(j for j, _, _, _ in one) and len(one) == 40
    assert all(a[2].equals(b[2]) and a[3] == b[3] for a, b in zip(one, two, strict=True))


def test_on_demand_catchments_equal_the_full_build(setup):  # type: ignore[no-untyped-def]
    """Building one source's polygons alone gives what the all-sources build gives it."""
    from planner.catchments.polygons import build_catchments_of

    net, snap, reach = setup
    full = [b for b in build_facility_catchments(net, reach, snap, (300.0, 900.0),
                                                 CatchmentParams()) if b[0] == 2]
    alone = build_catchments_of(net, snap, np.array([2]), (300.0, 900.0), CatchmentParams())
    assert [(j, t) for j, t, _, _ in alone] == [(2, 300.0), (2, 900.0)]
    assert all(a[2].equals(b[2]) and a[3] == b[3] for a, b in zip(alone, full, strict=True))
