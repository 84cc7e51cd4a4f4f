"""What-if scenarios equal a full recomputation (run_plan with the changed facility list)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from planner.errors import InputDataError
from planner.pipeline import PlanResult
from planner.routing import local_search
from planner.whatif import (
    FacilityChange,
    Scenario,
    WhatIfResult,
    apply_scenario,
    compare_scenarios,
    state_from_result,
)
from tests.conftest import lonlat_points
from tests.planner.test_coverage_pipeline import plan, small_inputs

BASE = [(150, 150, "day_care"), (1050, 1050, "meal_point"), (300, 900, "health"),
        (500, 500, "day_care"), (950, 250, "meal_point"), (820, 610, "day_care")]


def _lonlat(x_m: float, y_m: float) -> tuple[float, float]:
    p = lonlat_points(np.array([x_m]), np.array([y_m])).iloc[0]
    return float(p.x), float(p.y)


@pytest.fixture(scope="module")
def base() -> PlanResult:
    return plan(small_inputs(BASE))


def _full(fac_xy: list[tuple[float, float, str]]) -> PlanResult:
    return plan(small_inputs(fac_xy))


def _assert_equal(got: WhatIfResult, want: PlanResult) -> None:
    key = ["demand_id", "facility_type"]
    a = got.state.demand_times.sort_values(key).reset_index(drop=True)
    b = want.demand_times.sort_values(key).reset_index(drop=True)
    assert np.allclose(a["time_s"], b["time_s"], rtol=1e-9, atol=1e-6, equal_nan=True)
    cols = ["unit_id", "facility_type", "covered_pop", "covered_share", "median_time_min"]
    ca = got.state.coverage[cols].sort_values(cols[:2]).reset_index(drop=True)
    cb = want.coverage[cols].sort_values(cols[:2]).reset_index(drop=True)
    pd.testing.assert_frame_equal(ca, cb, check_exact=False, atol=1e-6)
    for ftype, near in want.nearest.items():
        assert np.allclose(got.state.nearest[ftype].node_time_s, near.node_time_s, atol=1e-6)


def test_add_equals_full(base: PlanResult) -> None:
    lon, lat = _lonlat(1030, 420)
    sc = Scenario("add", add=(FacilityChange("new1", lon, lat, "day_care"),))
    got = apply_scenario(state_from_result(base), sc)
    _assert_equal(got, _full([*BASE, (1030, 420, "day_care")]))
    assert got.change["delta_pop"].min() >= -1e-9
    assert set(got.change["facility_type"]) == {"day_care"}


def test_remove_equals_full(base: PlanResult) -> None:
    got = apply_scenario(state_from_result(base), Scenario("rm", remove=("f3",)))
    _assert_equal(got, _full([p for i, p in enumerate(BASE) if i != 3]))
    assert got.change["delta_pop"].max() <= 1e-9


def test_remove_last_of_type(base: PlanResult) -> None:
    got = apply_scenario(state_from_result(base), Scenario("rm", remove=("f2",)))
    _assert_equal(got, _full([p for i, p in enumerate(BASE) if i != 2]))


@pytest.mark.parametrize("cap", [None, 1])
def test_move_and_combined_equal_full(base: PlanResult, cap: int | None,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A move, a removal and an add at once; with the local searches capped at one node
    (``cap`` 1) every search takes the compiled fallback (scipy, sources as facility keys)."""
    if cap is not None:
        monkeypatch.setattr(local_search, "MAX_LOCAL_NODES", cap)
    lon, lat = _lonlat(610, 1020)
    lon2, lat2 = _lonlat(210, 1130)
    sc = Scenario("mv", move=(FacilityChange("f0", lon, lat),), remove=("f4",),
                  add=(FacilityChange("n2", lon2, lat2, "meal_point"),))
    got = apply_scenario(state_from_result(base), sc)
    want = [(610, 1020, "day_care"), *[p for i, p in enumerate(BASE) if i not in (0, 4)],
            (210, 1130, "meal_point")]
    _assert_equal(got, _full(want))


def test_unknown_id_and_compare(base: PlanResult) -> None:
    state = state_from_result(base)
    with pytest.raises(InputDataError, match="f99"):
        apply_scenario(state, Scenario("bad", remove=("f99",)))
    a = apply_scenario(state, Scenario("A", remove=("f3",)))
    table = compare_scenarios([a], state)
    assert {"baseline", "A"} <= set(table.columns)


def test_state_round_trip(base: PlanResult) -> None:
    """The state's per-point times and nearest facility ids (kept as facility keys) are the
    analysis's own."""
    got = state_from_result(base).demand_times
    want = base.demand_times
    assert got["facility_id"].astype(object).where(got["facility_id"].notna(), None).tolist() \
        == want["facility_id"].astype(object).where(want["facility_id"].notna(), None).tolist()
    np.testing.assert_array_equal(got["time_s"], want["time_s"])
