"""The ``batch`` process: an OGC API Processes async job with per-region progress."""

from __future__ import annotations

import json
import time

import geopandas as gpd
import pytest
from fastapi.testclient import TestClient

from planner.io.catalogue import read_catalogue
from planner.io.district_files import grid_regions
from planner.io.osm import read_osm_file
from tests.api.conftest import KEY, SHARED_OSM, assert_problem


def test_batch_process_runs_regions_with_progress(client: TestClient) -> None:
    pbf = SHARED_OSM / "chengdu_center_2018.osm.pbf"
    if not pbf.is_file():
        pytest.skip(f"real OSM extract {pbf} is absent (shared data not mounted)")
    with pbf.open("rb") as handle:
        project = client.post("/projects", files={"osm": ("cd.osm.pbf", handle)}, headers=KEY).json()
    regions = grid_regions(read_osm_file(pbf, read_catalogue()).study_area, 2, 1)
    features = json.loads(gpd.GeoDataFrame(regions).to_json())
    assert {"batch"} <= {p["id"] for p in client.get("/processes").json()["processes"]}
    bad = {"inputs": {"project": project["id"], "regions": {"type": "Point"}}}
    assert_problem(client.post("/processes/batch/execution", json=bad, headers=KEY), 422)
    body = {"inputs": {"project": project["id"], "regions": features, "workers": 1}}
    started = client.post("/processes/batch/execution", json=body, headers=KEY)
    assert started.status_code == 202, started.text
    job_id = started.json()["jobID"]
    messages, deadline = set(), time.monotonic() + 120
    while time.monotonic() < deadline:
        job = client.get(f"/jobs/{job_id}").json()
        messages.add(job.get("message") or "")
        if job["status"] in ("successful", "failed"):
            break
        time.sleep(0.05)
    assert job["status"] == "successful", job
    assert any(m.startswith("region G") and "/2)" in m for m in messages), messages
    result = client.get(f"/jobs/{job_id}/results").json()
    assert result["summary"]["ok"] == 2 and result["summary"]["complete"] is True
    assert result["summary"]["units"] == 186
