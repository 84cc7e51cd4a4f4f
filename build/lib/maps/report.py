"""Render the self-contained HTML gap report (Jinja2 + embedded PNG figures) and its PDF."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
from jinja2 import Environment, FileSystemLoader, select_autoescape

from maps.report_figures import bar_chart, type_map
from planner.report.tables import ReportTables
from planner.report.text import header, pick

TEMPLATES = Path(__file__).parent / "templates"
SECTIONS = ("maps", "charts", "indicators", "gaps", "parameters", "manifest")
TEXT = {
    "title": ("养老服务设施覆盖与缺口报告", "Elderly-care coverage and gap report"),
    "maps": ("设施覆盖地图", "Maps by facility type"), "charts": ("图表", "Charts"),
    "indicators": ("规划指标", "Plan indicators"), "gaps": ("缺口清单", "Gap list"),
    "parameters": ("参数与数据来源", "Parameters and data sources"),
    "manifest": ("报告清单", "Manifest"),
    "by_area": ("按街道/乡镇的覆盖率", "Coverage by street/town"),
    "by_unit": ("按社区/村的覆盖率", "Coverage by unit"),
    "bands": ("老年人步行时间分布", "Older adults by walking time to the nearest facility"),
    "before_after": ("选址前后覆盖率", "Covered share before/after"),
}


def _html_table(frame: pd.DataFrame, lang: str, limit: int | None = None) -> str:
    shown = frame.head(limit) if limit else frame
    shown = shown.rename(columns={c: header(str(c), lang) for c in shown.columns})
    html: str = shown.to_html(
        index=False, border=0, classes="tbl", na_rep="",
        float_format=lambda v: f"{v:,.3g}" if abs(v) < 1 else f"{v:,.1f}")
    return html


def _maps(tables: ReportTables, layers: Mapping[str, gpd.GeoDataFrame],
          summary: Mapping[str, Any], labels: Mapping[str, tuple[str, str]]
          ) -> list[dict[str, str]]:
    threshold = float((summary.get("settlement_threshold_min") or {}).get("urban", 15.0))
    types = [t for t in labels if t in set(layers["facilities"]["type"])]
    return [{"title": pick(labels[t], tables.lang),
             "png": type_map(layers, t, f"{pick(labels[t], tables.lang)} ({threshold:g} min)",
                             threshold)} for t in types]


def _charts(tables: ReportTables) -> list[dict[str, str]]:
    lang = tables.lang
    has_parent = tables.coverage["parent_name"].fillna("").astype(str).ne("").any()
    charts = [{"title": pick(TEXT["by_area" if has_parent else "by_unit"], lang),
               "png": bar_chart(tables.by_area, "area", "covered_share", "type_label",
                                pick(TEXT["by_area" if has_parent else "by_unit"], lang),
                                percent=True)}]
    if tables.time_bands is not None:
        charts.append({"title": pick(TEXT["bands"], lang),
                       "png": bar_chart(tables.time_bands, "band", "pop", "facility_type",
                                        pick(TEXT["bands"], lang))})
    if tables.before_after is not None:
        frame = tables.before_after.assign(what="share")
        charts.append({"title": pick(TEXT["before_after"], lang),
                       "png": bar_chart(frame, "state", "covered_share", "what",
                                        pick(TEXT["before_after"], lang), percent=True)})
    return charts


def render_html(tables: ReportTables, layers: Mapping[str, gpd.GeoDataFrame],
                summary: Mapping[str, Any], labels: Mapping[str, tuple[str, str]]) -> str:
    """The whole report as one self-contained HTML page (figures embedded as base64 PNG)."""
    lang = tables.lang
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["j2"]))
    manifest = tables.manifest
    return env.get_template("report.html.j2").render(
        lang=lang, text={k: pick(v, lang) for k, v in TEXT.items()}, tables=tables,
        label=manifest.get("label") or "", maps=_maps(tables, layers, summary, labels),
        charts=_charts(tables),
        indicators=None if tables.indicators is None else _html_table(tables.indicators, lang),
        gaps=_html_table(tables.gaps.drop(columns=["facility_type", "reason", "action"]), lang),
        parameters=json.dumps(manifest["parameters"], ensure_ascii=False, indent=1),
        sources=manifest["sources"], files=manifest["input_files"],
        manifest_json=json.dumps({k: v for k, v in manifest.items() if k != "input_files"},
                                 ensure_ascii=False, indent=1, default=str),
        warnings=manifest.get("warnings") or [], sections=SECTIONS)


def render_pdf(html: str) -> bytes:
    """PDF of the report HTML via WeasyPrint (CJK text needs fonts-noto-cjk installed)."""
    from weasyprint import HTML

    return bytes(HTML(string=html).write_pdf())
