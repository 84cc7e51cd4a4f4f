"""API-key checks on writes, and on reads when CAREPLAN_PUBLIC_READ is false."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.conftest import KEY, MakeClient, assert_problem


def test_writes_need_key(client: TestClient) -> None:
    response = client.post("/projects", json={"source": "demo"})
    assert assert_problem(response, 401)["detail"].endswith("X-API-Key header")
    assert_problem(client.post("/projects", json={"source": "demo"},
                               headers={"X-API-Key": "wrong"}), 403)
    assert_problem(client.post("/processes/coverage/execution", json={"inputs": {}}), 401)
    assert_problem(client.delete("/projects/anything"), 401)
    assert client.get("/projects").status_code == 200


def test_private_reads(make_client: MakeClient) -> None:
    private = make_client(public_read=False)
    assert_problem(private.get("/projects"), 401)
    assert_problem(private.get("/jobs", headers={"X-API-Key": "nope"}), 403)
    assert private.get("/projects", headers=KEY).status_code == 200
    assert private.get("/health").status_code == 200


def test_no_key_configured_means_open(make_client: MakeClient) -> None:
    open_client = make_client(api_key=None)
    assert open_client.post("/projects", json={"source": "demo"}).status_code == 201
