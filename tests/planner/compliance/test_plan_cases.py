"""One hand-made register per profile, read from real CSV files, with hand-worked indicators.

Units: street 新城街道 with 8 communities C1-C8 and town 新城镇 with 4 villages V1-V4, all zoned
郊区新城, 100 older adults each, in district 新城区. Walking times per unit are given (one demand
point per unit) and turned into coverage by the core's ``compute_unit_coverage``.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from planner.compliance.evaluate import evaluate_compliance
from planner.compliance.levels import provision_levels
from planner.coverage.measure import compute_unit_coverage
from planner.io.catalogue import read_catalogue
from planner.io.registers import read_facility_register
from planner.io.rules import read_profile
from planner.io.units import read_units

COMMUNITIES = [f"C{i}社区" for i in range(1, 9)]
VILLAGES = [f"V{i}村" for i in range(1, 5)]


def _units_csv(tmp_path: Path, zone: str = "郊区新城") -> Path:
    rows = [{"名称": n, "层级": "社区", "所属街道": "新城街道", "区县": "新城区", "分区": zone,
             "60岁以上人口": 100, "经度": 104.0 + 0.01 * i, "纬度": 30.6}
            for i, n in enumerate(COMMUNITIES)]
    rows += [{"名称": n, "层级": "村", "所属街道": "新城镇", "区县": "新城区", "分区": zone,
              "60岁以上人口": 100, "经度": 104.0 + 0.01 * i, "纬度": 30.7}
             for i, n in enumerate(VILLAGES)]
    path = tmp_path / "units.csv"
    pd.DataFrame(rows).to_csv(path, index=False, encoding="utf-8-sig")
    return path


def _register(tmp_path: Path, rows: list[dict[str, object]]) -> pd.DataFrame:
    path = tmp_path / "register.csv"
    pd.DataFrame(rows).to_csv(path, index=False, encoding="utf-8-sig")
    return read_facility_register(path, catalogue=read_catalogue()).facilities


def _fac(name: str, kind: str, community: str, **extra: object) -> dict[str, object]:
    i = (COMMUNITIES + VILLAGES).index(community)
    lat = 30.6 if community in COMMUNITIES else 30.7
    return {"名称": name, "类型": kind, "所属社区": community, "经度": 104.0 + 0.01 * (i % 8),
            "纬度": lat, **extra}


def _coverage(units: pd.DataFrame, profile: str, minutes: dict[str, dict[str, float]]
              ) -> pd.DataFrame | None:
    """Coverage per type from one demand point per unit at the given walking minutes."""
    params = read_profile(profile).plan_params().coverage
    frames = []
    for ftype, by_unit in minutes.items():
        demand = pd.DataFrame({"unit_id": units["unit_id"], "older_pop": units["older_pop"],
                               "status": "ok", "facility_id": "f",
                               "time_s": units["name"].map(by_unit).fillna(np.inf) * 60.0})
        frames.append(compute_unit_coverage(demand, units, ftype, params))
    return pd.concat(frames, ignore_index=True) if frames else None


def _evaluate(tmp_path: Path, profile: str, register: list[dict[str, object]],
              minutes: dict[str, dict[str, float]], **kw: object):
    prof = read_profile(profile)
    read = read_units(_units_csv(tmp_path), zone_settlement=prof.zone_settlement,
                      profile_name=prof.name, **kw)  # type: ignore[arg-type]
    fac = _register(tmp_path, register)
    cov = _coverage(read.units, profile, minutes)
    result = evaluate_compliance(prof, units=read.units, facilities=fac, coverage=cov,
                                 hierarchy=read.hierarchy, lang="en")
    return read, cov, result.indicators.set_index("id"), result


def test_chengdu_suburban_new_town(tmp_path: Path) -> None:
    """Chengdu, all 12 units in 郊区新城.

    Register: day-care centres in C1 (800 m2), C2 (900 m2), C3 (500 m2), C4 (600 m2); a meal
    point in C1 and one in V1.

    - 社区日间照料机构覆盖率 = communities with a centre / communities = 4 / 8 = 50 % (villages are
      not communities; the walking time plays no part).
    - 750 m2 indicator = communities with a centre of >= 750 m2 / communities = 2 / 8 = 25 %.
    - Settlement: 郊区新城 is 郊区 (suburban) for the communities; a 村 stays rural. Meal radius:
      30 min for both (002 三(九)14 郊区30分钟; rural read as outside 城区); day-care 15 min.
    - Walking circle (separate indicator): day-care 10 min for C1-C4, 20 min elsewhere; meals
      25 min everywhere (inside 30). Units within both circles: C1-C4 = 4 of 12 = 1/3; older
      adults within the day-care circle: 400 / 1200 = 1/3.
    """
    register = [_fac("甲日照", "日间照料中心", "C1社区", 建筑面积=800),
                _fac("乙日照", "日间照料中心", "C2社区", 建筑面积=900),
                _fac("丙日照", "日间照料中心", "C3社区", 建筑面积=500),
                _fac("丁日照", "日间照料中心", "C4社区", 建筑面积=600),
                _fac("甲食堂", "老年食堂", "C1社区"), _fac("一村食堂", "老年食堂", "V1村")]
    day = {n: (10.0 if n in COMMUNITIES[:4] else 20.0) for n in COMMUNITIES + VILLAGES}
    meal = dict.fromkeys(COMMUNITIES + VILLAGES, 25.0)
    read, cov, ind, _ = _evaluate(tmp_path, "chengdu", register,
                                  {"day_care": day, "meal_point": meal})
    assert ind.loc["cd.daycare_coverage", "value"] == pytest.approx(0.5)
    assert ind.loc["cd.daycare_coverage", "unit_of_measure"] == "share of communities"
    assert ind.loc["cd.daycare_area", "value"] == pytest.approx(0.25)
    settle = dict(zip(read.units["name"], read.units["settlement"]))
    assert {settle[n] for n in COMMUNITIES} == {"suburban"}
    assert {settle[n] for n in VILLAGES} == {"rural"}
    meal_rows = cov.loc[cov["facility_type"] == "meal_point"].set_index("unit_name")
    assert (meal_rows.loc[VILLAGES, "threshold_min"] == 30).all()
    assert (meal_rows.loc[COMMUNITIES, "threshold_min"] == 30).all()
    assert (meal_rows.loc[VILLAGES, "settlement"] == "rural").all()
    assert ind.loc["cd.circle_15min_units", "value"] == pytest.approx(4 / 12)
    assert ind.loc["cd.circle_15min_older", "value"] == pytest.approx(400 / 1200)
    assert ind.loc["cd.meal_radius", "value"] == pytest.approx(1.0)


def test_unknown_zone_falls_back_to_the_level(tmp_path: Path) -> None:
    """Nan'an does not know 郊区新城: the units are kept, the level decides, a problem names it."""
    prof = read_profile("nanan")
    read = read_units(_units_csv(tmp_path), zone_settlement=prof.zone_settlement,
                      profile_name="nanan")
    assert len(read.units) == 12
    assert read.units.set_index("name").loc["C1社区", "settlement"] == "urban"
    assert read.units.set_index("name").loc["V1村", "settlement"] == "rural"
    assert read.problems["problem"].str.contains("'郊区新城' unknown to profile nanan").sum() == 12


