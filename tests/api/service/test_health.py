"""Health, landing page, OpenAPI docs and the problem shape of unknown routes."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.conftest import assert_problem


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/health").json()["status"] == "ok"
    ready = client.get("/health/ready").json()
    assert ready["checks"] == {"database": "ok", "data_dir": "ok"}


def test_landing_and_docs(client: TestClient) -> None:
    rels = {link["rel"] for link in client.get("/").json()["links"]}
    assert {"service-desc", "service-doc", "processes", "data"} <= rels
    assert "swagger" in client.get("/docs").text.lower()
    paths = client.get("/openapi.json").json()["paths"]
    assert "/processes/{process_id}/execution" in paths
    assert "/projects/{project_id}/collections/{collection_id}/items" in paths


def test_unknown_route_is_problem(client: TestClient) -> None:
    body = assert_problem(client.get("/no/such/route"), 404)
    assert "/docs" in body["detail"]
    assert_problem(client.put("/health"), 405)
