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
    return result.indicators.set_index("id").loc[rule_id]


def _profile(*rules: dict) -> RuleProfile:
    raw = {
        "profile": {"name": "t", "label_zh": "测试", "label_en": "test", "sources": {"001": "x"}},
        "walk": {"speed_m_s": 0.8, "source": "x"},
        "coverage": {"settlement_threshold_min": {"urban": 15, "rural": 30},
                     "required_types": ["day_care"], "target_share": 0.8, "source": "x",
                     "target_share_source": "careplan assumption",
                     "required_type_clauses": {"day_care": {"clause": "001 x", "quote": "q"}}},
        "rules": [{"label_zh": "规则", "label_en": "rule", "source": ["001"], "clause": "001 x",
                   "target_year": 2025, "binding": "binding", **r} for r in rules],
    }
    return build_profile(raw, origin="test")


def test_tables_have_the_documented_columns() -> None:
    result = _run("chengdu")
    assert tuple(result.per_unit.columns) == PER_UNIT_COLUMNS
    assert tuple(result.indicators.columns) == INDICATOR_COLUMNS
    assert INDICATOR_COLUMNS[:11] == ("id", "label_zh", "label_en", "definition",
                                      "unit_of_measure", "baseline", "target", "target_year",
                                      "binding", "value", "met")
    assert len(result.indicators) == len(read_profile("chengdu").rules) and result.lang == "zh"
    assert result.indicators["definition"].str.len().gt(10).all()


def test_daycare_coverage_is_presence_per_community() -> None:
    """C1 has day-care centre f1, C2 has none; V1 is a village (not counted): 1/2 = 50 %."""
    result = _run("chengdu")
    rows = _unit(result, "cd.daycare_coverage")
    assert list(rows.index) == ["C1", "C2"] and rows["passed"].tolist() == [True, False]
    ind = _ind(result, "cd.daycare_coverage")
    assert ind["value"] == pytest.approx(0.5) and ind["met"] is False
    assert ind["target"] == 0.95 and ind["baseline"] == 0.85 and ind["target_year"] == 2025
    assert ind["label_zh"] == "社区日间照料机构覆盖率" and "专栏3" in ind["clause"]
    assert ind["unit_of_measure"] == "社区占比"


def test_walking_circle_is_a_separate_indicator() -> None:
    """Both types within the circle: C1 min(.9,.95)=.9 >= .8 passes, C2 .5 and V1 0 fail: 1/3."""
    result = _run("chengdu")
    rows = _unit(result, "cd.circle_15min_units")
    assert rows["measured"].tolist() == pytest.approx([0.9, 0.5, 0.0])
    ind = _ind(result, "cd.circle_15min_units")
    assert ind["value"] == pytest.approx(1 / 3) and ind["met"] is None  # qualitative
    assert "careplan assumption" in ind["note"]
    older = _ind(result, "cd.circle_15min_older")  # (900 + 1000 + 0) / 3500 older adults
    assert older["value"] == pytest.approx(1900 / 3500)


def test_presence_per_street_with_conditional_towns() -> None:
    result = _run("chengdu")
    rows = _unit(result, "cd.complex_per_street")
    assert rows.loc["S1", "measured"] == 1 and rows.loc["S1", "passed"]
    assert rows.loc["T1", "measured"] == 0 and not rows.loc["T1", "passed"]
    assert "有条件" in rows.loc["T1", "note"]
    ind = _ind(result, "cd.complex_per_street")
    assert ind["value"] == 1.0 and ind["met"] is True  # the town does not count
    assert _ind(result, "cd.township_institution_coverage")["value"] == 0.5


def test_floor_area_per_unit_including_units_without_a_facility() -> None:
    """750 m2: C1's f1 has 800 (pass), C2 has no centre (fail): 1/2. Street S1 mixes the zones
    旧城区 (C1) and 新建城区 (C2), so its standard is unknown; T1 has no complex (but is a town)."""
    result = _run("chengdu")
    area = _unit(result, "cd.daycare_area")
    assert area["passed"].tolist() == [True, False]
    assert _ind(result, "cd.daycare_area")["value"] == pytest.approx(0.5)
    street = _unit(result, "cd.street_institution_area").loc["S1"]
    assert street["passed"] is None and "新建城区" in street["note"]
    one_zone = _run("chengdu", units=UNITS.assign(zone=["新建城区", "新建城区", "乡村"]))
    s1 = _unit(one_zone, "cd.street_institution_area").loc["S1"]
    assert s1["passed"] is False  # f2 has 1200 m2 < 3000
    # f1's area blank (C1 unknown), a 500 m2 centre f7 in C2 (fails): known 0 of 1, bounds 0-50 %
    f7 = gpd.GeoDataFrame({"facility_id": ["f7"], "name": ["乙日照"], "type": ["day_care"],
                           "floor_area_m2": [500.0]}, geometry=[Point(104.012, 30.605)], crs=WGS84)
    blank = pd.concat([FACILITIES.assign(floor_area_m2=[np.nan, 1200.0, 200.0, 100.0, 300.0,
                                                        2000.0]), f7], ignore_index=True)
    ind = _ind(_run("chengdu", facilities=blank, lang="en"), "cd.daycare_area")
    assert ind["value"].startswith("partial: 1 of 2 units report it; between 0.0% and 50.0%")
    assert ind["met"] is False  # even the upper bound is below 100 %


