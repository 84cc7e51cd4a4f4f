"""Tests of planner.synthetic.district: determinism, size, connectivity, contracts and deliberate gaps."""

from __future__ import annotations

import time

import numpy as np
import pytest
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from planner.errors import InputDataError
from planner.params import FACILITY_TYPES
from planner.schema import PlanInputs, validate_facilities, validate_units
from planner.synthetic.district import METRIC_CRS, build_demo_district


@pytest.fixture(scope="module")
def demo() -> PlanInputs:
    return build_demo_district()


def _edge_lines_m(inputs: PlanInputs) -> np.ndarray:
    from pyproj import Transformer

    net = inputs.network
    x, y = Transformer.from_crs("EPSG:4326", METRIC_CRS, always_xy=True).transform(net.lon, net.lat)
    xy = np.column_stack([x, y])
    return shapely.linestrings(np.stack([xy[net.edge_u], xy[net.edge_v]], axis=1))


def test_same_seed_gives_identical_output(demo: PlanInputs) -> None:
    again = build_demo_district()
    for field in ("node_id", "lon", "lat", "edge_u", "edge_v", "edge_highway", "edge_way_id"):
        np.testing.assert_array_equal(getattr(demo.network, field), getattr(again.network, field))
    assert demo.facilities.equals(again.facilities)
    assert demo.units.equals(again.units)
    assert demo.residential.equals(again.residential)


def test_different_seeds_differ(demo: PlanInputs) -> None:
    other = build_demo_district(seed=8)
    assert other.network.n_nodes != demo.network.n_nodes or not np.array_equal(other.network.lon, demo.network.lon)
    assert not demo.units["name"].equals(other.units["name"])


@pytest.mark.parametrize("target", [3000, 6000, 40000])
def test_node_count_near_target(target: int) -> None:
    n = build_demo_district(target_nodes=target, seed=3).network.n_nodes
    assert 0.75 * target <= n <= 1.25 * target


def test_edges_are_valid_segments(demo: PlanInputs) -> None:
    net = demo.network
    assert net.edge_u.dtype == np.int64 and net.node_id.dtype == np.int64
    assert net.edge_u.min() >= 0 and max(net.edge_u.max(), net.edge_v.max()) < net.n_nodes
    assert not np.any(net.edge_u == net.edge_v)
    pairs = np.sort(np.column_stack([net.edge_u, net.edge_v]), axis=1)
    assert len(np.unique(pairs, axis=0)) == net.n_edges
    assert shapely.length(_edge_lines_m(demo)).min() > 0.5
    assert np.unique(net.node_id).size == net.n_nodes
    assert 103.9 < net.lon.min() and net.lon.max() < 104.25 and 30.5 < net.lat.min() and net.lat.max() < 30.8


def test_highway_classes_present(demo: PlanInputs) -> None:
    present = set(demo.network.edge_highway.tolist())
    wanted = {"primary", "secondary", "tertiary", "residential", "service", "footway", "steps", "track", "unclassified"}
    assert wanted <= present


def test_largest_component_holds_almost_all_nodes(demo: PlanInputs) -> None:
    net = demo.network
    graph = coo_matrix((np.ones(net.n_edges), (net.edge_u, net.edge_v)), shape=(net.n_nodes, net.n_nodes))
    _, label = connected_components(graph, directed=False)
    assert np.bincount(label).max() > 0.95 * net.n_nodes


def test_facilities_meet_contract(demo: PlanInputs) -> None:
    fac = validate_facilities(demo.facilities)
    assert set(fac["type"]) == set(FACILITY_TYPES)
    assert fac["capacity"][fac["type"] == "health"].isna().all()
    ranges = {"day_care": (30, 80), "meal_point": (80, 200), "community_complex": (100, 200),
              "service_station": (20, 40), "nursing_home": (50, 300)}
    for kind, (low, high) in ranges.items():
        cap = fac.loc[fac["type"] == kind, "capacity"]
        assert cap.between(low, high).all(), kind
    assert fac["name"].is_unique


def test_one_facility_is_far_from_every_road(demo: PlanInputs) -> None:
    tree = shapely.STRtree(_edge_lines_m(demo))
    points = demo.facilities.to_crs(METRIC_CRS).geometry.to_numpy()
    _, dist_m = tree.query_nearest(points, return_distance=True)
    assert (dist_m > 300).sum() >= 1
    assert np.median(dist_m) < 40


