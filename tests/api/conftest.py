"""API fixtures: a TestClient on a temp data dir, a finished demo coverage run, a tiny OSM file."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.service.main import create_app
from api.service.settings import ApiSettings, get_settings

API_KEY = "test-key-123"
KEY = {"X-API-Key": API_KEY}
SHARED_OSM = Path(__file__).resolve().parents[3] / "shared" / "data" / "osm"

MakeClient = Callable[..., TestClient]


def tiny_osm_xml(n: int = 6, spacing_deg: float = 0.0008) -> bytes:
    """An OSM XML grid of footways near central Chengdu with a day-care and a residential area."""
    lon0, lat0 = 104.06, 30.66
    nodes, ways = [], []
    for i in range(n):
        for j in range(n):
            nid = 1 + i * n + j
            nodes.append(f'<node id="{nid}" version="1" lat="{lat0 + j * spacing_deg:.6f}" '
                         f'lon="{lon0 + i * spacing_deg:.6f}"/>')
    wid = 1
    for i in range(n):
        row = "".join(f'<nd ref="{1 + i * n + j}"/>' for j in range(n))
        col = "".join(f'<nd ref="{1 + j * n + i}"/>' for j in range(n))
        for refs in (row, col):
            ways.append(f'<way id="{wid}" version="1">{refs}<tag k="highway" v="footway"/></way>')
            wid += 1
    mid = lon0 + spacing_deg * (n - 1) / 2, lat0 + spacing_deg * (n - 1) / 2
    nodes.append(f'<node id="900" version="1" lat="{mid[1]:.6f}" lon="{mid[0]:.6f}">'
                 '<tag k="amenity" v="social_facility"/><tag k="social_facility" v="day_care"/>'
                 '<tag k="name" v="测试日间照料中心"/></node>')
    corners = [(lon0, lat0), (lon0 + spacing_deg * (n - 1), lat0),
               (lon0 + spacing_deg * (n - 1), lat0 + spacing_deg * (n - 1)),
               (lon0, lat0 + spacing_deg * (n - 1))]
    for k, (lon, lat) in enumerate(corners):
        nodes.append(f'<node id="{800 + k}" version="1" lat="{lat:.6f}" lon="{lon:.6f}"/>')
    ring = "".join(f'<nd ref="{800 + k}"/>' for k in (0, 1, 2, 3, 0))
    ways.append(f'<way id="500" version="1">{ring}<tag k="landuse" v="residential"/>'
                '<tag k="name" v="测试小区"/></way>')
    body = "\n".join(nodes + ways)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6">\n{body}\n</osm>\n'.encode()


def wait_job(client: TestClient, job_id: str, timeout_s: float = 60.0) -> dict[str, Any]:
    """Poll a job until it is successful or failed."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = client.get(f"/jobs/{job_id}").json()
        if job["status"] in ("successful", "failed"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish in {timeout_s} s")


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    """The response is an RFC 9457 problem with ``status``."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status
    assert body["title"] and body["detail"] and body["type"]
    return body


@pytest.fixture(scope="session")
def make_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MakeClient]:
    """Factory of started TestClients with settings overrides (closed at session end)."""
    opened: list[TestClient] = []

    def make(**overrides: Any) -> TestClient:
        values = {"data_dir": tmp_path_factory.mktemp("data"), "api_key": API_KEY, **overrides}
        settings = ApiSettings(**values)
        app = create_app()
        app.dependency_overrides[get_settings] = lambda: settings
        client = TestClient(app)
        client.__enter__()
        opened.append(client)
        return client

    yield make
    for client in opened:
        client.__exit__(None, None, None)


@pytest.fixture(scope="session")
def client(make_client: MakeClient) -> TestClient:
    """The shared client: API key required for writes, public reads."""
    return make_client()


@pytest.fixture(scope="session")
def demo_run(client: TestClient) -> dict[str, str]:
    """A demo project with one finished coverage job."""
    project = client.post("/projects", json={"source": "demo"}, headers=KEY).json()
    started = client.post("/processes/coverage/execution",
                          json={"inputs": {"project": project["id"]}}, headers=KEY)
    job = wait_job(client, started.json()["jobID"])
    assert job["status"] == "successful", job
    return {"project": project["id"], "job": job["jobID"]}