def test_capacity_indicators() -> None:
    result = _run("chengdu")
    assert _ind(result, "cd.nursing_bed_share")["value"] == pytest.approx(100 / 180)
    assert _ind(result, "cd.nursing_bed_share")["met"] is False
    beds = _ind(result, "cd.beds_per_1000")  # a 户籍 indicator without 户籍 population
    assert "户籍老年人口" in beds["value"] and beds["met"] is None
    hukou = UNITS.assign(older_pop_hukou=[800.0, 1500.0, 500.0])
    beds = _ind(_run("chengdu", units=hukou), "cd.beds_per_1000")
    # 200 beds known (f1 20, f2 100, f6 80), station f4 reports none: at least 200/2800*1000
    assert beds["value"] == "部分：4 个设施中 3 个有数据；介于 71.43 与 ∞ 之间"
    assert beds["status"] == "history" and beds["met"] is None  # the 2020 target has passed
    assert _ind(_run("chengdu", units=hukou, year=2020), "cd.beds_per_1000")["met"] is True
    hardship = _ind(result, "cd.county_hardship_facility")
    assert "运营方式" in hardship["value"] and hardship["met"] is None


def test_partial_nursing_beds_give_bounds() -> None:
    """f2 100 beds / 60 nursing, f6 80 beds / nursing unknown: low 60/180, high 140/180."""
    fac = FACILITIES.assign(nursing_beds=[5.0, 60.0, None, None, None, None])
    ind = _ind(_run("chengdu", facilities=fac, lang="en"), "cd.nursing_bed_share")
    assert ind["value"] == "partial: 1 of 2 facilities report it; between 33.3% and 77.8%"
    assert ind["met"] is None  # 60 % lies inside the bounds


def test_colocation_straight_line_and_network() -> None:
    result = _run("chengdu")
    rows = _unit(result, "cd.health_colocation")
    assert rows.loc["f1", "measured"] == pytest.approx(95.9, abs=0.5) and rows.loc["f1", "passed"]
    assert not rows.loc["f2", "passed"] and rows.loc["f2", "shortfall"] > 500
    assert _ind(result, "cd.health_colocation")["value"] == pytest.approx(1 / 3)  # f1 of f1,f2,f4
    net = pd.DataFrame({"facility_id": ["f1"], "distance_m": [400.0]})
    rows = _unit(_run("chengdu", colocation=net), "cd.health_colocation")
    assert rows.loc["f1", "measured"] == 400 and not rows.loc["f1", "passed"]
    assert "network" in rows.loc["f1", "note"]


def test_missing_data_is_not_evaluable_never_passed() -> None:
    no_area = FACILITIES.drop(columns=["floor_area_m2", "beds", "nursing_beds"])
    result = _run("chengdu", coverage=None, facilities=no_area)
    for rule_id in ("cd.circle_15min_units", "cd.daycare_area", "cd.nursing_bed_share"):
        rows = _unit(result, rule_id)
        assert not rows["evaluable"].any() and rows["passed"].isna().all()
        assert rows["note"].iloc[0].startswith("无法评估：需要")
        ind = _ind(result, rule_id)
        assert ind["met"] is None and ind["value"].startswith("无法评估")
    assert "覆盖表" in _ind(result, "cd.circle_15min_units")["value"]
    assert "建筑面积" in _ind(result, "cd.daycare_area")["value"]
    no_health = _run("chengdu", lang="en", facilities=FACILITIES.loc[FACILITIES["type"] != "health"])
    assert _ind(no_health, "cd.health_colocation")["value"] == (
        "not evaluable: no health in the inputs (give a facility register)")


def test_threshold_mismatch_is_not_evaluable() -> None:
    cov = coverage_table([("C1", "service_station", 0.3, 15.0), ("C2", "service_station", 0.3, 15.0),
                          ("V1", "service_station", 0.3, 30.0)])
    ind = _ind(_run("chengdu", coverage=cov, lang="en"), "cd.station_5min")
    assert "coverage of service_station at 5 min (table has 15" in ind["value"]


def test_type_without_facilities_is_not_evaluable() -> None:
    prof = _profile({"id": "x", "kind": "presence", "target": 0.5,
                     "params": {"types": ["community_complex"], "levels": ["community"]}})
    fac = FACILITIES.loc[FACILITIES["type"] != "community_complex"]
    result = _run(prof, facilities=fac, lang="en")
    assert _ind(result, "x")["value"] == (
        "not evaluable: no community_complex in the inputs (give a facility register)")
    assert result.warnings == ("1 indicator(s) not evaluable: no community_complex in the inputs "
                               "(give a facility register)",)


def test_population_weighted_share() -> None:
    prof = _profile({"id": "p", "kind": "population_coverage", "target": 0.8,
                     "params": {"types": ["day_care", "meal_point"], "combine": "any"}})
    ind = _ind(_run(prof), "p")
    assert ind["value"] == pytest.approx((950 + 1700 + 100) / 3500) and ind["met"] is False


def test_assumption_rules_are_off_by_default() -> None:
    prof = _profile({"id": "a", "kind": "count", "target": 1, "assumption": True,
                     "params": {"types": ["day_care"]}},
                    {"id": "b", "kind": "count", "target": 1, "params": {"types": ["day_care"]}})
    assert _run(prof).indicators["id"].tolist() == ["b"]
    both = evaluate_compliance(prof, units=UNITS, facilities=FACILITIES, coverage=None,
                               hierarchy=HIERARCHY, include_assumptions=True)
    assert both.indicators["id"].tolist() == ["a", "b"] and both.indicators["assumption"].tolist() == [True, False]


def test_point_units_use_the_register_community() -> None:
    units = UNITS.assign(geometry=UNITS.geometry.representative_point())
    fac = FACILITIES.assign(community=["乙社区", "", "", "", "", ""])  # f1 registered in 乙社区
    rows = _unit(_run("qingshen", units=units, facilities=fac), "qs.facility_per_village")
    assert rows["measured"].tolist() == [1, 1, 2]  # f1 (day-care, not counted in 004) moved
