"""Issue 13: the service under hostile input and heavy use (TestClient parts).

Each test fails on the code before issue 13: text/plain writes, whole-file type sniffing,
decompression bombs, no job cancellation, recomputed plans on GET, server paths in job messages,
unbounded parameters, chunked uploads over the limit, results never deleted, no security headers.
"""

from __future__ import annotations

import bz2
import io
import json
import time
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.service.db import jobs, uploads
from api.service.execution import PlanCache
from api.service.filetype import detect_kind
from api.service.limits import CONTENT_SECURITY_POLICY
from planner.params import BOUNDS
from tests.api.conftest import KEY, SHARED_OSM, MakeClient, assert_problem, wait_job

CHENGDU = SHARED_OSM / "chengdu_center_2018.osm"


def _coverage(client: TestClient, project: str, **inputs: Any) -> dict[str, Any]:
    started = client.post("/processes/coverage/execution",
                          json={"inputs": {"project": project, **inputs}}, headers=KEY)
    assert started.status_code == 202, started.text
    return started.json()


def _demo(client: TestClient) -> str:
    return str(client.post("/projects", json={"source": "demo"}, headers=KEY).json()["id"])


def test_cross_site_text_plain_write_is_415(make_client: MakeClient) -> None:
    """A page on any site can POST text/plain without a preflight: refused even when open."""
    open_client = make_client(api_key=None)
    body = json.dumps({"source": "demo"})
    response = open_client.post("/projects", content=body, headers={"content-type": "text/plain"})
    assert "application/json" in assert_problem(response, 415)["detail"]
    form = open_client.post("/projects", content="source=demo",
                            headers={"content-type": "application/x-www-form-urlencoded"})
    assert_problem(form, 415)
    assert open_client.post("/projects", json={"source": "demo"}).status_code == 201


def test_type_sniff_memory_is_bounded(tmp_path: Path) -> None:
    """A 40 MB GeoJSON is recognised from its first bytes: peak memory stays far below its size
    (the old check parsed the whole file: several times its size)."""
    path = tmp_path / "big.geojson"
    feature = ('{"type":"Feature","properties":{"name":"x"},"geometry":{"type":"Point",'
               '"coordinates":[104.06,30.66]}}')
    with path.open("w") as handle:
        handle.write('{"type": "FeatureCollection", "features": [')
        handle.write(",".join([feature] * 400_000))
        handle.write("]}")
    assert path.stat().st_size > 35e6
    tracemalloc.start()
    kind = detect_kind(path)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert kind == "geojson"
    assert peak < 4e6, peak
    (tmp_path / "list.json").write_text('{"type": "Feature", "properties": {}}')
    assert detect_kind(tmp_path / "list.json") is None


def test_bz2_bomb_fails_early_with_one_line(make_client: MakeClient) -> None:
    client = make_client(max_osm_xml_mb=20)
    xml = b'<?xml version="1.0"?>\n<osm version="0.6">\n' + b" " * (40 << 20) + b"</osm>\n"
    bomb = bz2.compress(xml, 9)
    assert len(bomb) < 200_000
    made = client.post("/projects", files={"osm": ("stadtplan.osm.bz2", bomb)}, headers=KEY)
    assert made.status_code == 201, made.text
    job = wait_job(client, _coverage(client, made.json()["id"])["jobID"])
    assert job["status"] == "failed"
    assert "CAREPLAN_MAX_OSM_XML_MB" in job["message"] and "stadtplan.osm.bz2" in job["message"]
    assert "\n" not in job["message"]


def test_xlsx_row_limit(make_client: MakeClient) -> None:
    from openpyxl import Workbook

    client = make_client(max_register_rows=1000)
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(["名称", "类型", "经度", "纬度"])
    for i in range(3000):
        sheet.append([f"点{i}", "day_care", 104.06, 30.66])
    buffer = io.BytesIO()
    book.save(buffer)
    project = _demo(client)
    up = client.post(f"/projects/{project}/uploads", data={"kind": "facilities"},
                     files={"file": ("登记表.xlsx", buffer.getvalue())}, headers=KEY)
    assert up.status_code == 201, up.text
    job = wait_job(client, _coverage(client, project)["jobID"])
    assert job["status"] == "failed"
    assert "CAREPLAN_MAX_REGISTER_ROWS" in job["message"] and "登记表.xlsx" in job["message"]


