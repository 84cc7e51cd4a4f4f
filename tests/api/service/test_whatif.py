"""The what-if process (planner.whatif on the latest coverage run) and scenario listing."""

from __future__ import annotations

import warnings

import geopandas as gpd
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from api.service.inputs import CoverageInputs
from api.service.processes import build_demo_inputs, build_params
from planner.pipeline import run_plan
from tests.api.conftest import KEY, assert_problem, wait_job

GAP_UNIT, GAP_TYPE = "510199002002", "day_care"  # demo unit with no day care in reach


def _plan(facilities: gpd.GeoDataFrame | None = None):  # type: ignore[no-untyped-def]
    inputs = build_demo_inputs()
    if facilities is not None:
        from dataclasses import replace
        inputs = replace(inputs, facilities=facilities)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return inputs, run_plan(inputs, build_params(CoverageInputs(project="x")))


def _gap_site() -> tuple[float, float]:
    _, plan = _plan()
    demand = plan.demand[plan.demand["unit_id"].astype(str) == GAP_UNIT]
    best = demand.sort_values("older_pop", ascending=False).to_crs(4326).geometry.iloc[0]
    return float(best.x), float(best.y)


def _execute(client: TestClient, inputs: dict) -> dict:  # type: ignore[type-arg]
    started = client.post("/processes/whatif/execution", json={"inputs": inputs}, headers=KEY)
    assert started.status_code == 202, started.text
    job = wait_job(client, started.json()["jobID"])
    assert job["status"] == "successful", job
    return client.get(f"/jobs/{job['jobID']}/results").json()["summary"]  # type: ignore[no-any-return]


def test_add_in_gap_matches_full_rerun(client: TestClient, demo_run: dict[str, str]) -> None:
    pid = demo_run["project"]
    lon, lat = _gap_site()
    add = {"facility_id": "NEW1", "name": "新日间照料中心", "type": GAP_TYPE, "lon": lon,
           "lat": lat, "capacity": 40}
    summary = _execute(client, {"project": pid, "add": [add], "name": "day care in the gap"})
    change = pd.DataFrame(summary["change"])
    assert {"unit_id", "facility_type", "covered_pop_before", "covered_pop_after",
            "delta_pop"} <= set(change.columns)
    assert (change["delta_pop"] >= -1e-6).all()
    row = change[(change["unit_id"] == GAP_UNIT) & (change["facility_type"] == GAP_TYPE)].iloc[0]
    assert row["delta_pop"] > 0
    head = summary["headline"][GAP_TYPE]
    assert head["delta_pop"] == pytest.approx(change["delta_pop"].sum())

    inputs, _ = _plan()
    fac = inputs.facilities
    extra = gpd.GeoDataFrame({"facility_id": ["NEW1"], "name": ["新日间照料中心"],
                              "type": [GAP_TYPE], "capacity": [40.0], "unit_id": [GAP_UNIT]},
                             geometry=gpd.points_from_xy([lon], [lat]), crs=4326).to_crs(fac.crs)
    full = _plan(gpd.GeoDataFrame(pd.concat([fac, extra], ignore_index=True), crs=fac.crs))[1]
    cov = full.coverage
    want = cov[(cov["unit_id"].astype(str) == GAP_UNIT) & (cov["facility_type"] == GAP_TYPE)]
    assert row["covered_pop_after"] == pytest.approx(float(want["covered_pop"].iloc[0]), abs=1e-6)
    # every unit of the type agrees with the full re-run
    merged = change.merge(cov.assign(unit_id=cov["unit_id"].astype(str)),
                          on=["unit_id", "facility_type"])
    assert len(merged) == len(change)
    assert merged["covered_pop_after"].to_numpy() == pytest.approx(
        merged["covered_pop"].to_numpy(), abs=1e-6)

    names = [s["name"] for s in client.get(f"/projects/{pid}/scenarios").json()["scenarios"]]
    assert "day care in the gap" in names
    sites = client.get(f"/projects/{pid}/collections/sites/items").json()
    assert sites["numberMatched"] >= 1


def test_remove_and_move(client: TestClient, demo_run: dict[str, str]) -> None:
    pid = demo_run["project"]
    summary = _execute(client, {"project": pid, "remove": ["DC00001"],
                                "move": [{"facility_id": "DC00002", "lon": 104.05,
                                          "lat": 30.66}]})
    assert summary["removed"] == 1 and summary["moved"] == 1
    assert GAP_TYPE in summary["headline"]


def test_whatif_validation(client: TestClient, demo_run: dict[str, str]) -> None:
    pid = demo_run["project"]
    url = "/processes/whatif/execution"
    body = assert_problem(client.post(url, json={"inputs": {"project": pid,
                                                            "remove": ["NOPE42"]}},
                                      headers=KEY), 422)
    assert "NOPE42" in body["detail"]
    for bad in ({"type": "casino"}, {"lon": 200}, {"lat": -91}, {"lon": "east"}):
        add = {"facility_id": "N2", "type": "day_care", "lon": 104.05, "lat": 30.66, **bad}
        body = assert_problem(client.post(url, json={"inputs": {"project": pid, "add": [add]}},
                                          headers=KEY), 422)
        assert next(iter(bad)) in body["detail"]
    dup = {"facility_id": "DC00001", "type": "day_care", "lon": 104.05, "lat": 30.66}
    assert "DC00001" in assert_problem(client.post(url, json={"inputs": {
        "project": pid, "add": [dup]}}, headers=KEY), 422)["detail"]


def test_whatif_needs_a_coverage_run(client: TestClient) -> None:
    pid = client.post("/projects", json={"source": "demo"}, headers=KEY).json()["id"]
    response = client.post("/processes/whatif/execution",
                           json={"inputs": {"project": pid, "remove": ["DC00001"]}}, headers=KEY)
    assert "coverage" in assert_problem(response, 409)["detail"]
