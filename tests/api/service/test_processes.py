"""OGC API Processes: list, describe, execute (202 + Location), cache reuse, queue limit, 501."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.service.processes import find_hook
from tests.api.conftest import KEY, assert_problem, wait_job


def test_list_and_describe(client: TestClient) -> None:
    ids = {p["id"] for p in client.get("/processes").json()["processes"]}
    assert {"coverage", "siting", "whatif"} <= ids
    described = client.get("/processes/coverage").json()
    assert "project" in described["inputs"]["properties"]
    assert_problem(client.get("/processes/nope"), 404)
    assert_problem(client.post("/processes/nope/execution", json={"inputs": {}}, headers=KEY), 404)


def test_execute_reuses_cached_result(client: TestClient, demo_run: dict[str, str]) -> None:
    again = client.post("/processes/coverage/execution",
                        json={"inputs": {"project": demo_run["project"]}}, headers=KEY)
    assert again.status_code == 202
    assert again.headers["location"] == f"/jobs/{again.json()['jobID']}"
    assert again.json()["status"] == "successful" and again.json()["reused"] is True
    first = client.get(f"/jobs/{demo_run['job']}/results").json()
    second = client.get(f"/jobs/{again.json()['jobID']}/results").json()
    assert first["resultID"] == second["resultID"]
    assert first["summary"]["synthetic"] is True


def test_execute_validation(client: TestClient, demo_run: dict[str, str]) -> None:
    assert_problem(client.post("/processes/coverage/execution", json={"inputs": {}},
                               headers=KEY), 422)
    bad = {"inputs": {"project": demo_run["project"], "speed_m_s": -1}}
    body = assert_problem(client.post("/processes/coverage/execution", json=bad, headers=KEY), 422)
    assert "speed_m_s" in body["detail"]
    unknown = {"inputs": {"project": "nope"}}
    assert_problem(client.post("/processes/coverage/execution", json=unknown, headers=KEY), 404)


def test_failed_job_has_reason_and_no_results(client: TestClient,
                                              demo_run: dict[str, str]) -> None:
    bad = {"inputs": {"project": demo_run["project"], "required_types": ["casino"]}}
    started = client.post("/processes/coverage/execution", json=bad, headers=KEY)
    assert started.status_code == 202
    job = wait_job(client, started.json()["jobID"])
    assert job["status"] == "failed" and "casino" in job["message"]
    assert_problem(client.get(f"/jobs/{job['jobID']}/results"), 404)


def test_queue_full_is_429(client: TestClient, demo_run: dict[str, str]) -> None:
    runner = client.app.state.services.runner  # type: ignore[attr-defined]
    limit = runner.max_queued
    runner.max_queued = 0
    try:
        body = {"inputs": {"project": demo_run["project"], "target_share": 0.55}}
        response = client.post("/processes/coverage/execution", json=body, headers=KEY)
        assert_problem(response, 429)
        assert response.headers["retry-after"] == "10"
    finally:
        runner.max_queued = limit


def test_siting_and_whatif_name_what_is_missing(client: TestClient,
                                                demo_run: dict[str, str]) -> None:
    for pid, hook in (("siting", "planner.siting.propose.propose_sites"),
                      ("whatif", "planner.whatif.apply_scenario")):
        if find_hook(hook) is not None:
            continue  # implemented: the 501 path no longer applies
        response = client.post(f"/processes/{pid}/execution",
                               json={"inputs": {"project": demo_run["project"]}}, headers=KEY)
        assert assert_problem(response, 501)["missing"] == hook


def test_jobs_list_and_404(client: TestClient, demo_run: dict[str, str]) -> None:
    listed = client.get("/jobs", params={"project": demo_run["project"]}).json()["jobs"]
    assert demo_run["job"] in [j["jobID"] for j in listed]
    assert_problem(client.get("/jobs/nope"), 404)
    assert_problem(client.get("/jobs/nope/results"), 404)


def test_siting_fills_sites(client: TestClient, demo_run: dict[str, str]) -> None:
    if find_hook("planner.siting.propose.propose_sites") is None:
        pytest.skip("planner.siting.propose.propose_sites is not in this build yet")
    body = {"inputs": {"project": demo_run["project"], "facility_type": "day_care", "k": 2,
                       "method": "greedy", "scenario": "two day-care sites"}}
    started = client.post("/processes/siting/execution", json=body, headers=KEY)
    assert started.status_code == 202, started.text
    job = wait_job(client, started.json()["jobID"])
    assert job["status"] == "successful", job
    sites = client.get(f"/projects/{demo_run['project']}/collections/sites/items").json()
    assert sites["numberMatched"] == 2
    listed = client.get(f"/projects/{demo_run['project']}/scenarios").json()["scenarios"]
    names = [s["name"] for s in listed]
    assert "two day-care sites" in names
