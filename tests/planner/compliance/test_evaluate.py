"""Compliance on a hand-built district: hand-computed pass/fail, shortfalls and indicators."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

from planner.compliance.evaluate import INDICATOR_COLUMNS, PER_UNIT_COLUMNS, evaluate_compliance
from planner.compliance.rules import RuleProfile, build_profile
from planner.io.rules import read_profile

WGS84 = "EPSG:4326"

# Three bottom units as 0.01-degree squares (~1 km) along a row at lat 30.60-30.61.
UNITS = gpd.GeoDataFrame(
    {
        "unit_id": ["C1", "C2", "V1"],
        "name": ["甲社区", "乙社区", "丙村"],
        "older_pop": [1000.0, 2000.0, 500.0],
        "settlement": ["urban", "urban", "rural"],
        "parent_id": ["S1", "S1", "T1"],
        "parent_name": ["一街道", "一街道", "二镇"],
        "level": ["community", "community", "village"],
        "zone": ["旧城区", "新建城区", "乡村"],
        "total_pop": [10000.0, 20000.0, 3000.0],
    },
    geometry=[box(104.00, 30.60, 104.01, 30.61), box(104.01, 30.60, 104.02, 30.61),
              box(104.02, 30.60, 104.03, 30.61)],
    crs=WGS84,
)
HIERARCHY = pd.DataFrame(
    {
        "unit_id": ["D1", "S1", "T1", "C1", "C2", "V1"],
        "name": ["某区", "一街道", "二镇", "甲社区", "乙社区", "丙村"],
        "level": ["district", "street", "town", "community", "community", "village"],
        "parent_id": ["", "D1", "D1", "S1", "S1", "T1"],
    }
)
# f5 (health) is ~96 m east of f1 (0.001 degree of longitude at lat 30.605 = 95.8 m).
FACILITIES = gpd.GeoDataFrame(
    {
        "facility_id": ["f1", "f2", "f3", "f4", "f5", "f6"],
        "name": ["甲日照", "乙综合体", "甲食堂", "丙互助点", "甲卫生站", "丙敬老院"],
        "type": ["day_care", "community_complex", "meal_point", "service_station", "health",
                 "nursing_home"],
        "capacity": [20.0, 100.0, 80.0, 10.0, None, 80.0],
        "beds": [20.0, 100.0, None, None, None, 80.0],
        "nursing_beds": [5.0, 60.0, None, None, None, 40.0],
        "floor_area_m2": [800.0, 1200.0, 200.0, 100.0, 300.0, 2000.0],
    },
    geometry=[Point(104.005, 30.605), Point(104.015, 30.605), Point(104.004, 30.606),
              Point(104.025, 30.605), Point(104.006, 30.605), Point(104.026, 30.606)],
    crs=WGS84,
)




def coverage_table(extra: list[tuple[str, str, float, float]] = ()) -> pd.DataFrame:
    """Coverage in the core's shape: day-care C1 .9, C2 .5, V1 0; meal C1 .95, C2 .85, V1 .2."""
    shares = [("C1", "day_care", 0.9, 15.0), ("C2", "day_care", 0.5, 15.0),
              ("V1", "day_care", 0.0, 15.0), ("C1", "meal_point", 0.95, 15.0),
              ("C2", "meal_point", 0.85, 15.0), ("V1", "meal_point", 0.2, 30.0), *extra]
    pops = dict(zip(UNITS["unit_id"], UNITS["older_pop"]))
    names = dict(zip(UNITS["unit_id"], UNITS["name"]))
    return pd.DataFrame([{
        "unit_id": u, "unit_name": names[u], "facility_type": t, "threshold_min": thr,
        "older_pop": pops[u], "covered_pop": s * pops[u], "covered_share": s,
        "median_time_min": 10.0, "p90_time_min": 20.0, "nearest_facility_id": "f1"}
        for u, t, s, thr in shares])


def _run(profile: RuleProfile | str, **kw: object):
    prof = read_profile(profile) if isinstance(profile, str) else profile
    args = {"units": UNITS, "facilities": FACILITIES, "coverage": coverage_table(),
            "hierarchy": HIERARCHY, **kw}
    return evaluate_compliance(prof, **args)  # type: ignore[arg-type]


def _unit(result, rule_id: str) -> pd.DataFrame:
    return result.per_unit.loc[result.per_unit["rule_id"] == rule_id].set_index("unit_id")


def _ind(result, rule_id: str) -> pd.Series:
    return result.indicators.set_index("rule_id").loc[rule_id]


