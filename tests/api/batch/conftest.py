"""Batch fixtures: the Chengdu extract in 4 quadrants, the synthetic district in irregular regions."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import shapely

from planner.io.district_files import DistrictFiles, irregular_regions, write_district_files
from planner.synthetic.district import build_demo_district
from tests.conftest import SHARED_OSM

CHENGDU = SHARED_OSM / "chengdu_center_2018.osm.pbf"
QUADRANTS = Path(__file__).resolve().parents[3] / "data" / "regions" / "chengdu_center_quadrants.geojson"


@pytest.fixture(scope="session")
def chengdu_quadrants() -> Path:
    """The shipped 4 quadrant polygons over the extract's data extent (GeoJSON)."""
    if not CHENGDU.is_file():
        pytest.skip(f"{CHENGDU} missing")
    return QUADRANTS


@pytest.fixture(scope="session")
def synthetic_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[DistrictFiles, Path, Path]:
    """The synthetic district as .osm.pbf, units and register; 7 irregular regions plus one
    region outside the data (broken: it has no street)."""
    folder = tmp_path_factory.mktemp("synthetic")
    district = build_demo_district(seed=7, target_nodes=6000)
    files = write_district_files(district, folder)
    net = district.network
    area = shapely.box(net.lon.min(), net.lat.min(), net.lon.max(), net.lat.max())
    regions = irregular_regions(area, 7, seed=3)
    regions.to_file(folder / "regions.gpkg", driver="GPKG", engine="pyogrio")
    broken = regions.iloc[:1].copy()
    broken["region_id"], broken["name"] = "BROKEN", "outside the data"
    broken["geometry"] = [shapely.box(net.lon.max() + 1, net.lat.min(), net.lon.max() + 1.02,
                                      net.lat.min() + 0.02)]
    with_broken = pd.concat([regions, broken], ignore_index=True)
    with_broken.to_file(folder / "regions_broken.gpkg", driver="GPKG", engine="pyogrio")
    return files, folder / "regions.gpkg", folder / "regions_broken.gpkg"