def test_latest_result_kept_and_reads_never_recompute(make_client: MakeClient,
                                                       tmp_path: Path) -> None:
    """Only the latest result per project and process is kept (older files deleted); after a
    restart the plan is loaded from the result; without it a read answers 409."""
    data = tmp_path / "data"
    first = make_client(data_dir=data)
    project = _demo(first)
    older = wait_job(first, _coverage(first, project, target_share=0.7)["jobID"])
    newer = wait_job(first, _coverage(first, project)["jobID"])
    assert older["status"] == newer["status"] == "successful"
    deadline = time.monotonic() + 30  # pruning follows the job's success by a moment
    while len(list((data / "results").iterdir())) > 1 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len([p for p in (data / "results").iterdir() if p.is_dir()]) == 1
    assert first.get(f"/jobs/{newer['jobID']}/results").status_code == 200
    assert_problem(first.get(f"/jobs/{older['jobID']}/results"), 404)
    fid = first.get(f"/projects/{project}/collections/facilities/items?limit=1").json()[
        "features"][0]["properties"]["facility_id"]
    first.__exit__(None, None, None)
    second = make_client(data_dir=data)
    assert second.get(f"/projects/{project}/facilities/{fid}/catchment").status_code == 200
    for plan in (data / "results").glob("*/plan.pickle"):
        plan.unlink()
    second.__exit__(None, None, None)
    third = make_client(data_dir=data)
    body = assert_problem(third.get(f"/projects/{project}/facilities/{fid}/catchment"), 409)
    assert "coverage process" in body["detail"]


def test_map_rendered_once_with_etag(client: TestClient, demo_run: dict[str, str]) -> None:
    url = f"/projects/{demo_run['project']}/map"
    first = client.get(url)
    assert first.status_code == 200
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and not again.content
    assert client.get(url, headers={"If-Modified-Since": modified}).status_code == 304
    assert client.get(url).content == first.content
    policy = first.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'self'" in policy


def test_failed_job_names_the_upload_not_a_server_path(make_client: MakeClient) -> None:
    client = make_client()
    broken = b'<?xml version="1.0"?>\n<osm version="0.6">\n<node id="1" lat="30.6" lon="104.0"'
    made = client.post("/projects", files={"osm": ("我的地图.osm", broken)}, headers=KEY)
    job = wait_job(client, _coverage(client, made.json()["id"])["jobID"])
    root = str(client.app.state.services.store.root)  # type: ignore[attr-defined]
    assert job["status"] == "failed"
    assert root not in job["message"] and "我的地图.osm" in job["message"], job["message"]
    listed = client.get("/jobs").text
    assert root not in listed


def test_old_failed_messages_are_scrubbed_on_read(make_client: MakeClient) -> None:
    """A message stored by a version before the fix (written straight into the database, paths
    of this data dir, of the data dir it used to have and of the temporary folder) shows the
    upload's original name or ``<data>`` on every read; routes named in it stay."""
    client = make_client()
    services = client.app.state.services  # type: ignore[attr-defined]
    made = client.post("/projects", files={"osm": ("老城区.osm", CHENGDU.read_bytes())},
                       headers=KEY).json()
    upload = services.db.list(uploads, project_id=made["id"])[0]
    stored = services.store.root / upload["path"]
    old_dir = f"/srv/careplan-old/projects/{made['id']}/uploads/{Path(upload['path']).name}"
    message = (f"OSMError: cannot parse {stored} (line 3); first seen as {old_dir}; cache "
               f"{services.store.root}/cache/osm/x.pbf, scratch /tmp/tmpk2j3/part-1.pbf, "
               "run POST /processes/coverage/execution again")
    services.db.insert(jobs, {"id": "oldjob", "project_id": made["id"], "process_id": "coverage",
                              "inputs": "{}", "cache_key": "old", "status": "failed",
                              "progress": 40, "message": message, "created_at": "2025-01-01"})
    shown = client.get("/jobs/oldjob").json()["message"]
    listed = {j["jobID"]: j["message"] for j in client.get("/jobs").json()["jobs"]}["oldjob"]
    assert shown == listed
    for private in (str(services.store.root), "/srv", "/tmp", upload["path"]):
        assert private not in shown, shown
    assert shown.count("老城区.osm") == 2 and shown.count("<data>") == 2, shown
    assert "POST /processes/coverage/execution" in shown
    assert "老城区.osm" in assert_problem(client.get("/jobs/oldjob/results"), 404)["detail"]


@pytest.mark.parametrize("inputs", [{"thresholds_min": [1e9]}, {"thresholds_min": [0.5]},
                                    {"speed_m_s": 1e-300}, {"speed_m_s": 2.5},
                                    {"max_snap_m": 5000}])
def test_unbounded_parameters_refused(client: TestClient, demo_run: dict[str, str],
                                      inputs: dict[str, Any]) -> None:
    response = client.post("/processes/coverage/execution",
                           json={"inputs": {"project": demo_run["project"], **inputs}},
                           headers=KEY)
    assert_problem(response, 422)


@pytest.mark.parametrize(("inputs", "key"), [
    ({"budget": 5}, "budget"), ({"k": 2, "sites": 3}, "sites"),
    ({"candidates": [{"lon": 104.06, "lat": 30.66, "height": 3}]}, "candidates.0.height")])
def test_unknown_siting_inputs_are_400_naming_the_key(client: TestClient,
                                                      demo_run: dict[str, str],
                                                      inputs: dict[str, Any], key: str) -> None:
    body = {"inputs": {"project": demo_run["project"], "facility_type": "day_care", **inputs}}
    problem = assert_problem(client.post("/processes/siting/execution", json=body, headers=KEY),
                             400)
    assert repr(key) in problem["detail"] and problem["unknown"] == [key]
    coverage = {"inputs": {"project": demo_run["project"], "speed": 1.0}}
    assert "'speed'" in assert_problem(client.post("/processes/coverage/execution", json=coverage,
                                                   headers=KEY), 400)["detail"]


