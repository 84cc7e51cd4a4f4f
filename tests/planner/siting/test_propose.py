"""propose_sites on a small grid: exact equals exhaustive search, monotone in k, capacity kept."""

from __future__ import annotations

from itertools import combinations

import geopandas as gpd
import numpy as np
import pytest

from planner.pipeline import PlanResult
from planner.siting.propose import build_siting_problem, propose_sites
from tests.conftest import lonlat_points
from tests.planner.test_coverage_pipeline import plan, small_inputs

CAND_XY = [(100, 1100), (1100, 100), (900, 900), (300, 300), (600, 1000), (1000, 600),
           (200, 700), (700, 200)]


@pytest.fixture(scope="module")
def base() -> PlanResult:
    return plan(small_inputs([(150, 150, "day_care"), (1050, 1050, "meal_point")]))


def _cands(capacity: float = np.nan) -> gpd.GeoDataFrame:
    pts = lonlat_points(np.array([p[0] for p in CAND_XY], float), np.array([p[1] for p in CAND_XY], float))
    return gpd.GeoDataFrame({"candidate_id": [f"k{i}" for i in range(len(CAND_XY))],
                             "capacity": capacity}, geometry=pts.to_numpy(), crs="EPSG:4326")


def test_exact_equals_exhaustive_and_monotone(base: PlanResult) -> None:
    problem = build_siting_problem(base, "day_care", _cands().to_crs(base.network.crs).assign(
        unit_id=None, cost=1.0))
    prev = -1.0
    for k in range(0, 4):
        got = propose_sites(base, facility_type="day_care", k=k, candidates=_cands(), method="exact")
        best = max(problem.covered_pop(list(c)) for c in combinations(range(len(CAND_XY)), k))
        assert got.siting.objective == pytest.approx(best, abs=1e-6)
        greedy = propose_sites(base, facility_type="day_care", k=k, candidates=_cands(),
                               method="greedy")
        assert greedy.siting.objective <= got.siting.objective + 1e-6
        assert got.siting.objective >= prev - 1e-6
        prev = got.siting.objective
        assert list(got.sites["rank"]) == list(range(1, len(got.sites) + 1))


def test_capacity_never_exceeded(base: PlanResult) -> None:
    got = propose_sites(base, facility_type="day_care", k=3, candidates=_cands(200.0),
                        method="exact")
    load = got.siting.candidate_load_pop
    assert load is not None and (load <= 200.0 + 1e-6).all()
    assert got.covered_gain_pop <= 3 * 200.0 + 1e-6


def test_cover_reaches_target_and_tables(base: PlanResult) -> None:
    got = propose_sites(base, facility_type="day_care", cover=True, candidates=_cands())
    pu = got.per_unit
    assert (pu["after_pop"] >= pu["before_pop"] - 1e-9).all()
    assert got.model == "unit_target"
    assert got.covered_gain_pop == pytest.approx((pu["after_pop"] - pu["before_pop"]).sum())


def test_existing_facility_is_never_moved(base: PlanResult) -> None:
    """A candidate on top of the existing day-care centre adds nothing; no unit loses coverage."""
    before = base.facilities.copy()
    cands = _cands()
    on_existing = base.facilities[base.facilities["type"] == "day_care"].to_crs("EPSG:4326")
    cands.loc[len(cands)] = ["at_existing", np.nan, on_existing.geometry.iloc[0]]
    got = propose_sites(base, facility_type="day_care", k=3, candidates=cands, method="exact")
    assert "at_existing" not in set(got.sites["candidate_id"])
    assert (got.per_unit["after_pop"] >= got.per_unit["before_pop"] - 1e-9).all()
    # the plan's facilities are untouched: same ids, same places
    assert base.facilities["facility_id"].tolist() == before["facility_id"].tolist()
    assert base.facilities.geometry.equals(before.geometry)
