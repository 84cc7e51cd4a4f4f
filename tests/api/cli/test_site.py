"""`careplan site` / `careplan whatif` on demo and analyze runs: outputs, exact rebuild, errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from api.cli.main import main


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sdemo") / "run"
    assert main(["demo", "--out", str(out), "--nodes", "2000"]) == 0
    return out


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "api.cli", *args], capture_output=True,
                          text=True, check=False, cwd=Path(__file__).resolve().parents[3])


def _check_site_outputs(out: Path, k: int | None = None) -> dict:
    siting = json.loads((out / "siting.json").read_text(encoding="utf-8"))
    for key in ("model", "status", "optimality_gap", "covered_gain", "sites"):
        assert key in siting
    sites = siting["sites"]
    assert [s["rank"] for s in sites] == list(range(1, len(sites) + 1))
    gains = [s["gain_pop"] for s in sites]
    assert all(a >= b - 1e-9 for a, b in zip(gains, gains[1:], strict=False))
    assert all("cost" in s for s in sites)
    if k is not None:
        assert len(sites) <= k
    geo = gpd.read_file(out / "sites.geojson")
    assert len(geo) == len(sites) and "cost" in geo.columns
    ba = pd.read_csv(out / "before_after.csv")
    assert (ba["after_pop"] >= ba["before_pop"] - 1e-9).all()
    return siting


@pytest.mark.parametrize("mode", [["--k", "2"], ["--cover"]])
def test_site_on_demo(demo_run: Path, tmp_path: Path, mode: list[str]) -> None:
    out = tmp_path / "site"
    assert main(["site", "--run", str(demo_run), "--type", "day_care", *mode,
                 "--out", str(out), "--time-limit-s", "10"]) == 0
    siting = _check_site_outputs(out, 2 if mode[0] == "--k" else None)
    if mode[0] == "--k":
        assert siting["model"].lower().startswith("m") and len(siting["sites"]) >= 1
        assert siting["covered_gain"] >= 0


def test_whatif_remove_equals_full_rerun(demo_run: Path, tmp_path: Path) -> None:
    import dataclasses

    from planner.io.rules import read_profile
    from planner.pipeline import run_plan
    from planner.schema import FACILITY_ID, FACILITY_TYPE
    from planner.synthetic.district import build_demo_district

    summary = json.loads((demo_run / "summary.json").read_text(encoding="utf-8"))
    fac = gpd.read_file(demo_run / "careplan.gpkg", layer="facilities")
    row = fac[fac["type"] == "day_care"].iloc[0]
    fid, ftype = str(row["facility_id"]), str(row["type"])
    out = tmp_path / "whatif"
    assert main(["whatif", "--run", str(demo_run), "--remove", fid, "--out", str(out)]) == 0
    change = pd.read_csv(next(out.glob("change_*.csv")), dtype={"unit_id": str})
    mine = change[change["facility_type"] == ftype]
    assert len(mine) > 0 and (mine["delta_pop"] <= 1e-9).all() and mine["delta_pop"].sum() < 0

    m = __import__("re").search(r"seed=(\d+)\s+target_nodes=(\d+)", summary["sources"]["synthetic"])
    inputs = build_demo_district(seed=int(m.group(1)), target_nodes=int(m.group(2)))
    dropped = inputs.facilities[inputs.facilities[FACILITY_ID].astype(str) != fid]
    assert len(dropped) == len(inputs.facilities) - 1
    params = read_profile(summary["rules_profile"]).plan_params()
    params = dataclasses.replace(params, coverage=dataclasses.replace(
        params.coverage, target_share=float(summary["target_share"])))
    full = run_plan(dataclasses.replace(inputs, facilities=dropped), params,
                    max_catchment_facilities=0)
    cov = full.coverage[full.coverage[FACILITY_TYPE if FACILITY_TYPE in full.coverage
                                      else "facility_type"] == ftype]
    merged = mine.merge(cov[["unit_id", "covered_pop"]].astype({"unit_id": str}), on="unit_id")
    assert len(merged) == len(mine)
    np.testing.assert_allclose(merged["covered_pop_after"], merged["covered_pop"], atol=1e-6)


def _register(path: Path) -> Path:
    path.write_text("name,type,lon,lat\n"
                    "Jinjiang day care,day_care,104.065,30.66\n"
                    "Qingyang day care,day_care,104.08,30.70\n", encoding="utf-8")
    return path


def test_analyze_then_site_chengdu(chengdu_osm: Path, tmp_path: Path) -> None:
    register = _register(tmp_path / "register.csv")
    run = tmp_path / "run"
    assert main(["analyze", "--osm", str(chengdu_osm), "--facilities", str(register),
                 "--bbox", "104.0421,30.6528,104.1296,30.7279", "--no-cache",
                 "--out", str(run)]) == 0
    summary = json.loads((run / "summary.json").read_text(encoding="utf-8"))
    assert summary["analyze_args"]["bbox"] == "104.0421,30.6528,104.1296,30.7279"
    assert summary["analyze_args"]["coords"] == "wgs84"
    out = tmp_path / "site"
    assert main(["site", "--run", str(run), "--type", "day_care", "--k", "1",
                 "--out", str(out), "--time-limit-s", "10"]) == 0
    siting = _check_site_outputs(out, 1)
    used = json.loads((out / "run_inputs.json").read_text(encoding="utf-8"))
    assert used["inputs"]["bbox"] == "104.0421,30.6528,104.1296,30.7279"
    assert len(siting["sites"]) == 1

    # the facilities file changes after the run: refused with a one-line error naming it
    register.write_text(register.read_text(encoding="utf-8") + "x,day_care,104.07,30.67\n",
                        encoding="utf-8")
    bad = tmp_path / "bad"
    proc = run_cli("site", "--run", str(run), "--type", "day_care", "--k", "1", "--out", str(bad))
    assert proc.returncode == 1, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("careplan: error:")
    assert str(register) in lines[0] and "changed" in lines[0]


def test_bad_type_one_line_error(demo_run: Path, tmp_path: Path) -> None:
    proc = run_cli("site", "--run", str(demo_run), "--type", "moon_base", "--k", "1",
                   "--out", str(tmp_path / "o"))
    assert proc.returncode == 1, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("careplan: error:") and "moon_base" in lines[0]


def test_street_candidates_prefer_residential() -> None:
    from planner.network.graph import build_walk_network
    from planner.params import WalkProfile
    from planner.siting.candidates import generate_candidates, street_node_mask
    from tests.conftest import UTM, grid_raw, square_lonlat

    raw = grid_raw(6, 6, 200.0)
    hw = np.where(np.arange(raw.edge_u.size) % 3 == 0, "residential", "primary")
    net = build_walk_network(raw, WalkProfile(speed_m_s=1.0), crs=UTM)
    units = gpd.GeoDataFrame({"unit_id": ["a", "b"]}, geometry=[
        square_lonlat(-10, -10, 510, 1010), square_lonlat(510, -10, 1010, 1010)],
        crs="EPSG:4326").to_crs(UTM)
    pref = street_node_mask(net.x_m.size, raw.edge_u, raw.edge_v, hw)
    cands = generate_candidates(net, units, preferred=pref, min_spacing_m=1.0, cost=2.5)
    nodes = {(round(x), round(y)) for x, y in zip(net.x_m[pref], net.y_m[pref], strict=True)}
    for unit, sub in cands.groupby("unit_id"):
        in_unit_pref = [(round(p.x), round(p.y)) in nodes for p in sub.geometry]
        assert all(in_unit_pref), unit
    assert (cands["cost"] == 2.5).all()
    none_pref = generate_candidates(net, units, preferred=np.zeros(net.x_m.size, bool),
                                    min_spacing_m=1.0)
    assert len(none_pref) == 36  # fallback: every main-part node
