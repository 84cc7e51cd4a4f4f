"""indicators.csv in both column layouts reads the same; print formats."""

from __future__ import annotations

import math

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from planner.report.indicators import fmt_int, fmt_pct, normalize_indicators
from planner.report.summary import indicator_paper

OLD = pd.DataFrame({
    "rule_id": ["nat.nearby_80pct", "nat.beds_per_1000", "nat.circle"],
    "indicator": ["80%的老年人就近得到服务", "每千名老年人养老床位数", "15分钟养老服务圈"],
    "indicator_en": ["80% served nearby", "Beds per 1,000", "15-minute circle"],
    "baseline": [None, None, None], "target": [0.8, None, None],
    "target_year": [2025, 2025, 2025], "binding": ["—", "—", "—"],
    "computed": [0.7619, None, 0.1842], "met": [False, None, None],
    "source": ["001", "000", "002"], "note": ["", "无法评估：需要登记表“床位”列", ""]})
NEW = pd.DataFrame({
    "id": ["nat.nearby_80pct", "nat.beds_per_1000", "nat.circle"],
    "label_zh": OLD["indicator"], "label_en": OLD["indicator_en"],
    "definition": ["", "", ""], "unit_of_measure": ["share", "beds per 1,000", "share"],
    "baseline": ["", "", ""], "target": [0.8, "≥ 55", None], "target_year": ["2025"] * 3,
    "binding": ["约束性", "expected", ""],
    "value": ["0.7619", "not evaluable: needs beds", "partial 0.1842"],
    "met": ["False", "", ""]})


def test_both_layouts_read_the_same() -> None:
    old, new = normalize_indicators(OLD, "zh"), normalize_indicators(NEW, "zh")
    assert old["indicator"].tolist() == new["indicator"].tolist() == OLD["indicator"].tolist()
    assert old["computed"].iat[0] == new["computed"].iat[0] == 0.7619
    assert old["met"].tolist() == new["met"].tolist() == [False, None, None]
    assert new["value_text"].tolist() == ["", "not evaluable: needs beds", "partial 0.1842"]
    assert new["binding"].tolist() == ["binding", "expected", ""]
    assert normalize_indicators(NEW, "en")["indicator"].iat[1] == "Beds per 1,000"


def test_printed_indicator_table() -> None:
    paper = indicator_paper(normalize_indicators(NEW, "zh"), "zh")
    assert paper.columns.tolist() == ["indicator", "baseline", "target", "target_year",
                                      "binding", "computed", "met"]
    assert paper.iloc[0].tolist() == ["80%的老年人就近得到服务", "", "80.0%", "2025", "约束性",
                                      "76.2%", "未达标"]
    assert paper["computed"].iat[1] == "not evaluable: needs beds"
    assert paper["binding"].iat[1] == "预期性" and paper["met"].iat[1] == "—"
    assert paper["target"].iat[1] == "≥ 55"  # a target that is not a number prints as given


@given(st.floats(min_value=0, max_value=1e9, allow_nan=False))
def test_formats_parse_back(value: float) -> None:
    assert abs(float(fmt_int(value).replace(",", "")) - value) <= 0.5 + 1e-9 * value
    pct = fmt_pct(value / 1e9)
    assert math.isclose(float(pct.rstrip("%").replace(",", "")) / 100, value / 1e9, abs_tol=5e-4)
    assert fmt_int(float("nan")) == fmt_pct(float("nan")) == ""
