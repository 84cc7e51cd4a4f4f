"""careplan report on a real demo run: workbook values, GeoPackage layers, HTML sections, PDF fonts."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import pytest
from openpyxl import load_workbook

from api.cli.main import main
from planner.errors import InputDataError
from planner.io.report_inputs import load_run
from planner.report.indicators import normalize_indicators
from planner.report.text import SHEETS, header


def _sheet_frame(path: Path, sheet: str) -> pd.DataFrame:
    ws = load_workbook(path, read_only=True)[sheet]
    rows = list(ws.iter_rows(values_only=True))
    return pd.DataFrame(rows[1:], columns=rows[0])


def test_workbook_coverage_equals_csv(run_dir: Path, report_dir: Path) -> None:
    cov = pd.read_csv(run_dir / "coverage.csv", encoding="utf-8-sig", dtype={"unit_id": str})
    got = _sheet_frame(report_dir / "report.xlsx", SHEETS["coverage"][0])
    assert len(got) == len(cov)
    for col in ("older_pop", "covered_pop", "covered_share", "median_time_min"):
        np.testing.assert_allclose(got[header(col, "zh")].astype(float), cov[col], equal_nan=True)
    assert got[header("unit_id", "zh")].tolist() == cov["unit_id"].tolist()


def test_workbook_gaps_equal_csv(run_dir: Path, report_dir: Path) -> None:
    gaps = pd.read_csv(run_dir / "gaps.csv", encoding="utf-8-sig", dtype={"unit_id": str})
    got = _sheet_frame(report_dir / "report.xlsx", SHEETS["gaps"][0])
    assert got[header("rank", "zh")].tolist() == gaps["rank"].tolist()
    np.testing.assert_allclose(got[header("uncovered_pop", "zh")].astype(float),
                               gaps["uncovered_pop"])
    actions = set(got[header("action", "zh")])
    assert actions <= {"new_facility", "enlarge", "co_locate", "improve_access"}
    assert got[header("action_label", "zh")].str.len().min() > 0


def test_workbook_layout(report_dir: Path) -> None:
    wb = load_workbook(report_dir / "report.xlsx")
    assert wb.sheetnames[:4] == [SHEETS[k][0] for k in ("summary", "coverage", "gaps", "facilities")]
    ws = wb[SHEETS["gaps"][0]]
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref.startswith("A1:")
    share_col = [c.value for c in ws[1]].index(header("covered_share", "zh")) + 1
    assert ws.cell(row=2, column=share_col).number_format == "0.0%"


def test_summary_sheet_equals_indicators_csv(run_dir: Path, report_dir: Path) -> None:
    raw = pd.read_csv(run_dir / "indicators.csv", encoding="utf-8-sig")
    ind = normalize_indicators(raw, "zh")
    ws = load_workbook(report_dir / "report.xlsx", read_only=True)[SHEETS["summary"][0]]
    rows = list(ws.iter_rows(min_row=4, values_only=True))
    got = pd.DataFrame(rows[1:], columns=rows[0])
    assert got[header("indicator", "zh")].tolist() == raw["label_zh"].tolist()
    assert got[header("definition", "zh")].tolist() == raw["definition"].tolist()
    numeric = ind["computed"].notna()
    np.testing.assert_allclose(got[header("computed", "zh")][numeric].astype(float),
                               ind["computed"][numeric])
    assert got[header("value_text", "zh")][~numeric].tolist() == raw["value"][~numeric].tolist()


def test_without_rules_says_not_evaluated(run_dir: Path, tmp_path: Path) -> None:
    bare = tmp_path / "run"
    shutil.copytree(run_dir, bare)
    (bare / "indicators.csv").unlink(missing_ok=True)
    out = tmp_path / "rep"
    assert main(["report", str(bare), "--out", str(out), "--formats", "xlsx,html"]) == 0
    ws = load_workbook(out / "report.xlsx", read_only=True)[SHEETS["summary"][0]]
    assert "未评估" in str(next(ws.iter_rows(min_row=4, max_row=4, values_only=True))[0])
    assert "--rules" in (out / "report.html").read_text(encoding="utf-8")


def test_english_headers(run_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "en"
    assert main(["report", str(run_dir), "--out", str(out), "--lang", "en",
                 "--formats", "xlsx"]) == 0
    got = _sheet_frame(out / "report.xlsx", SHEETS["gaps"][1])
    assert "Uncovered older adults" in got.columns
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json", "report.xlsx"]


def test_geopackage_layers_with_ogrinfo(run_dir: Path, report_dir: Path) -> None:
    if shutil.which("ogrinfo") is None:
        pytest.skip("ogrinfo not installed (Debian package gdal-bin)")
    gpkg = report_dir / "report.gpkg"
    text = subprocess.run(["ogrinfo", "-so", "-al", str(gpkg)], check=True,
                          capture_output=True, text=True).stdout
    counts = {}
    for block in text.split("Layer name: ")[1:]:
        name = block.split("\n", 1)[0].strip()
        counts[name] = int(block.split("Feature Count: ")[1].split("\n", 1)[0])
    run = load_run(run_dir)
    assert counts["units"] == len(run.layers["units"])
    assert counts["facilities"] == len(run.layers["facilities"])
    assert counts["gaps"] == len(pd.read_csv(run_dir / "gaps.csv"))
    assert counts["catchments_dissolved"] == len(run.layers["catchments_dissolved"])
    assert counts["manifest"] > 0
    assert {"units", "gaps", "facilities", "catchments_dissolved", "manifest"} <= set(
        str(r[0]) for r in pyogrio.list_layers(gpkg))


def test_html_has_every_section(report_dir: Path) -> None:
    html = (report_dir / "report.html").read_text(encoding="utf-8")
    for section in ("summary", "maps", "indicators", "areas", "gaps", "appendix"):
        assert f'<section id="{section}"' in html
    assert 'id="synthetic-label"' in html and "合成演示数据" in html
    assert html.count("data:image/png;base64,") >= 2  # a map sheet per required type
    assert "{" not in html.split("<section", 1)[1].split("</section>")[0]  # no JSON on page 1
    assert "http://" not in html.replace("http://www.w3.org", "")  # self-contained


def test_manifest(run_dir: Path, report_dir: Path) -> None:
    manifest = json.loads((report_dir / "manifest.json").read_text(encoding="utf-8"))
    assert set(manifest["input_files"]) >= {"summary.json", "coverage.csv", "careplan.gpkg"}
    assert all(len(d) == 64 for d in manifest["input_files"].values())
    assert manifest["software"]["name"] == "careplan"
    assert manifest["rule_profile"] == "national"
    assert manifest["parameters"]["walk_speed_m_s"] > 0


def test_pdf_uses_cjk_font_and_is_not_blank(report_dir: Path, tmp_path: Path) -> None:
    pypdf = pytest.importorskip("pypdf")
    reader = pypdf.PdfReader(report_dir / "report.pdf")
    fonts = set()
    for page in reader.pages[:2]:
        for font in (page["/Resources"].get_object().get("/Font") or {}).values():
            fonts.add(str(font.get_object()["/BaseFont"]))
    assert any("CJK" in f or "Noto" in f for f in fonts), fonts
    n = len(reader.pages)
    assert n >= 2
    for k in (0, n - 1):  # every page is numbered "k / n" in its footer
        assert f"{k + 1} / {n}" in reader.pages[k].extract_text()
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm not installed (Debian package poppler-utils)")
    subprocess.run(["pdftoppm", "-r", "40", "-f", "1", "-l", "1", "-gray", "-png",
                    str(report_dir / "report.pdf"), str(tmp_path / "p")], check=True)
    png = next(tmp_path.glob("p*.png"))
    from PIL import Image

    pixels = np.asarray(Image.open(png))
    assert (pixels < 200).mean() > 0.005  # ink on the page


def test_missing_summary_is_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(InputDataError, match="no summary.json"):
        load_run(tmp_path)
    assert main(["report", str(tmp_path), "--out", str(tmp_path / "o")]) == 1
    assert not (tmp_path / "o").exists()


def test_report_on_chengdu_register_with_point_units(chengdu_osm: Path, tmp_path: Path) -> None:
    """Real data: a Chinese-header register and point units (no boundaries, so facilities carry no
    unit) used to crash the gap table with KeyError 'unit_id'. Every format is written, and the
    workbook's gap rows are the run's gaps."""
    (tmp_path / "register.csv").write_text(
        "名称,类型,经度,纬度\n锦江日照,day_care,104.065,30.66\n青羊日照,day_care,104.08,30.70\n"
        "春熙助餐点,meal_point,104.078,30.657\n", encoding="utf-8")
    (tmp_path / "units.csv").write_text(
        "社区名称,unit_id,经度,纬度,老年人口\n东门社区,U1,104.07,30.665,900\n"
        "西门社区,U2,104.05,30.69,700\n北门社区,U3,104.10,30.72,1200\n", encoding="utf-8")
    run = tmp_path / "run"
    assert main(["analyze", "--osm", str(chengdu_osm), "--facilities",
                 str(tmp_path / "register.csv"), "--units", str(tmp_path / "units.csv"),
                 "--bbox", "104.0421,30.6528,104.1296,30.7279", "--no-cache",
                 "--out", str(run)]) == 0
    out = tmp_path / "report"
    assert main(["report", str(run), "--out", str(out)]) == 0
    for name in ("report.xlsx", "report.gpkg", "report.html", "report.pdf"):
        assert (out / name).stat().st_size > 1000, name
    gaps = pd.read_csv(run / "gaps.csv", encoding="utf-8-sig")
    sheet = pd.read_excel(out / "report.xlsx", sheet_name=None)
    assert len(gaps) > 0
    assert any(len(frame) == len(gaps) for frame in sheet.values())
