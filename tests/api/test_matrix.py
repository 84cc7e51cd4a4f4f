"""Issue 13 item 1: every CLI command and every service export and collection on four real
setups: (a) the demo, (b) the Chengdu extract alone, (c) Chengdu with a facility register and
point units, (d) Chengdu with a register and polygon units with parent codes. No traceback, no
5xx, every output non-empty. One run per setup is shared by all checks (a bbox of the extract)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.service.execution import COLLECTIONS
from api.service.routers.exports import EXPORTS
from tests.api.conftest import KEY, SHARED_OSM, wait_job

ROOT = Path(__file__).resolve().parents[2]
CHENGDU = SHARED_OSM / "chengdu_center_2018.osm"
BBOX = "104.055,30.650,104.095,30.680"
REGISTER = ("名称,类型,经度,纬度\n锦江日照,day_care,104.065,30.66\n春熙助餐点,meal_point,104.078,"
            "30.657\n东门站,service_station,104.085,30.667\n")
POINTS = ("社区名称,unit_id,经度,纬度,老年人口\n东门社区,U1,104.07,30.665,900\n"
          "西门社区,U2,104.06,30.672,700\n")
POLYGONS = """{"type": "FeatureCollection", "features": [
 {"type": "Feature", "properties": {"name": "一社区", "code": "510104001001",
  "parent_code": "510104001000", "older_pop": 800},
  "geometry": {"type": "Polygon", "coordinates": [[[104.06,30.655],[104.075,30.655],
   [104.075,30.668],[104.06,30.668],[104.06,30.655]]]}},
 {"type": "Feature", "properties": {"name": "二社区", "code": "510104001002",
  "parent_code": "510104001000", "older_pop": 600},
  "geometry": {"type": "Polygon", "coordinates": [[[104.075,30.655],[104.09,30.655],
   [104.09,30.668],[104.075,30.668],[104.075,30.655]]]}}]}"""
SETUPS = ("demo", "chengdu", "register_points", "register_polygons")
pytestmark = pytest.mark.slow  # about 3 minutes: run with `pytest -m slow tests/api/test_matrix.py`


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "api.cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600, check=False)


def _ok(done: subprocess.CompletedProcess[str]) -> None:
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr[-2000:]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("matrix_inputs")
    (folder / "register.csv").write_text(REGISTER, encoding="utf-8")
    (folder / "points.csv").write_text(POINTS, encoding="utf-8")
    (folder / "polygons.geojson").write_text(POLYGONS, encoding="utf-8")
    (folder / "candidates.csv").write_text("lon,lat\n104.07,30.662\n104.08,30.66\n",
                                           encoding="utf-8")
    return folder


def _files(setup: str, inputs: Path) -> list[str]:
    extra = {"chengdu": [], "register_points": ["--facilities", str(inputs / "register.csv"),
                                                 "--units", str(inputs / "points.csv")],
             "register_polygons": ["--facilities", str(inputs / "register.csv"),
                                   "--units", str(inputs / "polygons.geojson")]}
    return extra.get(setup, [])


@pytest.fixture(scope="module")
def cli_runs(inputs: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("matrix_cli")
    runs = {}
    for setup in SETUPS:
        run = out / setup
        if setup == "demo":
            _ok(_cli("demo", "--out", str(run), "--nodes", "2000"))
        else:
            _ok(_cli("analyze", "--osm", str(CHENGDU), "--bbox", BBOX, "--no-cache",
                     *_files(setup, inputs), "--out", str(run)))
        runs[setup] = run
    return runs


@pytest.mark.parametrize("setup", SETUPS)
def test_cli_commands(setup: str, cli_runs: dict[str, Path], inputs: Path,
                      tmp_path: Path) -> None:
    run = cli_runs[setup]
    assert any(p.stat().st_size for p in run.iterdir() if p.is_file())
    report = tmp_path / "report"
    _ok(_cli("report", str(run), "--out", str(report)))
    assert all(p.stat().st_size > 0 for p in report.iterdir() if p.is_file())
    files = _files(setup, inputs)
    site = tmp_path / "site"
    cands = [] if setup == "demo" else ["--candidates", str(inputs / "candidates.csv")]
    _ok(_cli("site", "--run", str(run), "--out", str(site), "--type", "day_care", "--k", "1",
             *cands, *files))
    assert any(p.stat().st_size for p in site.iterdir() if p.is_file())
    whatif = tmp_path / "whatif"
    scenario = tmp_path / "add.toml"
    scenario.write_text('name = "one more"\n[[add]]\nfacility_id = "new1"\ntype = "day_care"\n'
                        "lon = 104.07\nlat = 30.662\n", encoding="utf-8")
    _ok(_cli("whatif", "--run", str(run), "--out", str(whatif), "--add", str(scenario), *files))
    assert any(p.stat().st_size for p in whatif.iterdir() if p.is_file())
    _ok(_cli("rules", "check", str(ROOT / "data" / "rules" / "national.toml")))


@pytest.fixture(scope="module")
def service_projects(make_client, inputs: Path) -> tuple[TestClient, dict[str, str]]:  # type: ignore[no-untyped-def]
    client: TestClient = make_client()
    clip = _clip(inputs)
    projects = {}
    for setup in SETUPS:
        if setup == "demo":
            pid = client.post("/projects", json={"source": "demo"}, headers=KEY).json()["id"]
        else:
            pid = client.post("/projects", files={"osm": ("chengdu.osm", clip)},
                              headers=KEY).json()["id"]
            for kind, name in zip(("facilities", "units"), _files(setup, inputs)[1::2],
                                  strict=False):
                up = client.post(f"/projects/{pid}/uploads", data={"kind": kind},
                                 files={"file": (Path(name).name, Path(name).read_bytes())},
                                 headers=KEY)
                assert up.status_code == 201, up.text
        started = client.post("/processes/coverage/execution", json={"inputs": {"project": pid}},
                              headers=KEY)
        job = wait_job(client, started.json()["jobID"], timeout_s=300)
        assert job["status"] == "successful", job
        projects[setup] = pid
    return client, projects


def _clip(inputs: Path) -> bytes:
    """The extract cut to BBOX by the CLI's reader is not a file; upload the whole extract."""
    del inputs
    return CHENGDU.read_bytes()


@pytest.mark.parametrize("setup", SETUPS)
def test_service_exports_and_collections(setup: str, service_projects: tuple[TestClient,
                                                                              dict[str, str]]
                                         ) -> None:
    client, projects = service_projects
    pid = projects[setup]
    for cid in COLLECTIONS:
        response = client.get(f"/projects/{pid}/collections/{cid}/items")
        assert response.status_code == 200, (cid, response.text[:300])
        assert response.json()["type"] == "FeatureCollection"
    for fmt in EXPORTS:
        response = client.get(f"/projects/{pid}/exports/{fmt}", headers=KEY)
        assert response.status_code < 500, (fmt, response.text[:300])
        if fmt in ("gpkg", "csv", "json", "xlsx", "html", "report_html", "pdf"):
            assert response.status_code == 200 and response.content, (fmt, response.text[:300])
    page = client.get(f"/projects/{pid}/map")
    assert page.status_code == 200 and len(page.content) > 1000