def test_some_facilities_share_a_segment(demo: PlanInputs) -> None:
    tree = shapely.STRtree(_edge_lines_m(demo))
    points = demo.facilities.to_crs(METRIC_CRS).geometry.to_numpy()
    idx = tree.query_nearest(points, all_matches=False)[1]
    assert np.bincount(idx).max() >= 2


def test_units_meet_contract_and_tile_the_district(demo: PlanInputs) -> None:
    units = validate_units(demo.units)
    assert set(units["settlement"]) == {"urban", "rural"}
    assert units["unit_id"].str.fullmatch(r"\d{12}").all()
    assert units["parent_id"].str.fullmatch(r"\d{9}").all()
    assert (units["unit_id"].str[:9] == units["parent_id"]).all()
    urban = units["settlement"] == "urban"
    assert units.loc[urban, "name"].str.endswith("社区").all() and units.loc[~urban, "name"].str.endswith("村").all()
    assert units.loc[urban, "parent_name"].str.endswith("街道").all() and units.loc[~urban, "parent_name"].str.endswith("镇").all()
    assert units.loc[urban, "older_pop"].between(800, 3000).all()
    assert units.loc[~urban, "older_pop"].between(200, 900).all()
    metric = units.to_crs(METRIC_CRS).geometry.to_numpy()
    union = shapely.union_all(metric)
    assert abs(shapely.area(metric).sum() - union.area) < 1.0
    assert abs(union.area - demo.units.to_crs(METRIC_CRS).union_all().area) < 1.0


def test_units_cover_residential_polygons(demo: PlanInputs) -> None:
    assert demo.residential is not None and "name" in demo.residential.columns
    assert set(demo.residential["kind"]) == {"gated_compound", "open_block", "village_cluster"}
    cover = demo.units.to_crs(METRIC_CRS).union_all().buffer(0.01)
    assert shapely.within(demo.residential.to_crs(METRIC_CRS).geometry.to_numpy(), cover).all()
    by_unit = demo.units.set_index("unit_id").geometry
    res = demo.residential.iloc[:50]
    assert all(by_unit[u].buffer(1e-7).contains(g) for u, g in zip(res["unit_id"], res.geometry, strict=True))


def test_streets_group_several_communities(demo: PlanInputs) -> None:
    size = demo.units[demo.units["settlement"] == "urban"].groupby("parent_id").size()
    assert size.size >= 2 and size.between(3, 16).all()
    complexes = demo.facilities.loc[demo.facilities["type"] == "community_complex", "name"]
    streets = demo.units.loc[demo.units["settlement"] == "urban", "parent_name"].unique()
    without = [s for s in streets if not complexes.str.startswith(s).any()]
    assert len(without) == 1


def test_labels_and_sources(demo: PlanInputs) -> None:
    assert demo.is_synthetic and "synthetic" in demo.label
    assert demo.sources == {"synthetic": "planner.synthetic.district seed=7 target_nodes=6000"}
    assert demo.study_area is not None and demo.study_area.is_valid
    assert demo.facilities.crs.to_epsg() == 4326 and demo.units.crs.to_epsg() == 4326


def test_exact_facility_count_over_all_types() -> None:
    inputs = build_demo_district(target_nodes=20000, n_facilities=300)
    assert len(inputs.facilities) == 300
    assert set(inputs.facilities["type"]) == set(FACILITY_TYPES)
    assert inputs.facilities["facility_id"].is_unique


@pytest.mark.parametrize(
    "kwargs", [{"target_nodes": 10}, {"seed": -1}, {"n_facilities": 3}, {"target_nodes": 6000.5}]
)
def test_bad_arguments_raise(kwargs: dict[str, float]) -> None:
    with pytest.raises(InputDataError):
        build_demo_district(**kwargs)  # type: ignore[arg-type]


@pytest.mark.slow
def test_million_nodes_fast_enough() -> None:
    start_s = time.perf_counter()
    inputs = build_demo_district(target_nodes=1_000_000, n_facilities=3000)
    elapsed_s = time.perf_counter() - start_s
    assert 750_000 <= inputs.network.n_nodes <= 1_250_000
    assert len(inputs.facilities) == 3000
    assert elapsed_s < 30