def test_mianyang_streets_villages_and_public_beds(tmp_path: Path) -> None:
    """Mianyang.

    - Street 新城街道 holds complex 甲综合体 of 600 m2 >= 500: my.complex_500m2 = 1 street of 1
      = 100 %; 新城镇 is a town, not a street.
    - 每个行政村 1 个互助养老服务站: stations in V1 and V2 of 4 villages = 50 %.
    - ★ 政府运营护理型床位占比: public homes A (100 beds, 70 nursing) and B (50 beds, nursing
      blank); private C (100 beds, 20 nursing) is not counted. Known: 70/100 = 70 %; bounds
      70/150 = 46.7 % (B none) to 120/150 = 80 % (B all): partial, target 60 % inside: met unknown.
    - 护理型床位占比 (all): 90/200 known = 45 %, bounds 90/250 = 36 % to 140/250 = 56 %; the 2025
      target 55 % lies inside: unknown; the 2022 target is history.
    """
    register = [_fac("甲综合体", "社区养老服务综合体", "C1社区", 建筑面积=600),
                _fac("一村站", "互助养老点", "V1村"), _fac("二村站", "互助养老点", "V2村"),
                _fac("A院", "养老院", "C2社区", 床位=100, 护理型床位=70, 运营方式="公办"),
                _fac("B院", "养老院", "C3社区", 床位=50, 运营方式="公办"),
                _fac("C院", "养老院", "C4社区", 床位=100, 护理型床位=20, 运营方式="民办")]
    _, _, ind, _ = _evaluate(tmp_path, "mianyang", register, {"day_care": {}, "meal_point": {}})
    assert ind.loc["my.complex_500m2", "value"] == pytest.approx(1.0)
    assert ind.loc["my.village_mutual_aid", "value"] == pytest.approx(0.5)
    pub = ind.loc["my.public_nursing_bed_share_2025"]
    assert pub["value"] == "partial: 1 of 2 facilities report it; between 46.7% and 80.0%"
    assert pub["met"] is None and pub["binding"] == "binding"
    assert ind.loc["my.nursing_bed_share_2022", "status"] == "history"
    assert ind.loc["my.nursing_bed_share_2025", "value"].endswith("between 36.0% and 56.0%")


