"""Coverage and gaps: direct pandas recomputation, hand-worked units, and pipeline invariants."""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.errors import DataQualityWarning
from planner.params import CoverageParams, PlanParams
from planner.pipeline import PlanResult, run_plan
from planner.schema import PlanInputs
from tests.conftest import grid_raw, lonlat_points, square_lonlat

SPACING_M = 100.0


def small_inputs(fac_xy: list[tuple[float, float, str]], pops: tuple[float, ...] = (900, 400, 700, 1200),
                 settlements: tuple[str, ...] = ("urban", "urban", "rural", "urban")) -> PlanInputs:
    """A 13 x 13 grid (1.2 km square) with four 600 m square units and the given facilities."""
    raw = grid_raw(13, 13, SPACING_M)
    pts = lonlat_points(np.array([p[0] for p in fac_xy]), np.array([p[1] for p in fac_xy]))
    facilities = gpd.GeoDataFrame({"facility_id": [f"f{i}" for i in range(len(fac_xy))],
                                   "name": [f"设施{i}" for i in range(len(fac_xy))],
                                   "type": [p[2] for p in fac_xy], "capacity": np.nan},
                                  geometry=pts.to_numpy(), crs="EPSG:4326")
    boxes = [(0, 0, 600, 600), (600, 0, 1200, 600), (0, 600, 600, 1200), (600, 600, 1200, 1200)]
    units = gpd.GeoDataFrame({"unit_id": ["u1", "u2", "u3", "u4"], "name": ["甲社区", "乙社区", "丙村", "丁社区"],
                              "older_pop": list(pops), "settlement": list(settlements)},
                             geometry=[square_lonlat(*b) for b in boxes], crs="EPSG:4326")
    return PlanInputs(raw, facilities, units, None, None, "test grid")


def plan(inputs: PlanInputs, **coverage: object) -> PlanResult:
    params = PlanParams(coverage=CoverageParams(**coverage)) if coverage else PlanParams()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        return run_plan(inputs, params, max_catchment_facilities=50)


@pytest.fixture(scope="module")
def base_result() -> PlanResult:
    return plan(small_inputs([(150, 150, "day_care"), (1050, 1050, "meal_point"),
                              (300, 900, "health"), (500, 500, "day_care")]))


def test_coverage_equals_direct_recomputation(base_result: PlanResult) -> None:
    r = base_result
    d = pd.DataFrame(r.demand.drop(columns="geometry")).merge(r.demand_times, on="demand_id")
    d = d.merge(r.units[["unit_id", "settlement"]], on="unit_id")
    for (uid, ftype), g in d.groupby(["unit_id", "facility_type"]):
        thr_s = r.params.coverage.threshold_min(ftype, g["settlement"].iat[0]) * 60
        covered = g.loc[g["time_s"] <= thr_s, "older_pop"].sum()
        row = r.coverage[(r.coverage.unit_id == uid) & (r.coverage.facility_type == ftype)].iloc[0]
        assert row["covered_pop"] == pytest.approx(covered, abs=1e-6)
        assert row["covered_share"] == pytest.approx(covered / g["older_pop"].sum(), abs=1e-9)


def test_population_conserved_and_shares_bounded(base_result: PlanResult) -> None:
    c = base_result.coverage
    uncovered = c[["uncovered_out_of_reach_pop", "uncovered_disconnected_pop",
                   "uncovered_not_snapped_pop"]].sum(axis=1)
    assert np.allclose(c["covered_pop"] + uncovered, c["older_pop"], atol=1e-6)
    assert c["covered_share"].between(0, 1).all()
    assert base_result.demand["older_pop"].sum() == pytest.approx(3200.0)


def test_rural_unit_uses_30_minutes(base_result: PlanResult) -> None:
    c = base_result.coverage.set_index(["unit_id", "facility_type"])
    assert c.loc[("u3", "day_care"), "threshold_min"] == 30.0
    assert c.loc[("u1", "day_care"), "threshold_min"] == 15.0
    assert c.loc[("u1", "service_station"), "threshold_min"] == 5.0


def test_gaps_ranked_with_reasons(base_result: PlanResult) -> None:
    g = base_result.gaps
    assert (g["uncovered_pop"].diff().dropna() <= 1e-9).all()
    assert list(g["rank"]) == list(range(1, len(g) + 1))
    assert set(g["facility_type"]) <= {"day_care", "meal_point"}
    assert set(g["reason"]) <= {"out_of_reach", "disconnected", "not_snapped", "no_facility_of_type"}
    # 丁社区 (u4) holds the meal point: it cannot be a meal-point gap
    assert not ((g.unit_id == "u4") & (g.facility_type == "meal_point")).any()


