"""Render the gap report as one self-contained HTML page (Jinja2, embedded PNG) and its PDF.

Page 1 is the summary (摘要); the map sheets follow on landscape pages (A4, or A3 with
``paper="a3"``); then the plan's indicator table, the per street/town tables, the gap list on
landscape pages with repeated header rows, and the parameters and sources as an appendix table.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
from jinja2 import Environment, FileSystemLoader, select_autoescape

from maps.report_content import Content, build_content
from maps.sheet_frame import PAPER_MM, SHEET_MARGIN_MM
from planner.report.tables import ReportTables

TEMPLATES = Path(__file__).parent / "templates"
#: Section ids of the HTML report, in order.
SECTIONS = ("summary", "maps", "indicators", "areas", "gaps", "appendix")


def render_content_html(content: Content, paper: str = "a4") -> str:
    """The report HTML of already built content (see :func:`maps.report_content.build_content`)."""
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["j2"]))
    width, height = PAPER_MM[paper]
    return env.get_template("report.html.j2").render(
        c=content, lang=content.lang, t=content.text, sections=SECTIONS,
        sheet_size=f"{width:g}mm {height:g}mm", sheet_margin=f"{SHEET_MARGIN_MM:g}mm",
        sheet_w=f"{width - 2 * SHEET_MARGIN_MM:g}mm",
        sheet_h=f"{height - 2 * SHEET_MARGIN_MM - 0.5:g}mm")


def render_html(tables: ReportTables, layers: Mapping[str, gpd.GeoDataFrame],
                summary: Mapping[str, Any], labels: Mapping[str, tuple[str, str]], *,
                paper: str = "a4") -> str:
    """The whole report as one self-contained HTML page (figures embedded as base64 PNG)."""
    return render_content_html(build_content(tables, layers, summary, labels, paper=paper), paper)


def render_pdf(html: str) -> bytes:
    """PDF of the report HTML via WeasyPrint (CJK text needs fonts-noto-cjk installed)."""
    from weasyprint import HTML

    return bytes(HTML(string=html).write_pdf())