def test_nanan_centres_stations_and_operation(tmp_path: Path) -> None:
    """Nan'an.

    - 一镇街一中心: 新城街道 has centre 甲中心, 新城镇 none: 1 of 2 = 50 % (target 100 %, not met).
    - 一居（村）一站: stations in C1, C2, V1 of 12 units = 25 %.
    - 社区养老服务设施社会化运营率 (binding 85 %): the centre is 公办, stations 公建民营, 民办 and
      公办: 2 of 4 socially run = 50 %, not met.
    - 政府运营的养老床位占比 (binding, at most 40 %): public home 40 beds, private 60: 40 %, met.
    - 镇敬老院社会化运营率 (>= 70 %): of the homes typed 敬老院 (公院, 公办) none is socially run: 0 %.
    - 护理型床位 4000张: the register has no 护理型床位 column: not evaluable, naming it.
    - No day-care rule: the register has no day-care centre and nothing asks for one.
    """
    register = [_fac("甲中心", "镇街养老服务中心", "C1社区", 运营方式="公办"),
                _fac("一站", "社区养老服务站", "C1社区", 运营方式="公建民营"),
                _fac("二站", "社区养老服务站", "C2社区", 运营方式="民办"),
                _fac("三站", "农村互助养老点", "V1村", 运营方式="公办"),
                _fac("公院", "敬老院", "C3社区", 床位=40, 运营方式="公办"),
                _fac("民院", "养老院", "C4社区", 床位=60, 运营方式="民办")]
    _, _, ind, result = _evaluate(tmp_path, "nanan", register, {})
    assert ind.loc["na.centre_per_township", "value"] == pytest.approx(0.5)
    assert ind.loc["na.centre_per_township", "met"] is False
    assert ind.loc["na.station_per_community", "value"] == pytest.approx(3 / 12)
    assert ind.loc["na.social_operation_rate", "value"] == pytest.approx(0.5)
    assert ind.loc["na.public_bed_share", "value"] == pytest.approx(0.4)
    assert ind.loc["na.public_bed_share", "met"] is True
    assert ind.loc["na.town_home_social_operation", "value"] == pytest.approx(0.0)
    assert "护理型床位" in ind.loc["na.nursing_beds_2025", "value"]
    assert not any("day_care" in w for w in result.warnings)


