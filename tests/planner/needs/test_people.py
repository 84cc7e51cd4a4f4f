"""Coverage on people: the hand-worked example of planner.needs.people, the outreach order, the
publication rule (hypothesis: no pair of nested published counts pins a difference), and the
register reader (Chinese headers, address and community-code locations, bad rows)."""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from planner.errors import DataQualityWarning, InputDataError
from planner.io.older_adults import read_older_adults
from planner.needs.aggregate import grid_counts, needs_gaps, public_coverage, unmet_flags
from planner.needs.people import needs_coverage, outreach_list, person_times
from planner.needs.publish import candidates, publish_count
from planner.params import PlanParams
from planner.pipeline import PlanResult, run_plan
from planner.schema import WGS84, PlanInputs
from tests.conftest import grid_raw, lonlat_points, square_lonlat


@pytest.fixture(scope="module")
def plan() -> PlanResult:
    """A 7 x 7 grid of 120 m streets at 0.8 m/s, one meal point at the corner (0, 0)."""
    fac = gpd.GeoDataFrame({"facility_id": ["M1", "D1"], "name": ["助餐点", "日照"],
                            "type": ["meal_point", "day_care"]},
                           geometry=lonlat_points(np.array([0.0, 720.0]), np.array([0.0, 720.0])),
                           crs=WGS84)
    units = gpd.GeoDataFrame({"unit_id": ["U1"], "name": ["一社区"], "older_pop": [100.0]},
                             geometry=[square_lonlat(-10, -10, 730, 730)], crs=WGS84)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        return run_plan(PlanInputs(grid_raw(7, 7, 120.0), fac, units), PlanParams(),
                        max_catchment_facilities=0)


def _register(path: Path) -> Path:
    # x metres along the bottom street from the meal point: 240 m = 5 min, 715.2 m = 14.9 min;
    # (480, 480) is 960 m = 20 min away
    pts = lonlat_points(np.array([240.0, 715.2, 480.0]), np.array([0.0, 0.0, 480.0]))
    pd.DataFrame({"编号": ["P1", "P2", "P3"], "姓名": ["甲", "乙", "丙"],
                  "经度": pts.x, "纬度": pts.y, "出生年份": [1950, 1940, 1930],
                  "需要助餐": ["否", "是", "是"], "独居": ["否", "否", "是"],
                  "失能等级": ["能力完好", "", "重度失能"]}).to_csv(path, index=False)
    return path


def test_hand_worked_example(plan: PlanResult, tmp_path: Path) -> None:
    read = read_older_adults(_register(tmp_path / "r.csv"), units=plan.units)
    times = person_times(plan, read.people)
    meal = times[times["facility_type"] == "meal_point"].sort_values("person")
    assert meal["time_s"].to_numpy() / 60 == pytest.approx([5.0, 14.9, 20.0])
    cov = needs_coverage(plan, read.people, times).set_index(["facility_type", "group"])
    assert tuple(cov.loc[("meal_point", "all"), ["people", "covered"]]) == (3, 2)
    assert tuple(cov.loc[("meal_point", "need_meal"), ["people", "covered"]]) == (2, 1)
    assert tuple(cov.loc[("meal_point", "disability"), ["people", "covered"]]) == (1, 0)
    out = outreach_list(plan, read.people, times)
    assert out["person_id"].tolist() == ["P3"] and out["walk_min"].iat[0] == pytest.approx(20.0)
    assert out["unmet_needs"].iat[0] == 1 and out["flags"].iat[0] == 3  # alone, disabled, 高龄
    pub = public_coverage(needs_coverage(plan, read.people, times))
    assert set(pub["people"]) == {"<5"} and pub["covered_share"].isna().all()
    assert needs_gaps(needs_coverage(plan, read.people, times))["unmet"].tolist() == ["<5"]
    grid = grid_counts(plan, read.people, unmet_flags(read.people, times))
    assert set(grid.drop(columns=["cell", "geometry"]).to_numpy().ravel()) == {"<5"}


def test_reader_locations_and_problems(plan: PlanResult, tmp_path: Path) -> None:
    places = gpd.GeoDataFrame({"name": ["幸福小区"]},
                              geometry=lonlat_points(np.array([360.0]), np.array([360.0])),
                              crs=WGS84)
    path = tmp_path / "r.csv"
    pd.DataFrame({"人员编号": ["A", "B", "C", ""], "居住地址": ["幸福小区3栋", "", "", ""],
                  "社区代码": ["", "U1", "U9", ""], "年龄": [81, 70, 65, 90],
                  "需要上门服务": ["有", "无", "1", "是"]}).to_csv(path, index=False)
    read = read_older_adults(path, units=plan.units, places=places)
    assert read.people["person_id"].tolist() == ["A", "B"]
    assert read.people["located_by"].tolist() == ["address", "unit"]
    assert read.people["oldest_old"].tolist() == [True, False]
    assert read.people["need_home_care"].tolist() == [True, False]
    assert read.problems["row"].tolist() == [4, 5]
    assert "B" not in " ".join(read.problems["problem"])  # reasons never echo personal values
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"姓名": ["甲"], "年龄": [70]}).to_csv(bad, index=False)
    with pytest.raises(InputDataError, match="no id column"):
        read_older_adults(bad, units=plan.units)


@given(st.integers(0, 400), st.integers(0, 400))
def test_no_pair_of_nested_counts_pins_a_small_difference(a: int, b: int) -> None:
    big, small = max(a, b), min(a, b)
    pa, pb = publish_count(big), publish_count(small)
    assert big in candidates(pa) and small in candidates(pb)
    diffs = {x - y for x in candidates(pa) for y in candidates(pb) if x >= y}
    assert len(diffs) > 1
    assert big - small in diffs
