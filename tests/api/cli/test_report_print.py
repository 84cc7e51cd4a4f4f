"""The printed report read as a planner reads it: page 1 figures, full pages, Word tables.

Run on the demo and on a real register run on the Chengdu extract (polygon units with streets).
"""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from api.cli.main import main
from planner.report.indicators import normalize_indicators
from planner.report.summary import PAGE_ONE_INDICATORS, page_one_indicators
from planner.report.text import header

pypdf = pytest.importorskip("pypdf")
docx = pytest.importorskip("docx")

BBOX = "104.0421,30.6528,104.1296,30.7279"
STREETS = ("春熙路街道", "书院街街道", "合江亭街道")
NAMES = ("东门", "西门", "北门", "南门", "锦官", "芙蓉", "青石", "玉带", "红星", "水井", "盐市",
         "太升")


@pytest.fixture(scope="module")
def chengdu_report(chengdu_osm: Path, tmp_path_factory: pytest.TempPathFactory
                   ) -> tuple[Path, Path]:
    """A register of 17 facilities and 12 polygon communities in three streets of central
    Chengdu, analysed on the real OSM extract, reported in every format."""
    root = tmp_path_factory.mktemp("chengdu")
    w, s, e, n = map(float, BBOX.split(","))
    feats = []
    for k in range(12):
        i, j = k % 4, k // 4
        x0, x1 = w + (e - w) * i / 4, w + (e - w) * (i + 1) / 4
        y0, y1 = s + (n - s) * j / 3, s + (n - s) * (j + 1) / 3
        feats.append({"type": "Feature", "properties": {
            "unit_id": f"510104{k:03d}", "名称": NAMES[k] + "社区", "所属街道": STREETS[j],
            "老年人口": 800 + 137 * k}, "geometry": {"type": "Polygon", "coordinates": [
                [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}})
    (root / "units.geojson").write_text(json.dumps(
        {"type": "FeatureCollection", "features": feats}, ensure_ascii=False), encoding="utf-8")
    rng = np.random.default_rng(3)
    kinds = ["day_care"] * 5 + ["meal_point"] * 5 + ["community_complex"] * 2 + [
        "service_station"] * 3 + ["nursing_home"] * 2
    lines = ["名称,类型,经度,纬度"] + [
        f"锦江{k + 1}号{t},{t},{w + (e - w) * (0.08 + 0.84 * a):.5f},"
        f"{s + (n - s) * (0.08 + 0.84 * b):.5f}"
        for k, (t, a, b) in enumerate(zip(kinds, rng.random(17), rng.random(17), strict=True))]
    (root / "register.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    run = root / "run"
    assert main(["analyze", "--osm", str(chengdu_osm), "--facilities", str(root / "register.csv"),
                 "--units", str(root / "units.geojson"), "--bbox", BBOX, "--no-cache",
                 "--rules", "chengdu", "--out", str(run)]) == 0  # day-care and meal point
    out = root / "report"
    assert main(["report", str(run), "--out", str(out), "--formats", "pdf,docx"]) == 0
    return run, out


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def check_page_one(run_dir: Path, pdf: Path) -> None:
    """Page 1 carries the headline figures as computed from coverage.csv, gaps.csv, indicators."""
    text = _squash(pypdf.PdfReader(pdf).pages[0].extract_text())
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    cov = pd.read_csv(run_dir / "coverage.csv", encoding="utf-8-sig", dtype={"unit_id": str})
    gaps = pd.read_csv(run_dir / "gaps.csv", encoding="utf-8-sig", dtype={"unit_id": str})
    assert "摘要" in text
    for ftype in summary["required_types"]:
        part = cov[cov["facility_type"] == ftype]
        share = part["covered_pop"].sum() / part["older_pop"].sum()
        uncovered = part["older_pop"].sum() - part["covered_pop"].sum()
        assert f"{share * 100:.1f}%" in text, (ftype, share)
        assert f"{uncovered:,.0f}" in text, (ftype, uncovered)
    assert f"共{gaps['unit_id'].nunique()}个社区/村存在服务缺口" in text
    for name in gaps.sort_values("uncovered_pop", ascending=False)["unit_name"].head(3):
        assert name in text
    ind = normalize_indicators(pd.read_csv(run_dir / "indicators.csv", encoding="utf-8-sig"),
                               "zh")
    shown = page_one_indicators(ind)
    assert shown is not None and len(shown) == min(len(ind), PAGE_ONE_INDICATORS)
    for row in shown.itertuples():
        assert _squash(row.indicator) in text, row.indicator
        if not math.isnan(row.target) and not math.isnan(row.computed):
            assert f"{row.computed * 100:.1f}%" in text, row.indicator
    if summary.get("synthetic"):
        assert "合成演示数据" in text


def _section_starts(reader: object) -> set[int]:
    """Pages where the title (h1) or a section (h2 / a map-sheet group) begins; h3 excluded."""
    pages: set[int] = set()

    def walk(items: list[object], depth: int) -> None:
        for item in items:
            if isinstance(item, list):
                if depth < 1:
                    walk(item, depth + 1)
            else:
                pages.add(reader.get_destination_page_number(item))  # type: ignore[attr-defined]

    walk(reader.outline, 0)  # type: ignore[attr-defined]
    return pages


def check_pages_full(pdf: Path, tmp: Path) -> None:
    """No page is more than half empty (ink reaches past half the page height, the footer
    excluded) except the last page of a section; a map sheet is filled top to bottom."""
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm not installed (Debian package poppler-utils)")
    from PIL import Image

    reader = pypdf.PdfReader(pdf)
    n = len(reader.pages)
    starts = _section_starts(reader)
    assert {0, 1} <= starts and len(starts) >= 5  # summary, maps, ... each opens a section
    last_of_section = {p - 1 for p in starts if p > 0} | {n - 1}
    subprocess.run(["pdftoppm", "-r", "24", "-gray", "-png", str(pdf), str(tmp / "pg")],
                   check=True)
    renders = sorted(tmp.glob("pg-*.png"))
    assert len(renders) == n
    for k, png in enumerate(renders):
        ink = np.asarray(Image.open(png).convert("L")) < 200
        body = ink[: int(ink.shape[0] * 0.93)]
        rows = np.flatnonzero(body.any(axis=1))
        reach = (rows[-1] + 1) / ink.shape[0] if len(rows) else 0.0
        landscape = ink.shape[1] > ink.shape[0]
        if k not in last_of_section:
            assert reach > 0.5, f"page {k + 1} of {n} is more than half empty ({reach:.0%})"
        if landscape and k in range(1, min(starts - {0, 1}, default=n)):
            assert reach > 0.85 and rows[0] < 0.1 * ink.shape[0], f"map sheet {k + 1}"


def check_docx_indicators(run_dir: Path, path: Path) -> None:
    """The Word report's indicator table equals indicators.csv (percent cells parsed back)."""
    doc = docx.Document(str(path))
    heads = [header(k, "zh") for k in ("indicator", "baseline", "target", "computed", "met")]
    table = next(t for t in doc.tables
                 if set(heads) <= {c.text for c in t.rows[0].cells})
    got = pd.DataFrame([[c.text for c in r.cells] for r in table.rows[1:]],
                       columns=[c.text for c in table.rows[0].cells])
    ind = normalize_indicators(pd.read_csv(run_dir / "indicators.csv", encoding="utf-8-sig"),
                               "zh")
    assert got[heads[0]].tolist() == ind["indicator"].tolist()

    def number(cell: str) -> float:
        if not re.fullmatch(r"[\d,.]+%?", cell):
            return math.nan
        value = float(cell.rstrip("%").replace(",", ""))
        return value / 100 if cell.endswith("%") else value

    for key in ("target", "computed"):
        np.testing.assert_allclose(got[header(key, "zh")].map(number), ind[key], atol=5e-4,
                                   equal_nan=True)
    met = {True: "达标", False: "未达标", None: "—"}
    assert got[heads[4]].tolist() == [met[m] for m in ind["met"]]
    assert len(doc.inline_shapes) >= 2  # map sheets
    fonts = doc.styles["Normal"].element.rPr.rFonts
    assert fonts.get("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}eastAsia")


def test_demo_page_one(run_dir: Path, report_dir: Path) -> None:
    check_page_one(run_dir, report_dir / "report.pdf")


def test_demo_pages_are_full(report_dir: Path, tmp_path: Path) -> None:
    check_pages_full(report_dir / "report.pdf", tmp_path)


def test_demo_docx_indicator_table(run_dir: Path, report_dir: Path) -> None:
    check_docx_indicators(run_dir, report_dir / "report.docx")


def test_chengdu_register_report(chengdu_report: tuple[Path, Path], tmp_path: Path) -> None:
    run, out = chengdu_report
    check_page_one(run, out / "report.pdf")
    check_docx_indicators(run, out / "report.docx")
    check_pages_full(out / "report.pdf", tmp_path)
    text = pypdf.PdfReader(out / "report.pdf").pages[1].extract_text()
    assert "日间照料中心" in text or len(text) < 200  # the sheet is an image; its title is drawn