def _profile(*rules: dict) -> RuleProfile:
    raw = {
        "profile": {"name": "t", "label_zh": "测试", "label_en": "test", "sources": {"001": "x"}},
        "walk": {"speed_m_s": 0.8, "source": "x"},
        "coverage": {"settlement_threshold_min": {"urban": 15, "rural": 30},
                     "required_types": ["day_care"], "target_share": 0.8, "source": "x"},
        "rules": [{"label_zh": "规则", "label_en": "rule", "source": ["001"], "clause": "001 x",
                   "target_year": 2025, "binding": "binding", **r} for r in rules],
    }
    return build_profile(raw, origin="test")


def test_tables_have_the_documented_columns() -> None:
    result = _run("chengdu")
    assert tuple(result.per_unit.columns) == PER_UNIT_COLUMNS
    assert tuple(result.indicators.columns) == INDICATOR_COLUMNS
    assert len(result.indicators) == 13 and result.lang == "zh"


def test_daycare_coverage_per_unit_and_indicator() -> None:
    result = _run("chengdu")
    rows = _unit(result, "cd.daycare_coverage")
    assert rows["passed"].tolist() == [True, False, False]  # C1 .9, C2 .5, V1 0 vs 0.8
    assert rows["shortfall"].tolist() == pytest.approx([0.0, 0.3, 0.8])
    ind = _ind(result, "cd.daycare_coverage")
    assert ind["computed"] == pytest.approx(1 / 3) and ind["met"] is False
    assert ind["target"] == 0.95 and ind["baseline"] == 0.85 and ind["target_year"] == 2025
    assert ind["indicator"] == "社区日间照料机构覆盖率" and "专栏3" in ind["source"]


def test_circle_all_types_uses_the_weakest_type() -> None:
    rows = _unit(_run("chengdu"), "cd.circle_15min")
    assert rows["measured"].tolist() == pytest.approx([0.9, 0.5, 0.0])
    assert _ind(_run("chengdu"), "cd.circle_15min")["met"] is None  # qualitative target


def test_presence_per_street_with_conditional_towns() -> None:
    result = _run("chengdu")
    rows = _unit(result, "cd.complex_per_street")
    assert rows.loc["S1", "measured"] == 1 and rows.loc["S1", "passed"]
    assert rows.loc["T1", "measured"] == 0 and not rows.loc["T1", "passed"]
    assert "有条件" in rows.loc["T1", "note"]
    ind = _ind(result, "cd.complex_per_street")
    assert ind["computed"] == 1.0 and ind["met"] is True  # the town does not count
    assert _ind(result, "cd.township_institution_coverage")["computed"] == 0.5


def test_floor_area_by_zone() -> None:
    result = _run("chengdu")
    f2 = _unit(result, "cd.street_institution_area").loc["f2"]
    assert (f2["measured"], f2["target"], f2["shortfall"], f2["passed"]) == (1200, 3000, 1800, False)
    assert _unit(result, "cd.daycare_area").loc["f1", "passed"]
    assert _ind(result, "cd.daycare_area")["met"] is True


def test_capacity_indicators() -> None:
    result = _run("chengdu")
    assert _ind(result, "cd.nursing_bed_share")["computed"] == pytest.approx(100 / 180)
    assert _ind(result, "cd.nursing_bed_share")["met"] is False
    beds = _ind(result, "cd.beds_per_1000")
    assert beds["computed"] == pytest.approx(200 / 3500 * 1000) and beds["met"] is True
    assert _unit(result, "cd.beds_per_1000").loc["D1", "measured"] == pytest.approx(200 / 3.5)
    assert _unit(result, "cd.county_hardship_facility").loc["D1", "measured"] == 1


def test_colocation_straight_line_and_network() -> None:
    result = _run("chengdu")
    rows = _unit(result, "cd.health_colocation")
    assert rows.loc["f1", "measured"] == pytest.approx(95.9, abs=0.5) and rows.loc["f1", "passed"]
    assert not rows.loc["f2", "passed"] and rows.loc["f2", "shortfall"] > 500
    assert _ind(result, "cd.health_colocation")["computed"] == pytest.approx(1 / 3)
    net = pd.DataFrame({"facility_id": ["f1"], "distance_m": [400.0]})
    rows = _unit(_run("chengdu", colocation=net), "cd.health_colocation")
    assert rows.loc["f1", "measured"] == 400 and not rows.loc["f1", "passed"]
    assert "network" in rows.loc["f1", "note"]