_POINT = {"lon": 104.06, "lat": 30.66}


@pytest.mark.parametrize(("inputs", "key"), [
    ({"k": BOUNDS["sites_k"][1] + 1}, "k"), ({"k": 0}, "k"), ({"k": 10**12}, "k"),
    ({"time_limit_s": 1e9}, "time_limit_s"), ({"time_limit_s": 0}, "time_limit_s"),
    ({"facility_type": "casino"}, "facility_type"),
    ({"candidates": [_POINT] * (int(BOUNDS["candidate_sites"][1]) + 1)}, "candidates"),
    ({"candidates": []}, "candidates"),
    ({"candidates": [{**_POINT, "capacity": -1}]}, "capacity"),
    ({"candidates": [{**_POINT, "cost": 1e300}]}, "cost"),
    ({"candidates": [{"lon": 500, "lat": 30.66}]}, "lon")])
def test_siting_inputs_are_bounded(client: TestClient, demo_run: dict[str, str],
                                   inputs: dict[str, Any], key: str) -> None:
    body = {"inputs": {"project": demo_run["project"], **inputs}}
    problem = assert_problem(client.post("/processes/siting/execution", json=body, headers=KEY),
                             422)
    assert key in problem["detail"], problem["detail"]


def test_siting_on_given_candidates(client: TestClient, demo_run: dict[str, str]) -> None:
    """Candidates given in the request are the ones sited (ids kept)."""
    body = {"inputs": {"project": demo_run["project"], "facility_type": "meal_point", "k": 1,
                       "method": "exact", "time_limit_s": 30, "candidates": [
                           {"candidate_id": "甲", "lon": 104.052, "lat": 30.662, "capacity": 40},
                           {"candidate_id": "乙", "lon": 104.058, "lat": 30.668}]}}
    started = client.post("/processes/siting/execution", json=body, headers=KEY)
    assert started.status_code == 202, started.text
    job = wait_job(client, started.json()["jobID"], timeout_s=120)
    assert job["status"] == "successful", job
    sites = client.get(f"/projects/{demo_run['project']}/collections/sites/items").json()
    assert [f["properties"]["candidate_id"] for f in sites["features"]] in (["甲"], ["乙"])


def test_api_schema_takes_bounds_from_planner(client: TestClient) -> None:
    schema = client.get("/processes/coverage").json()["inputs"]["properties"]
    speed = schema["speed_m_s"]["anyOf"][0]
    assert (speed["minimum"], speed["maximum"]) == BOUNDS["speed_m_s"]
    minutes = schema["thresholds_min"]["anyOf"][0]["items"]
    assert (minutes["minimum"], minutes["maximum"]) == BOUNDS["threshold_min"]
    siting = client.get("/processes/siting").json()["inputs"]
    k = siting["properties"]["k"]["anyOf"][0]
    assert (k["minimum"], k["maximum"]) == BOUNDS["sites_k"]
    assert siting["properties"]["candidates"]["anyOf"][0]["maxItems"] == \
        BOUNDS["candidate_sites"][1]
    assert siting["additionalProperties"] is False


def test_chunked_upload_over_limit_is_413(make_client: MakeClient) -> None:
    small = make_client(max_upload_mb=0.01)
    project = _demo(small)
    boundary = "careplanboundary"

    def body() -> Any:
        yield (f"--{boundary}\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\n"
               f"facilities\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
               f"filename=\"big.csv\"\r\nContent-Type: text/csv\r\n\r\n").encode()
        for _ in range(40):
            yield b"name,lon,lat\n" * 100
        yield f"\r\n--{boundary}--\r\n".encode()

    response = small.post(f"/projects/{project}/uploads", content=body(),
                          headers={**KEY, "content-type": f"multipart/form-data; boundary="
                                                          f"{boundary}"})
    assert "CAREPLAN_MAX_UPLOAD_MB" in assert_problem(response, 413)["detail"]


def test_plan_cache_is_lru_by_bytes() -> None:
    cache = PlanCache(max_bytes=100)
    plans = {name: object() for name in "abc"}
    cache.put("a", plans["a"], 40)  # type: ignore[arg-type]
    cache.put("b", plans["b"], 40)  # type: ignore[arg-type]
    assert cache.get("a") is plans["a"]  # a is now the most recent
    cache.put("c", plans["c"], 40)  # type: ignore[arg-type]
    assert cache.get("b") is None and cache.get("a") is plans["a"] and cache.nbytes == 80


def test_security_headers_everywhere(client: TestClient) -> None:
    for response in (client.get("/health"), client.get("/no/such/route"),
                     client.post("/projects", json={"source": "moon"}, headers=KEY)):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "SAMEORIGIN"
        assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert "server" not in response.headers
