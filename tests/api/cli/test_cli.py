"""The `careplan` command line: demo, analyze on real OSM, cache, and one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest

from api.cli.main import main

EXPECTED_FILES = {"careplan.gpkg", "coverage.csv", "coverage_thresholds.csv", "gaps.csv",
                  "summary.json", "care_map.html", "compliance.csv", "indicators.csv"}
COVERAGE_COLUMNS = ["unit_id", "unit_name", "facility_type", "threshold_min", "older_pop",
                    "covered_pop", "covered_share", "median_time_min", "p90_time_min",
                    "nearest_facility_id"]


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "run"
    assert main(["demo", "--out", str(out)]) == 0
    return out


def test_demo_writes_every_output(demo_run: Path) -> None:
    assert {p.name for p in demo_run.iterdir()} >= EXPECTED_FILES
    summary = json.loads((demo_run / "summary.json").read_text(encoding="utf-8"))
    assert summary["synthetic"] is True and "SYNTHETIC" in summary["note"]
    assert summary["walk_speed_m_s"] == 0.8
    assert summary["software"]["name"] == "careplan"
    cov = pd.read_csv(demo_run / "coverage.csv")
    assert list(cov.columns[:10]) == COVERAGE_COLUMNS
    layers = {name for name, _ in pyogrio.list_layers(demo_run / "careplan.gpkg")}
    assert layers >= {"facilities", "units", "catchments", "catchments_dissolved", "gaps",
                      "network_edges"}
    gaps = gpd.read_file(demo_run / "careplan.gpkg", layer="gaps")
    assert len(gaps) == len(pd.read_csv(demo_run / "gaps.csv")) > 0
    assert "synthetic" in (demo_run / "care_map.html").read_text(encoding="utf-8").lower()


def test_gaps_csv_matches_coverage(demo_run: Path) -> None:
    cov = pd.read_csv(demo_run / "coverage.csv", dtype={"unit_id": str})
    gaps = pd.read_csv(demo_run / "gaps.csv", dtype={"unit_id": str})
    req = cov[cov.facility_type.isin(["day_care"]) & (cov.older_pop > 0)]  # national's circle
    below = req[req.covered_share < 0.8 - 1e-12]
    assert set(zip(below.unit_id, below.facility_type, strict=True)) == set(
        zip(gaps.unit_id, gaps.facility_type, strict=True))


def test_analyze_real_osm_with_cache(chengdu_osm: Path, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    cache = tmp_path / "cache"
    args = ["analyze", "--osm", str(chengdu_osm), "--cache-dir", str(cache), "--rules",
            "chengdu", "--lang", "en"]
    assert main([*args, "--out", str(tmp_path / "a")]) == 0
    assert len(list(cache.iterdir())) == 1
    assert main([*args, "--out", str(tmp_path / "b")]) == 0
    a = pd.read_csv(tmp_path / "a" / "coverage.csv")
    b = pd.read_csv(tmp_path / "b" / "coverage.csv")
    pd.testing.assert_frame_equal(a, b)
    summary = json.loads((tmp_path / "a" / "summary.json").read_text(encoding="utf-8"))
    assert summary["assumed_density"] is True
    assert any("ASSUMED" in w["message"] for w in summary["warnings"])
    assert summary["network"]["disconnected_nodes"] > 0
    # OSM alone has no day-care centre: the day-care indicators say so, never 0 % or 未达标
    ind = pd.read_csv(tmp_path / "a" / "indicators.csv").set_index("id")
    for rid in ("cd.daycare_coverage", "cd.daycare_area"):
        assert ind.loc[rid, "value"] == ("not evaluable: no day_care in the inputs "
                                         "(give a facility register)")
        assert pd.isna(ind.loc[rid, "met"])
    out = capsys.readouterr().out
    lines = [x for x in out.splitlines() if "not evaluable: no" in x]
    assert len(lines) == 2 and "day_care" in lines[0]  # one line per run (two runs)


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "api.cli", *args], capture_output=True,
                          text=True, check=False, cwd=Path(__file__).resolve().parents[3])


@pytest.mark.parametrize(("args", "needle"), [
    (["analyze", "--osm", "missing.osm.pbf"], "missing.osm.pbf not found"),
    (["analyze", "--osm", "README.md"], "not an OSM file"),
    (["analyze", "--osm", "x.osm", "--bbox", "1,2,3"], "--bbox '1,2,3'"),
    (["demo", "--speed-m-s", "-1"], "speed_m_s=-1.0"),
    (["demo", "--rules", "atlantis"], "atlantis"),
])
def test_bad_input_one_line_error_nothing_written(tmp_path: Path, args: list[str], needle: str) -> None:
    out = tmp_path / "out"
    proc = run_cli(*args, "--out", str(out))
    assert proc.returncode == 1, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("careplan: error:") and needle in lines[0]
    assert not out.exists()


def test_usage_error_exit_2() -> None:
    assert run_cli("analyze").returncode == 2


def test_analyze_gbk_register_gcj02_reports_bad_rows(chengdu_osm: Path, tmp_path: Path) -> None:
    """A GBK register with Chinese headers in GCJ-02: converted, used, bad rows listed per row."""
    from planner.network.coords import wgs84_to_gcj02

    lon, lat = np.array([104.065, 104.08]), np.array([30.66, 30.68])
    glon, glat = wgs84_to_gcj02(lon, lat)
    rows = ["名称,类型,经度,纬度,日供餐能力",
            f"锦江日照中心,日照中心,{glon[0]},{glat[0]},",
            f"长者食堂一号,长者食堂,{glon[1]},{glat[1]},150",
            "无坐标点,助餐点,,,",
            f"神秘设施,火星基地,{glon[1]},{glat[1]},"]
    register = tmp_path / "register.csv"
    register.write_bytes("\n".join(rows).encode("gbk"))
    out = tmp_path / "run"
    assert main(["analyze", "--osm", str(chengdu_osm), "--facilities", str(register),
                 "--coords", "gcj02", "--rules", "chengdu", "--no-cache", "--out", str(out)]) == 0
    problems = pd.read_csv(out / "input_problems.csv")
    assert sorted(problems["row"]) == [4, 5]
    assert problems["value"].astype(str).str.contains("火星基地").any()
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["input_files"]["facilities"]["encoding"].lower() in {"gbk", "gb18030"}
    assert summary["facilities"]["day_care"] == 1 and summary["facilities"]["meal_point"] == 1
    fac = gpd.read_file(out / "careplan.gpkg", layer="facilities")
    day = fac[fac["type"] == "day_care"].geometry.iloc[0]
    # back in WGS-84: within a metre of the original point (GCJ-02 shifts ~500 m here)
    assert abs(day.x - 104.065) < 1e-5 and abs(day.y - 30.66) < 1e-5
    assert summary["rules_profile"] == "chengdu"
    assert (out / "indicators.csv").is_file()
