"""Reports of a run together with a `careplan site` output: proposed sites and before/after."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import openpyxl
import pandas as pd

from api.cli.main import main


def test_report_includes_proposed_sites(run_dir: Path, tmp_path: Path) -> None:
    site_dir = tmp_path / "site"
    assert main(["site", "--run", str(run_dir), "--type", "day_care", "--k", "3",
                 "--out", str(site_dir)]) == 0
    sites = gpd.read_file(site_dir / "sites.geojson")
    before_after = pd.read_csv(site_dir / "before_after.csv")
    out = tmp_path / "report"
    assert main(["report", str(run_dir), "--siting", str(site_dir), "--out", str(out),
                 "--formats", "xlsx,html"]) == 0
    sheet = openpyxl.load_workbook(out / "report.xlsx")["建议选址"]
    assert sheet.max_row - 1 == len(sites) > 0
    html = (out / "report.html").read_text(encoding="utf-8")
    gain = before_after["after_pop"].sum() - before_after["before_pop"].sum()
    assert gain > 0
    summary = html.split('<section id="maps"')[0]  # page 1 states the proposal
    assert f"新增 {len(sites)} 处日间照料中心" in summary and f"新增 {gain:,.0f} 人" in summary
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert any(k.startswith("siting/") for k in manifest["input_files"])


def test_bad_siting_folder_one_line_error(run_dir: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "report"
    assert main(["report", str(run_dir), "--siting", str(tmp_path), "--out", str(out)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "siting.json" in err[0]
    assert not out.exists()
