"""Parts put together from pieces equal the parts cut from the whole area (oracle: cut_region)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.batch.parts import RegionPart, cut_region, plan_cut, slice_network, sorted_unique
from planner.batch.pieces import (
    assemble_part,
    combine_networks,
    concat_frames,
    network_facts,
    plan_side,
    split_piece,
    with_facts,
)
from planner.io.district_files import irregular_regions
from planner.io.osm import OsmExtract
from planner.io.osm_split import combine_extracts
from planner.network.crs import choose_utm_crs
from planner.schema import FACILITY_ID, PlanInputs, RawNetwork
from planner.synthetic.district import build_demo_district


def _pieces(raw: RawNetwork, cuts: list[int]) -> list[RawNetwork]:
    """The network as a reader gives it per piece: runs of segments, each over its own nodes."""
    bounds = [0, *cuts, raw.n_edges]
    out = []
    for a, b in zip(bounds, bounds[1:], strict=False):
        keep = np.zeros(raw.n_edges, dtype=bool)
        keep[a:b] = True
        out.append(slice_network(raw, keep)[0])
    return out


def _assert_parts_equal(got: RegionPart, want: RegionPart) -> None:
    assert got.region_id == want.region_id and got.box == pytest.approx(want.box, abs=0)
    for field in ("node_id", "lon", "lat", "edge_u", "edge_v", "edge_highway", "edge_way_id"):
        np.testing.assert_array_equal(getattr(got.network, field), getattr(want.network, field))
    np.testing.assert_array_equal(got.main_nodes, want.main_nodes)
    pd.testing.assert_frame_equal(got.facilities, want.facilities)
    pd.testing.assert_frame_equal(got.residential, want.residential)
    assert want.units is not None and got.units is not None
    pd.testing.assert_frame_equal(got.units, want.units)
    assert got.owned_unit_ids == want.owned_unit_ids and got.crs == want.crs


def _district_in_pieces() -> tuple[PlanInputs, list[OsmExtract], gpd.GeoDataFrame]:
    """The synthetic district as 3 pieces of an OSM file (one without residential land; node
    facilities in every piece, as every piece holds every node) and 6 irregular regions."""
    district = build_demo_district(seed=7, target_nodes=3000)
    raw = district.network
    # a second, detached network part: its nodes are off the main part
    far = RawNetwork(np.array([10**9, 10**9 + 1]), raw.lon[:2] + 0.0001, raw.lat[:2] + 0.0001,
                     np.array([0]), np.array([1]), np.array(["footway"]), np.array([7]))
    raw = combine_networks([raw, far])
    fac = district.facilities.copy()
    fac[FACILITY_ID] = [f"osm_n{i}" if i % 2 else f"osm_w{i}" for i in range(len(fac))]
    ways, res = ~fac[FACILITY_ID].str.startswith("osm_n"), district.residential
    nodes = fac[~ways]
    pieces = [OsmExtract(net, concat_frames(pois), r, district.study_area) for net, pois, r in zip(
        _pieces(raw, [raw.n_edges // 3, 2 * raw.n_edges // 3]),
        [[nodes, fac[ways].iloc[:5]], [nodes], [nodes, fac[ways].iloc[5:]]],
        [res.iloc[:0], res.iloc[:100], res.iloc[100:]], strict=True)]
    area = shapely.box(raw.lon.min(), raw.lat.min(), raw.lon.max(), raw.lat.max())
    return district, pieces, irregular_regions(area, 6, seed=3)[["region_id", "geometry"]]


@pytest.mark.parametrize("register", [True, False])
def test_parts_from_pieces_equal_cut_of_the_whole(register: bool) -> None:
    """Facilities from the register or from OSM; oracle: the pieces combined into the whole
    area (as one read gives it, tested in tests/planner/io) and cut with ``cut_region``."""
    district, pieces, regions = _district_in_pieces()
    whole = combine_extracts(pieces)
    fac = district.facilities if register else whole.pois
    crs = choose_utm_crs(whole.network.lon, whole.network.lat)
    halo_m = 400.0
    plan = plan_cut(whole.network, regions, fac, district.units, whole.residential,
                    halo_m=halo_m, crs=crs, units_given=True)
    side = plan_side(regions, fac if register else None, district.units, halo_m)
    shares = [split_piece(p.network, None if register else p.pois, p.residential, side,
                          first=k == 0) for k, p in enumerate(pieces)]
    facts = network_facts([p.network for p in pieces])
    assert facts.crs == crs and facts.n_nodes == whole.network.n_nodes
    assert 10**9 in facts.off_main
    for r in range(len(regions)):
        part = with_facts(assemble_part(side, r, [s[r] for s in shares]), facts)
        _assert_parts_equal(part, cut_region(plan, r))
    sizes = [cut_region(plan, r) for r in range(len(regions))]
    assert all(p.network.n_edges and len(p.facilities) for p in sizes)
    assert sum(len(p.owned_unit_ids) for p in sizes) == len(district.units)


def test_region_outside_the_data_gets_an_empty_part() -> None:
    district = build_demo_district(seed=7, target_nodes=2000)
    raw = district.network
    regions = gpd.GeoDataFrame({"region_id": ["FAR"]}, geometry=[shapely.box(
        raw.lon.max() + 1, raw.lat.min(), raw.lon.max() + 1.02, raw.lat.min() + 0.02)],
        crs="EPSG:4326")
    side = plan_side(regions, district.facilities, district.units, 300.0)
    share = split_piece(raw, None, district.residential, side, first=True)
    part = with_facts(assemble_part(side, 0, share), network_facts([raw]))
    assert part.network.n_edges == 0 and part.owned_unit_ids == () and len(part.facilities) == 0


@settings(max_examples=60, deadline=None)
@given(values=st.lists(st.integers(-(2**40), 2**40), max_size=200))
def test_sorted_unique_is_numpy_unique(values: list[int]) -> None:
    array = np.array(values, dtype=np.int64)
    np.testing.assert_array_equal(sorted_unique(array), np.unique(array))
