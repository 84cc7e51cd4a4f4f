"""Units files: three-level hierarchy from 12-digit codes or parent columns, settlement rules, problems."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import box

from planner.errors import InputDataError
from planner.io.units import level_of, read_units
from planner.network.coords import wgs84_to_gcj02

ZONES = {"中心城区": "urban", "郊区新城": "urban", "乡村": "rural"}

CODED = """统计用区划代码,名称,层级,城乡,片区,60岁以上人口,80岁以上人口,失能老人,经度,纬度,所属街道,所属区县
510104000000,锦江区,区县,,,,,,,,,
510104001000,督院街街道,街道,,,,,,,,,锦江区
510104001001,甲社区,社区,,中心城区,1000,100,10,104.06,30.65,督院街街道,锦江区
510104001002,乙社区,社区,城镇,,2000,,,104.07,30.66,督院街街道,锦江区
510104100201,丙村,村,,,500,50,5,104.10,30.60,三圣镇,锦江区
510104100202,丁村,村,,乡村,abc,,,104.11,30.61,三圣镇,锦江区
510104100203,戊村,村,,火星片区,300,,,104.12,30.62,三圣镇,锦江区
510104100201,丙村重复,村,,,500,,,104.10,30.60,三圣镇,锦江区
510104100204,己村,村,,,200,,,,,三圣镇,锦江区
"""


def test_coded_csv_three_levels(tmp_path: Path) -> None:
    path = tmp_path / "units.csv"
    path.write_bytes(CODED.encode("gbk"))
    read = read_units(path, zone_settlement=ZONES)
    assert read.encoding == "gbk"
    units = read.units.set_index("unit_id")
    # 戊村's zone 火星片区 is unknown: kept, its level (村) makes it rural, and a problem names it
    assert list(units.index) == ["510104001001", "510104001002", "510104100201", "510104100203"]
    assert units["settlement"].tolist() == ["urban", "urban", "rural", "rural"]  # zone, 城镇, 村, 村
    assert units["level"].tolist() == ["community", "community", "village", "village"]
    assert units["older_pop"].tolist() == [1000.0, 2000.0, 500.0, 300.0]
    assert units.at["510104001001", "pop_80"] == 100 and units.at["510104100201", "pop_disabled"] == 5
    assert units.at["510104001001", "parent_id"] == "510104001000"
    assert units.at["510104001001", "parent_name"] == "督院街街道"
    assert units.at["510104100201", "parent_id"] == "510104100000"
    hier = read.hierarchy.set_index("unit_id")
    assert hier.at["510104001000", "level"] == "street"
    assert hier.at["510104100000", "level"] == "town" and hier.at["510104100000", "name"] == "三圣镇"
    assert hier.at["510104100000", "parent_id"] == "510104000000"
    assert hier.at["510104000000", "level"] == "district" and hier.at["510104000000", "name"] == "锦江区"
    assert hier.at["510104000000", "parent_id"] == "510100000000"
    assert hier.at["510100000000", "level"] == "city"
    problems = {r.row: r.problem for r in read.problems.itertuples()}
    assert problems[7].startswith("older_pop missing")
    assert problems[8] == ("zone/settlement '火星片区' unknown to profile (none); used the unit's "
                           "level (rural); map it in the profile's [zones]")
    assert problems[9].startswith("duplicate unit_id")
    assert problems[10].startswith("no geometry")
    assert list(read.problems.columns) == ["row", "unit_id", "problem", "value"]


def test_names_only_hierarchy(tmp_path: Path) -> None:
    path = tmp_path / "u.csv"
    path.write_text("name,older_pop,lon,lat,所属街道,district,settlement\n"
                    "A社区,10,104.0,30.0,一街道,某区,urban\nB村,5,104.1,30.1,二镇,某区,rural\n",
                    encoding="utf-8")
    read = read_units(path)
    hier = read.hierarchy.set_index("unit_id")
    assert hier.at["A社区", "parent_id"] == "一街道" and hier.at["一街道", "level"] == "street"
    assert hier.at["二镇", "level"] == "town" and hier.at["二镇", "parent_id"] == "某区"
    assert hier.at["某区", "level"] == "district"
    assert read.units["settlement"].tolist() == ["urban", "rural"]


def test_gcj02_polygons_are_converted(tmp_path: Path) -> None:
    lon0, lat0 = (float(v) for v in wgs84_to_gcj02(104.06, 30.65))
    gdf = gpd.GeoDataFrame({"code": ["510104001001"], "名称": ["甲社区"], "60岁以上人口": [800],
                            "城乡": ["城镇"]},
                           geometry=[box(lon0, lat0, lon0 + 0.01, lat0 + 0.01)], crs="EPSG:4326")
    gdf.to_file(tmp_path / "u.gpkg", driver="GPKG")
    read = read_units(tmp_path / "u.gpkg", coords="gcj02")
    xy = shapely.get_coordinates(read.units.geometry.iloc[0])
    assert np.abs(xy - [104.06, 30.65]).sum(axis=1).min() < 1e-7  # the corner is back in WGS-84
    assert read.units.iloc[0]["older_pop"] == 800 and read.encoding is None


def test_projected_geodata_is_reprojected(tmp_path: Path) -> None:
    gdf = gpd.GeoDataFrame({"name": ["x社区"], "older_pop": [1]},
                           geometry=[box(0, 0, 1, 1)], crs="EPSG:4326").to_crs("EPSG:32648")
    gdf.to_file(tmp_path / "u.geojson", driver="GeoJSON")
    read = read_units(tmp_path / "u.geojson")
    assert read.units.crs.to_epsg() == 4326
    assert read.units.geometry.iloc[0].bounds[0] == pytest.approx(0.0, abs=1e-6)


def test_missing_population_column(tmp_path: Path) -> None:
    path = tmp_path / "u.csv"
    path.write_text("name,lon,lat\nA,104,30\n", encoding="utf-8")
    with pytest.raises(InputDataError, match="no older-population column"):
        read_units(path)


@pytest.mark.parametrize(
    ("raw", "name", "code", "level"),
    [("镇街", "三圣镇", "", "town"), ("镇街", "督院街街道", "", "street"), ("", "", "510104001000", "street"),
     ("", "", "510104101000", "town"), ("", "", "510104001203", "village"),
     ("村（社区）", "甲村", "", "village"), ("", "某社区", "", "community")],
)
def test_level_rules(raw: str, name: str, code: str, level: str) -> None:
    assert level_of(raw, name, code) == level