def test_qingshen_every_village_and_named_centres(tmp_path: Path) -> None:
    """Qingshen.

    - 58个村（社区）均建有1个养老服务设施: facilities in C1, C2, V1 (a day-care centre in C3 is
      not a type 004 names): 3 of 12 = 25 %.
    - 区域性养老服务中心 2: one register row typed 区域性养老服务中心 = 1, not met.
    - 助老餐厅 >= 10: 1 canteen, not met.
    """
    register = [_fac("汉阳区域性养老服务中心", "区域性养老服务中心", "C1社区"),
                _fac("一餐厅", "助老餐厅", "C2社区"), _fac("一村点", "互助养老点", "V1村"),
                _fac("日照", "日间照料中心", "C3社区")]
    _, _, ind, _ = _evaluate(tmp_path, "qingshen", register, {"meal_point": {}})
    assert ind.loc["qs.facility_per_village", "value"] == pytest.approx(3 / 12)
    assert ind.loc["qs.regional_centres", "value"] == 1 and ind.loc["qs.regional_centres", "met"] is False
    assert ind.loc["qs.canteens", "value"] == 1 and ind.loc["qs.canteens", "met"] is False


def test_national_life_circle(tmp_path: Path) -> None:
    """National (GB 50180-2018 walking reach): a day-care centre within 15 min of C1-C6 (100
    older adults each), 20 min elsewhere; suburban 15 min, villages rural 30 min so V1-V4 at 20
    min are inside: (6 + 4) * 100 / 1200 = 83.3 % of older adults; no share target (met None)."""
    register = [_fac("甲日照", "日间照料中心", "C1社区")]
    day = {n: (10.0 if n in COMMUNITIES[:6] else 20.0) for n in COMMUNITIES + VILLAGES}
    _, _, ind, _ = _evaluate(tmp_path, "national", register, {"day_care": day})
    assert ind.loc["nat.life_circle_15min_older", "value"] == pytest.approx(1000 / 1200)
    assert ind.loc["nat.life_circle_15min_older", "met"] is None


def test_no_register_is_not_zero(tmp_path: Path) -> None:
    """Without any day-care centre in the inputs (an OSM-only run) the day-care rules say so."""
    register = [_fac("甲食堂", "老年食堂", "C1社区")]
    _, _, ind, result = _evaluate(tmp_path, "chengdu", register, {"meal_point": {}})
    for rid in ("cd.daycare_coverage", "cd.daycare_area", "cd.circle_15min_units"):
        assert ind.loc[rid, "value"] == ("not evaluable: no day_care in the inputs "
                                         "(give a facility register)")
        assert ind.loc[rid, "met"] is None
    assert len(result.warnings) == 1 and "no community_complex, day_care" in result.warnings[0]


def test_three_level_count_table(tmp_path: Path) -> None:
    """区县 – 镇街 – 村居 counts with zeros: 4 day-care centres in C1-C4 (新城街道), a meal point
    in C1 and V1 (新城镇): district 4/2, street 4/1, town 0/1, C1 1/1, C5 0/0, V1 0/1."""
    prof = read_profile("chengdu")
    read = read_units(_units_csv(tmp_path), zone_settlement=prof.zone_settlement)
    fac = _register(tmp_path, [_fac(f"{c}日照", "日间照料中心", c) for c in COMMUNITIES[:4]]
                    + [_fac("甲食堂", "老年食堂", "C1社区"), _fac("村食堂", "老年食堂", "V1村")])
    table = provision_levels(read.units, fac, read.hierarchy, ("day_care", "meal_point"))
    got = table.set_index("name")[["level", "n_day_care", "n_meal_point"]]
    assert got.loc["新城区"].tolist() == ["district", 4, 2]
    assert got.loc["新城街道"].tolist() == ["street", 4, 1]
    assert got.loc["新城镇"].tolist() == ["town", 0, 1]
    assert got.loc["C1社区"].tolist() == ["community", 1, 1]
    assert got.loc["C5社区"].tolist() == ["community", 0, 0]
    assert got.loc["V1村"].tolist() == ["village", 0, 1]
    assert len(table) == 1 + 2 + 12 and table["level"].iloc[0] == "district"


