"""Halo, ownership and cutting: hand-worked numbers, exhaustive oracles, hypothesis properties."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod

from planner.batch.parts import main_node_mask, slice_network
from planner.batch.regions import (
    Halo,
    assign_owner,
    large_regions,
    largest_threshold_min,
    make_halo,
    segments_in_box,
    widen_box,
)
from planner.io.osm_write import way_runs
from planner.params import CoverageParams, PlanParams
from tests.conftest import grid_raw

GEOD = Geod(ellps="WGS84")


def test_halo_hand_worked() -> None:
    """30 min at 0.8 m/s, 300 m snap, safety 1.1: 1.1 * 0.8 * 1800 + 300 = 1884 m."""
    halo = make_halo(PlanParams())
    assert largest_threshold_min(PlanParams()) == 30.0
    assert halo.horizon_s == 1800.0 and halo.halo_m == pytest.approx(1884.0)
    assert make_halo(PlanParams(), 60).halo_m == pytest.approx(1.1 * 0.8 * 3600 + 300)
    with pytest.raises(ValueError, match="below the largest threshold 30"):
        make_halo(PlanParams(), 15)
    rural45 = dataclasses.replace(PlanParams().coverage, settlement_threshold_min={
        "urban": 15.0, "rural": 45.0})
    assert largest_threshold_min(dataclasses.replace(PlanParams(), coverage=rural45)) == 45.0
    assert isinstance(CoverageParams().thresholds_min, tuple)


@settings(max_examples=60, deadline=None)
@given(lon=st.floats(73, 135), lat=st.floats(-60, 60), halo_m=st.floats(10, 50_000),
       bearing=st.floats(0, 360))
def test_widened_box_holds_every_point_within_the_halo(lon: float, lat: float, halo_m: float,
                                                       bearing: float) -> None:
    """A point ``halo_m`` (geodesic) from any box corner or side lies inside the widened box."""
    box = (lon, lat, lon + 0.05, lat + 0.05)
    w, s, e, n = widen_box(box, halo_m)
    for x0, y0 in ((box[0], box[1]), (box[2], box[3]), (box[0], box[3]), (box[2], box[1])):
        x, y, _ = GEOD.fwd(x0, y0, bearing, halo_m)
        assert w <= x <= e and s <= y <= n


def test_assign_owner_matches_exhaustive_first_covering_region() -> None:
    rng = np.random.default_rng(4)
    regions = np.array([shapely.box(0, 0, 2, 2), shapely.box(1, 1, 3, 3),
                        shapely.Polygon([(2, 0), (4, 0), (4, 2)])], dtype=object)
    xy = rng.uniform(-0.5, 4.5, (400, 2))
    xy[:3] = [(1, 1), (2, 2), (2, 0)]  # on shared borders: the first region wins
    points = shapely.points(xy)
    got = assign_owner(points, regions)
    want = [next((r for r, g in enumerate(regions) if g.covers(p)), -1) for p in points]
    assert got.tolist() == want
    assert got[:3].tolist() == [0, 0, 0]


@settings(max_examples=50, deadline=None)
@given(coords=st.lists(st.tuples(st.floats(-5, 5), st.floats(-5, 5), st.floats(-5, 5),
                                 st.floats(-5, 5)), min_size=1, max_size=30))
def test_segments_in_box_keeps_every_segment_crossing_it(coords: list[tuple[float, ...]]) -> None:
    a = np.array(coords)
    keep = segments_in_box(a[:, 0], a[:, 1], a[:, 2], a[:, 3], (-1.0, -1.0, 1.0, 1.0))
    lines = shapely.linestrings(np.stack([a[:, :2], a[:, 2:]], axis=1))
    crossing = shapely.intersects(lines, shapely.box(-1, -1, 1, 1))
    assert not (crossing & ~keep).any()


def test_slice_network_and_main_mask() -> None:
    raw = grid_raw(4, 3, 100.0)
    main = main_node_mask(raw)
    assert main.all()
    keep = np.zeros(raw.n_edges, dtype=bool)
    keep[:3] = True
    part, used = slice_network(raw, keep)
    assert part.n_edges == 3 and part.n_nodes == used.shape[0]
    np.testing.assert_array_equal(part.node_id[part.edge_u], raw.node_id[raw.edge_u[:3]])
    np.testing.assert_array_equal(part.node_id[part.edge_v], raw.node_id[raw.edge_v[:3]])


def test_way_runs_write_every_segment_once() -> None:
    raw = grid_raw(5, 4, 50.0)
    raw = dataclasses.replace(raw, edge_way_id=np.zeros(raw.n_edges, dtype=np.int64))
    pairs = sorted(tuple(sorted((int(c[i]), int(c[i + 1])))) for c, _ in way_runs(raw)
                   for i in range(len(c) - 1))
    want = sorted(tuple(sorted(p)) for p in zip(raw.edge_u.tolist(), raw.edge_v.tolist(), strict=True))
    assert pairs == want


def test_large_regions_reported() -> None:
    assert large_regions({"a": 10, "b": 12, "c": 11, "d": 100}) == ["d"]
    assert large_regions({"a": 10, "b": 12}) == []
    assert Halo(60.0, 1.0, 0.0, 1.0).halo_m == 60.0
