"""Roll-up of per-unit tables: community -> street/town -> district -> city."""

from __future__ import annotations

import pandas as pd
import pytest

from planner.coverage.hierarchy import build_hierarchy, find_ancestors, roll_up
from planner.errors import InputDataError

HIER = pd.DataFrame({
    "unit_id": ["D1", "S1", "T1", "C1", "C2", "V1"],
    "name": ["某区", "一街道", "二镇", "甲社区", "乙社区", "丙村"],
    "level": ["district", "street", "town", "community", "community", "village"],
    "parent_id": ["", "D1", "D1", "S1", "S1", "T1"],
})
COV = pd.DataFrame({
    "unit_id": ["C1", "C2", "V1", "C1", "C2", "V1"],
    "facility_type": ["day_care"] * 3 + ["meal_point"] * 3,
    "older_pop": [1000.0, 2000.0, 500.0] * 2,
    "covered_pop": [900.0, 1000.0, 0.0, 950.0, 1700.0, 100.0],
    "median_time_min": [5.0] * 6,
})


def test_roll_up_sums_and_recomputes_shares() -> None:
    out = roll_up(COV, HIER).set_index(["unit_id", "facility_type"])
    # street S1 = C1 + C2: 1900 / 3000
    assert out.loc[("S1", "day_care"), "covered_pop"] == 1900
    assert out.loc[("S1", "day_care"), "covered_share"] == pytest.approx(1900 / 3000)
    assert out.loc[("T1", "meal_point"), "covered_share"] == pytest.approx(0.2)
    # district and the synthetic city total: (900+1000+0) / 3500
    assert out.loc[("D1", "day_care"), "covered_share"] == pytest.approx(1900 / 3500)
    assert out.loc[("all", "day_care"), "older_pop"] == 3500
    assert out.loc[("all", "meal_point"), "n_units"] == 3
    assert out.loc[("all", "day_care"), "level"] == "city"
    assert "median_time_min" not in out.columns  # medians cannot be summed
    levels = roll_up(COV, HIER)["level"].tolist()
    assert levels.index("city") < levels.index("district") < levels.index("street")


def test_single_city_root_is_kept() -> None:
    hier = pd.concat([HIER.assign(parent_id=HIER["parent_id"].replace("", "X")),
                      pd.DataFrame([{"unit_id": "X", "name": "某市", "level": "city", "parent_id": ""}])])
    out = roll_up(COV, hier)
    assert "all" not in set(out["unit_id"])
    assert out.loc[out["unit_id"] == "X", "older_pop"].iloc[0] == 3500


def test_zero_population_share_is_nan() -> None:
    cov = COV.assign(older_pop=0.0, covered_pop=0.0)
    assert roll_up(cov, HIER)["covered_share"].isna().all()


def test_units_missing_from_hierarchy_still_reach_the_total() -> None:
    cov = pd.concat([COV, pd.DataFrame([{"unit_id": "Z9", "facility_type": "day_care",
                                         "older_pop": 100.0, "covered_pop": 100.0}])])
    out = roll_up(cov, HIER).set_index(["unit_id", "facility_type"])
    assert out.loc[("all", "day_care"), "older_pop"] == 3600


def test_build_hierarchy_from_units_and_cycle_error() -> None:
    units = pd.DataFrame({"unit_id": ["a", "b"], "name": ["A", "B"], "level": ["community", "village"],
                          "parent_id": ["s", "t"], "parent_name": ["一街道", "二镇"]})
    hier = build_hierarchy(units).set_index("unit_id")
    assert hier.at["s", "level"] == "street" and hier.at["t", "level"] == "town"
    pairs = find_ancestors(HIER)
    assert set(pairs.loc[pairs["unit_id"] == "V1", "ancestor_id"]) == {"V1", "T1", "D1"}
    cyc = pd.DataFrame({"unit_id": ["a", "b"], "name": ["a", "b"], "level": ["street"] * 2,
                        "parent_id": ["b", "a"]})
    with pytest.raises(InputDataError, match="cycle"):
        find_ancestors(cyc)