def test_missing_data_is_not_evaluable_never_passed() -> None:
    no_area = FACILITIES.drop(columns=["floor_area_m2", "beds", "nursing_beds"])
    result = _run("chengdu", coverage=None, facilities=no_area)
    for rule_id in ("cd.daycare_coverage", "cd.daycare_area", "cd.nursing_bed_share",
                    "cd.beds_per_1000"):
        rows = _unit(result, rule_id)
        assert not rows["evaluable"].any() and rows["passed"].isna().all()
        assert rows["note"].iloc[0].startswith("无法评估：需要")
        ind = _ind(result, rule_id)
        assert ind["met"] is None and np.isnan(ind["computed"])
    assert "覆盖表" in _unit(result, "cd.daycare_coverage")["note"].iloc[0]
    no_zone = _run("chengdu", units=UNITS.assign(zone=""))
    f2 = _unit(no_zone, "cd.street_institution_area").loc["f2"]
    assert not f2["evaluable"] and f2["passed"] is None
    no_health = _run("chengdu", facilities=FACILITIES.loc[FACILITIES["type"] != "health"])
    assert "health" in _ind(_run("chengdu", lang="en", facilities=FACILITIES.loc[
        FACILITIES["type"] != "health"]), "cd.health_colocation")["note"]
    assert _ind(no_health, "cd.health_colocation")["met"] is None


def test_threshold_mismatch_is_not_evaluable() -> None:
    cov = coverage_table([("C1", "service_station", 0.3, 15.0), ("C2", "service_station", 0.3, 15.0),
                          ("V1", "service_station", 0.3, 30.0)])
    row = _unit(_run("chengdu", coverage=cov, lang="en"), "cd.station_5min").iloc[0]
    assert not row["evaluable"]
    assert "coverage of service_station at 5 min (table has 15" in row["note"]


def test_type_without_facilities_counts_as_zero() -> None:
    prof = _profile({"id": "x", "kind": "unit_coverage", "target": 0.5,
                     "params": {"types": ["community_complex"]}})
    fac = FACILITIES.loc[FACILITIES["type"] != "community_complex"]
    result = _run(prof, facilities=fac, lang="en")
    assert _unit(result, "x")["measured"].tolist() == [0.0, 0.0, 0.0]
    assert "no community_complex facility" in _ind(result, "x")["note"]


def test_population_weighted_share() -> None:
    prof = _profile({"id": "p", "kind": "population_coverage", "target": 0.8,
                     "params": {"types": ["day_care", "meal_point"], "combine": "any"}})
    ind = _ind(_run(prof), "p")
    assert ind["computed"] == pytest.approx((950 + 1700 + 100) / 3500) and ind["met"] is False


def test_qingshen_counts_presence_and_land() -> None:
    fac = FACILITIES.assign(land_area_m2=[500.0, 0.0, 600.0, 0.0, 0.0, 0.0])
    result = _run("qingshen", facilities=fac)
    assert _ind(result, "qs.canteens")["computed"] == 1 and _ind(result, "qs.canteens")["met"] is False
    assert _unit(result, "qs.complexes").loc["all", "shortfall"] == 2
    assert _unit(result, "qs.facility_per_village")["measured"].tolist() == [2, 1, 2]
    assert _ind(result, "qs.facility_per_village")["met"] is True
    land = _unit(result, "qs.old_area_land")
    assert list(land.index) == ["C1"] and land.loc["C1", "measured"] == pytest.approx(0.11)
    assert _ind(result, "qs.old_area_land")["met"] is True
    no_land = _ind(_run("qingshen"), "qs.old_area_land")
    assert no_land["met"] is None and "用地面积" in no_land["note"]


def test_mianyang_and_nanan_rules_in_english() -> None:
    result = _run("mianyang", lang="en")
    assert _ind(result, "my.complex_500m2")["met"] is True
    assert _unit(result, "my.village_mutual_aid")["passed"].tolist() == [True]
    ind = _ind(result, "my.nursing_bed_share_2025")
    assert ind["binding"] == "binding" and ind["indicator"] == "Nursing-type bed share (2025)"
    nanan = _run("nanan")
    assert _ind(nanan, "na.community_stations_2022")["computed"] == 0
    assert _ind(nanan, "na.rural_mutual_aid_2022")["computed"] == 1
    assert _ind(nanan, "na.nursing_bed_share")["binding"] == "约束性"


def test_point_units_use_the_register_community() -> None:
    units = UNITS.assign(geometry=UNITS.geometry.representative_point())
    fac = FACILITIES.assign(community=["乙社区", "", "", "", "", ""])  # f1 registered in 乙社区
    rows = _unit(_run("qingshen", units=units, facilities=fac), "qs.facility_per_village")
    assert rows["measured"].tolist() == [1, 2, 2]  # f1 moved from C1 to C2; others nearest
