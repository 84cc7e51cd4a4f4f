"""Facility registers: GBK CSV with Chinese headers in GCJ-02, XLSX, GeoJSON, and every bad-row case."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pytest
from shapely.geometry import Point, box

from planner.errors import InputDataError
from planner.io.catalogue import read_catalogue
from planner.io.encoding import detect_encoding
from planner.io.registers import read_facility_register, stable_facility_id
from planner.network.coords import wgs84_to_bd09, wgs84_to_gcj02

CATALOGUE = read_catalogue()
# True WGS-84 positions of the good rows (Chengdu, around 104.06E 30.65N).
TRUE = {"A1": (104.0600, 30.6500), "A2": (104.0700, 30.6600), "A3": (104.0650, 30.6550)}
STUDY_AREA = box(104.0, 30.6, 104.1, 30.7)


def _gcj(key: str) -> tuple[float, float]:
    lon, lat = wgs84_to_gcj02(*TRUE[key])
    return float(lon), float(lat)


def _gbk_register(path: Path) -> Path:
    a1, a2, a3 = _gcj("A1"), _gcj("A2"), _gcj("A3")
    lines = [
        "某区养老服务设施名录（2024年）",  # title row above the header (row 1)
        "编号,名称,类型,经度,纬度,地址,床位,护理型床位,日供餐能力,建筑面积（平方米）,运营状态,所属社区",  # row 2
        f"A1,锦江日照中心,日照中心,{a1[0]:.9f},{a1[1]:.9f},东大街1号,20,5,,800,运营,甲社区",  # row 3
        f"A2,长者食堂一号,长者食堂,{a2[0]:.9f},{a2[1]:.9f},东大街2号,,,120,300㎡,运营,乙社区",  # row 4
        f"A3,福利院,敬老院,{a3[0]:.9f},{a3[1]:.9f},东大街3号,100,60,,约2000,运营,乙社区",  # row 5
        "A4,神秘中心,老年人神秘服务中心,104.07,30.66,,,,,,,",  # row 6: unknown type
        "A5,无坐标站,养老服务站,,,,,,,,,",  # row 7: no coordinates
        "A6,远方站,养老服务站,104.5,31.2,,,,,,,",  # row 8: outside the study area
        f"A1,重复日照,日照中心,{a1[0]:.9f},{a1[1]:.9f},,,,,,,",  # row 9: duplicate id
        "A7,无类型,,104.07,30.66,,,,,,,",  # row 10: no type
        f"A8,床位乱填,助餐点,{a2[0]:.9f},{a2[1]:.9f},,很多,,,,,",  # row 11: beds not a number (kept)
    ]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("gbk"))
    return path


def test_gbk_csv_chinese_headers_gcj02(tmp_path: Path) -> None:
    read = read_facility_register(_gbk_register(tmp_path / "r.csv"), catalogue=CATALOGUE,
                                  coords="gcj02", study_area=STUDY_AREA)
    assert read.encoding == "gbk" and read.coords == "gcj02"
    fac = read.facilities.set_index("facility_id")
    assert list(fac.index) == ["A1", "A2", "A3", "A8"]
    assert fac.crs.to_epsg() == 4326
    for key, (lon, lat) in TRUE.items():
        assert fac.at[key, "geometry"].x == pytest.approx(lon, abs=1e-7)  # ~1 cm
        assert fac.at[key, "geometry"].y == pytest.approx(lat, abs=1e-7)
    assert fac["type"].to_dict() == {"A1": "day_care", "A2": "meal_point", "A3": "nursing_home",
                                     "A8": "meal_point"}
    # capacity rule: meal points -> meal capacity, nursing homes -> beds, day care -> beds (no places)
    assert fac.at["A1", "capacity"] == 20 and fac.at["A2", "capacity"] == 120
    assert fac.at["A3", "capacity"] == 100 and np.isnan(fac.at["A8", "capacity"])
    assert fac.at["A2", "floor_area_m2"] == 300 and fac.at["A3", "floor_area_m2"] == 2000
    assert fac.at["A3", "nursing_beds"] == 60 and fac.at["A2", "community"] == "乙社区"
    assert fac.at["A1", "type_raw"] == "日照中心" and fac.at["A1", "source_row"] == 3


def test_every_bad_row_is_reported_with_its_row(tmp_path: Path) -> None:
    read = read_facility_register(_gbk_register(tmp_path / "r.csv"), catalogue=CATALOGUE,
                                  coords="gcj02", study_area=STUDY_AREA)
    got = {(r.row, r.facility_id): r.problem for r in read.problems.itertuples()}
    assert list(read.problems.columns) == ["row", "facility_id", "problem", "value"]
    assert got[(6, "A4")].startswith("unknown facility type")
    assert read.problems.set_index("row").at[6, "value"] == "老年人神秘服务中心"
    assert got[(7, "A5")].startswith("no coordinates")
    assert got[(8, "A6")].startswith("outside the study area")
    assert got[(9, "A1")].startswith("duplicate facility_id")
    assert got[(10, "A7")].startswith("no facility type")
    assert got[(11, "A8")].startswith("beds is not a number")
    assert len(read.problems) == 6


def _xlsx(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def test_xlsx_register_bd09_without_ids(tmp_path: Path) -> None:
    b1 = [float(v) for v in wgs84_to_bd09(104.06, 30.65)]
    b2 = [float(v) for v in wgs84_to_bd09(104.07, 30.66)]
    path = _xlsx(tmp_path / "r.xlsx", ["名称", "类型", "经度", "纬度", "餐位", "日托床位", "床位"],
                 [["乙站", "社区养老服务站", b2[0], b2[1], None, 12, 30],
                  ["甲餐", "老年食堂", b1[0], b1[1], 80, None, None]])
    read = read_facility_register(path, catalogue=CATALOGUE, coords="bd09")
    assert read.encoding is None and read.problems.empty
    fac = read.facilities.set_index("name")
    assert fac.at["甲餐", "geometry"].x == pytest.approx(104.06, abs=1e-8)
    assert fac.at["乙站", "capacity"] == 12  # day-care places win over beds
    assert fac.at["甲餐", "capacity"] == 80
    assert fac.at["甲餐", "facility_id"] == stable_facility_id("甲餐", "meal_point", 104.06, 30.65)
    # the generated id does not depend on row order
    path2 = _xlsx(tmp_path / "r2.xlsx", ["名称", "类型", "经度", "纬度", "餐位"],
                  [["甲餐", "老年食堂", b1[0], b1[1], 80]])
    again = read_facility_register(path2, catalogue=CATALOGUE, coords="bd09")
    assert again.facilities["facility_id"].iloc[0] == fac.at["甲餐", "facility_id"]


def test_simple_english_csv_utf8_bom(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    text = "facility_id,name,type,lon,lat,capacity\nd1,Day one,day_care,104.06,30.65,25\n"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    read = read_facility_register(path, catalogue=CATALOGUE)
    assert read.encoding == "utf-8-sig"
    assert read.facilities.iloc[0][["facility_id", "type", "capacity"]].tolist() == ["d1", "day_care", 25]
    assert read.facilities.geometry.iloc[0].equals(Point(104.06, 30.65))


def test_geojson_register(tmp_path: Path) -> None:
    gdf = gpd.GeoDataFrame({"名称": ["甲"], "类型": ["助老餐厅"], "餐位": [50]},
                           geometry=[Point(104.06, 30.65)], crs="EPSG:4326")
    gdf.to_file(tmp_path / "f.geojson", driver="GeoJSON")
    read = read_facility_register(tmp_path / "f.geojson", catalogue=CATALOGUE)
    assert read.facilities.iloc[0]["type"] == "meal_point" and read.facilities.iloc[0]["capacity"] == 50


def test_encoding_detection_order() -> None:
    assert detect_encoding("名称".encode("gbk")) == "gbk"
    assert detect_encoding("名称".encode()) == "utf-8"
    assert detect_encoding("𠀀".encode("gb18030")) == "gb18030"  # outside GBK


def test_no_usable_row_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("名称,类型,经度,纬度\n甲,火星站,104.0,30.6\n", encoding="utf-8")
    with pytest.raises(InputDataError, match="no usable facility.*unknown facility type"):
        read_facility_register(path, catalogue=CATALOGUE)


def test_projected_coordinates_refused(tmp_path: Path) -> None:
    path = tmp_path / "proj.csv"
    path.write_text("名称,类型,经度,纬度\n甲,日照中心,405123.5,3391234.2\n", encoding="utf-8")
    with pytest.raises(InputDataError, match="405123.5.*projected metres"):
        read_facility_register(path, catalogue=CATALOGUE)


def test_missing_lonlat_columns_named(tmp_path: Path) -> None:
    path = tmp_path / "nocoord.csv"
    path.write_text("名称,类型\n甲,日照中心\n", encoding="utf-8")
    with pytest.raises(InputDataError, match="no longitude/latitude columns"):
        read_facility_register(path, catalogue=CATALOGUE)
