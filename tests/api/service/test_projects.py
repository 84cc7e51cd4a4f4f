"""Projects: create (demo, upload, data-dir file, place), list, get, delete, uploads, scenarios."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.service.store import osm_io
from planner.errors import SourceUnavailableError
from tests.api.conftest import KEY, SHARED_OSM, MakeClient, assert_problem, tiny_osm_xml


def test_create_demo_list_get_delete(client: TestClient) -> None:
    created = client.post("/projects", json={"source": "demo", "name": "示范"}, headers=KEY)
    assert created.status_code == 201
    pid = created.json()["id"]
    assert created.headers["location"] == f"/projects/{pid}"
    assert pid in [p["id"] for p in client.get("/projects").json()["projects"]]
    assert client.get(f"/projects/{pid}").json()["name"] == "示范"
    assert client.delete(f"/projects/{pid}", headers=KEY).status_code == 204
    assert_problem(client.get(f"/projects/{pid}"), 404)
    assert_problem(client.delete(f"/projects/{pid}", headers=KEY), 404)


def test_create_validation_errors(client: TestClient) -> None:
    body = assert_problem(client.post("/projects", json={"source": "moon"}, headers=KEY), 422)
    assert body["errors"][0]["loc"][:2] == ["body", "source"]
    assert_problem(client.post("/projects", json={"source": "file"}, headers=KEY), 422)
    assert_problem(client.post("/projects", content=b"not json",
                               headers={**KEY, "content-type": "application/json"}), 422)
    assert_problem(client.post("/projects", content=b"not json", headers=KEY), 415)


def test_upload_osm_file(client: TestClient) -> None:
    files = {"osm": ("anything.bin", tiny_osm_xml(), "application/octet-stream")}
    created = client.post("/projects", files=files, data={"name": "小区"}, headers=KEY)
    assert created.status_code == 201, created.text
    upload = created.json()["uploads"][0]
    assert (upload["kind"], upload["detected"]) == ("osm", "osm_xml")
    assert len(upload["sha256"]) == 64


def test_upload_rejects_content_not_name(client: TestClient) -> None:
    files = {"osm": ("city.osm.pbf", b"just some text, not OSM", "application/octet-stream")}
    body = assert_problem(client.post("/projects", files=files, headers=KEY), 415)
    assert "by content" in body["detail"]
    missing = client.post("/projects", files={"other": ("a.osm", b"x")}, headers=KEY)
    assert_problem(missing, 422)


def test_upload_real_chengdu_pbf(client: TestClient) -> None:
    pbf = SHARED_OSM / "chengdu_center_2018.osm.pbf"
    if not pbf.is_file():
        pytest.skip(f"real OSM extract {pbf} is absent (shared data not mounted)")
    with pbf.open("rb") as handle:
        created = client.post("/projects", files={"osm": ("cd.pbf", handle)}, headers=KEY)
    assert created.status_code == 201, created.text
    assert created.json()["uploads"][0]["detected"] == "osm_pbf"


def test_file_in_data_dir_and_traversal(client: TestClient) -> None:
    root: Path = client.app.state.services.store.root  # type: ignore[attr-defined]
    (root / "osm").mkdir(exist_ok=True)
    (root / "osm" / "area.osm").write_bytes(tiny_osm_xml())
    ok = client.post("/projects", json={"source": "file", "file": "osm/area.osm"}, headers=KEY)
    assert ok.status_code == 201, ok.text
    for bad in ("../../etc/passwd", "/etc/passwd", "osm/../../x.osm"):
        response = client.post("/projects", json={"source": "file", "file": bad}, headers=KEY)
        assert_problem(response, 400)
    assert_problem(client.post("/projects", json={"source": "file", "file": "nope.osm"},
                               headers=KEY), 404)


def test_place_offline_is_503(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    def offline(place: str, catalogue: object, cache_dir: Path) -> Path:
        msg = f"cannot download OSM data for {place!r} (offline)"
        raise SourceUnavailableError(msg)

    monkeypatch.setattr(osm_io, "download_place", offline)
    response = client.post("/projects", json={"source": "place", "place": "成都市青羊区"},
                           headers=KEY)
    body = assert_problem(response, 503)
    assert body["error"] == "SourceUnavailableError"


def test_register_and_units_uploads(client: TestClient) -> None:
    pid = client.post("/projects", json={"source": "demo"}, headers=KEY).json()["id"]
    csv = "机构名称,类型,经度,纬度,床位\n测试日照中心,日间照料中心,104.06,30.66,20\n".encode("gbk")
    up = client.post(f"/projects/{pid}/uploads", files={"file": ("r.txt", csv)},
                     data={"kind": "facilities", "coords": "gcj02"}, headers=KEY)
    assert up.status_code == 201, up.text
    assert (up.json()["detected"], up.json()["coords"]) == ("csv", "gcj02")
    gj = b'{"type": "FeatureCollection", "features": []}'
    up = client.post(f"/projects/{pid}/uploads", files={"file": ("u.json", gj)},
                     data={"kind": "units"}, headers=KEY)
    assert up.json()["detected"] == "geojson"
    assert len(client.get(f"/projects/{pid}").json()["uploads"]) == 2
    bad = client.post(f"/projects/{pid}/uploads", files={"file": ("r.csv", tiny_osm_xml())},
                      data={"kind": "facilities"}, headers=KEY)
    assert_problem(bad, 415)
    assert_problem(client.post(f"/projects/{pid}/uploads", files={"file": ("r.csv", csv)},
                               data={"kind": "photos"}, headers=KEY), 422)
    assert client.get(f"/projects/{pid}/scenarios").json() == {"scenarios": []}


def test_upload_too_large(make_client: MakeClient) -> None:
    small = make_client(max_upload_mb=0.01)
    big = tiny_osm_xml(n=40)
    assert len(big) > 0.01 * 2**20
    body = assert_problem(small.post("/projects", files={"osm": ("a.osm", big)}, headers=KEY), 413)
    assert "CAREPLAN_MAX_UPLOAD_MB" in body["detail"]


def test_delete_keeps_data_dir_files(client: TestClient) -> None:
    root: Path = client.app.state.services.store.root  # type: ignore[attr-defined]
    (root / "keep.osm").write_bytes(tiny_osm_xml())
    pid = client.post("/projects", json={"source": "file", "file": "keep.osm"},
                      headers=KEY).json()["id"]
    assert client.delete(f"/projects/{pid}", headers=KEY).status_code == 204
    assert (root / "keep.osm").is_file()
    shutil.rmtree(root / "projects" / pid, ignore_errors=True)