def test_new_residential_areas(tmp_path: Path) -> None:
    """Chengdu 新建城区、居住（小）区配套达标率 on five residential polygons (new = 新建 flag, else
    built 2021 or later): A around C1 (2022, holds 甲日照) passes; B around C2 (新建=是, holds
    乙日照) passes; E around C5 (2023, empty) fails; C around C3 (2010) is old, not counted; D
    around C4 (no year, no flag) is unknown. Known 2 of 3 = 66.7 %; bounds 2/4 = 50 % to 3/4 = 75 %.
    """
    from shapely.geometry import box

    from planner.io.residential import read_residential_areas

    def around(i: int) -> object:
        return box(104.0 + 0.01 * i - 0.004, 30.596, 104.0 + 0.01 * i + 0.004, 30.604)

    areas = gpd.GeoDataFrame({"小区名称": ["A", "B", "C", "D", "E"],
                              "建成年份": [2022, None, 2010, None, 2023],
                              "是否新建": [None, "是", None, None, None],
                              "户数": [400, 300, 500, 200, 100]},
                             geometry=[around(i) for i in (0, 1, 2, 3, 4)], crs="EPSG:4326")
    path = tmp_path / "areas.gpkg"
    areas.to_file(path)
    res = read_residential_areas(path)
    assert res["population"].tolist() == pytest.approx([1048.0, 786.0, 1310.0, 524.0, 262.0])
    prof = read_profile("chengdu")
    read = read_units(_units_csv(tmp_path), zone_settlement=prof.zone_settlement)
    fac = _register(tmp_path, [_fac("甲日照", "日间照料中心", "C1社区"),
                               _fac("乙日照", "日间照料中心", "C2社区")])
    result = evaluate_compliance(prof, units=read.units, facilities=fac, coverage=None,
                                 hierarchy=read.hierarchy, lang="en", residential=res)
    ind = result.indicators.set_index("id").loc["cd.new_area_provision"]
    assert ind["value"] == "partial: 3 of 4 residential areas report it; between 50.0% and 75.0%"
    rows = result.per_unit.loc[result.per_unit["rule_id"] == "cd.new_area_provision"]
    assert rows.set_index("unit_name")["passed"].to_dict() == {"A": True, "B": True, "D": None,
                                                               "E": False}
    none = evaluate_compliance(prof, units=read.units, facilities=fac, coverage=None,
                               hierarchy=read.hierarchy, lang="en")
    assert "residential areas" in none.indicators.set_index("id").loc[
        "cd.new_area_provision", "value"]


def test_bed_sum_with_partial_figures(tmp_path: Path) -> None:
    """Nan'an 护理型床位 4000: homes report 1500 and 2000 nursing beds, a third reports none:
    at least 3500 (lower bound), the upper end open; met unknown."""
    register = [_fac("甲院", "养老院", "C1社区", 床位=2000, 护理型床位=1500),
                _fac("乙院", "养老院", "C2社区", 床位=2500, 护理型床位=2000),
                _fac("丙院", "养老院", "C3社区", 床位=300)]
    _, _, ind, _ = _evaluate(tmp_path, "nanan", register, {})
    assert ind.loc["na.nursing_beds_2025", "value"] == (
        "partial: 2 of 3 facilities report it; between 3500 and ∞")
    assert ind.loc["na.nursing_beds_2025", "met"] is None


def test_a_centre_formally_serving_other_communities(tmp_path: Path) -> None:
    """The C1 centre's register row names C5 and C6 in 服务社区: the coverage rate counts a
    community that has a centre or is formally served by one: C1, C2, C5, C6 = 4 / 8 = 50 %
    (without the column: C1, C2 = 25 %)."""
    register = [_fac("甲日照", "日间照料中心", "C1社区", 服务社区="C5社区、C6社区"),
                _fac("乙日照", "日间照料中心", "C2社区", 服务社区="")]
    _, _, ind, _ = _evaluate(tmp_path, "chengdu", register, {"day_care": {}})
    assert ind.loc["cd.daycare_coverage", "value"] == pytest.approx(0.5)
    plain = [{k: v for k, v in r.items() if k != "服务社区"} for r in register]
    _, _, ind, _ = _evaluate(tmp_path, "chengdu", plain, {"day_care": {}})
    assert ind.loc["cd.daycare_coverage", "value"] == pytest.approx(0.25)