def test_missing_type_is_reported_as_such() -> None:
    r = plan(small_inputs([(150, 150, "day_care")]))
    meal = r.gaps[r.gaps.facility_type == "meal_point"]
    assert len(meal) == 4 and (meal["reason"] == "no_facility_of_type").all()


def test_far_facility_warned_and_counted() -> None:
    with pytest.warns(UserWarning, match="more than 300 m"):
        r = run_plan(small_inputs([(150, 150, "day_care"), (2000, 2000, "meal_point")]), PlanParams())
    assert r.warnings.count("facilities_not_snapped") == 1
    assert r.facilities.set_index("facility_id").loc["f1", "snap_status"] == "not_snapped"


def test_catchments_nested_and_contain_facility(base_result: PlanResult) -> None:
    cat = base_result.catchments
    for fid, g in cat.groupby("facility_id"):
        polys = g.sort_values("threshold_min").geometry.to_list()
        lengths = g.sort_values("threshold_min")["reached_length_m"].to_list()
        assert lengths == sorted(lengths)
        for small, big in zip(polys[:-1], polys[1:], strict=True):
            assert small.difference(big).area < 0.01 * small.area + 200
        fac = base_result.facilities.set_index("facility_id").loc[fid]
        net = base_result.network
        e, f = int(fac["snap_edge"]), base_result.facility_snap.frac[
            base_result.facilities.index[base_result.facilities.facility_id == fid][0]]
        x = net.x_m[net.edge_u[e]] + f * (net.x_m[net.edge_v[e]] - net.x_m[net.edge_u[e]])
        y = net.y_m[net.edge_u[e]] + f * (net.y_m[net.edge_v[e]] - net.y_m[net.edge_u[e]])
        assert polys[0].contains(shapely.Point(x, y))  # its point on the street is inside


fac_strategy = st.lists(
    st.tuples(st.floats(0, 1200), st.floats(0, 1200), st.sampled_from(["day_care", "meal_point"])),
    min_size=1, max_size=5)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(facs=fac_strategy, extra=st.tuples(st.floats(0, 1200), st.floats(0, 1200)))
def test_properties_monotone(facs: list[tuple[float, float, str]], extra: tuple[float, float]) -> None:
    """15 min inside 30 min; adding a facility never lowers coverage; row order is irrelevant."""
    before = plan(small_inputs(facs))
    thr = before.threshold_coverage.set_index(["unit_id", "facility_type", "threshold_min"])
    for (uid, ftype), _ in before.coverage.groupby(["unit_id", "facility_type"]):
        assert thr.loc[(uid, ftype, 15.0), "covered_pop"] <= thr.loc[(uid, ftype, 30.0), "covered_pop"] + 1e-9
        assert thr.loc[(uid, ftype, 5.0), "covered_pop"] <= thr.loc[(uid, ftype, 15.0), "covered_pop"] + 1e-9
    after = plan(small_inputs([*facs, (extra[0], extra[1], "day_care")]))
    key = ["unit_id", "facility_type"]
    merged = before.coverage.merge(after.coverage, on=key, suffixes=("_b", "_a"))
    assert (merged["covered_pop_a"] >= merged["covered_pop_b"] - 1e-9).all()
    shuffled = plan(small_inputs(list(reversed(facs))))
    m2 = before.coverage.merge(shuffled.coverage, on=key, suffixes=("_b", "_s"))
    assert np.allclose(m2["covered_pop_b"], m2["covered_pop_s"], atol=1e-9)


def test_dissolved_in_two_processes_equals_one(base_result: PlanResult) -> None:
    from planner.catchments.polygons import CatchmentParams
    from planner.pipeline import _dissolved

    r = base_result
    one = _dissolved(r.network, r.facilities, r.facility_snap, r.nearest, r.params,
                     CatchmentParams(workers=1))
    two = _dissolved(r.network, r.facilities, r.facility_snap, r.nearest, r.params,
                     CatchmentParams(workers=2))
    assert list(one["type"]) == list(two["type"]) and len(one) == 9  # 3 types x 3 thresholds
    assert all(a.equals(b) for a, b in zip(one.geometry, two.geometry, strict=True))
