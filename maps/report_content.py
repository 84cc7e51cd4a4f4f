"""What the printed report shows, shared by the HTML/PDF and the Word renderers.

:func:`build_content` turns the report tables into texts, printed tables (strings) and map-sheet
images, so that the PDF and the ``.docx`` carry the same sections and figures.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

import geopandas as gpd
import pandas as pd

from maps.report_sheets import SheetSpec, project_layers, sheet_png
from planner.report.indicators import fmt_int
from planner.report.summary import area_paper, gap_paper, indicator_paper, parameter_rows
from planner.report.tables import ReportTables
from planner.report.text import pick

TEXT: Mapping[str, tuple[str, str]] = {
    "title": ("养老服务设施覆盖与缺口评估报告", "Elderly-care coverage and gap assessment"),
    "summary": ("摘要", "Summary"), "maps": ("设施覆盖图", "Map sheets"),
    "indicators": ("规划指标评估", "Plan indicators"),
    "areas": ("分街道/乡镇汇总", "Summary by street/town"), "units": ("分社区/村汇总",
                                                                "Summary by community/village"),
    "gaps": ("缺口清单", "Gap list"), "appendix": ("附录：参数与数据来源",
                                                "Appendix: parameters and data sources"),
    "files": ("输入文件校验", "Input file checksums"),
    "warnings": ("数据质量提示", "Data warnings"),
    "study_area": ("研究范围", "Study area"), "date": ("报告日期", "Date"),
    "sources": ("数据来源", "Data sources"), "profile": ("规划指标配置", "Rule profile"),
    "headline": ("各类必配设施服务圈覆盖", "Required facilities: older adults within the circle"),
    "plan": ("规划指标", "Plan indicators"), "largest": ("缺口最大的社区/村", "Largest gaps"),
    "siting": ("选址建议", "Siting proposal"), "no_gaps": ("无缺口。", "No gaps."),
    "gap_count": ("共 {units} 个社区/村存在服务缺口（{rows} 项），详见缺口清单。",
                  "{units} communities/villages have a gap ({rows} gap rows); see the gap list."),
    "assumed": ("未提供社区人口：老年人口为按密度假设的估计值", "ASSUMED older-adult counts"),
    "sheet_title": ("{type} {t:g}分钟步行圈覆盖与服务缺口",
                    "{type}: {t:g}-minute walking circle, coverage and gaps"),
    "footer": ("数据来源：{src}\n日期：{date}", "Data: {src}\nDate: {date}"),
}
HEADLINE_HEADERS: Mapping[str, tuple[str, str]] = {
    "gap_units": ("缺口社区/村数", "Units in gap"), "met": ("是否达标", "Met?"),
    "threshold_min": ("服务圈(分钟)", "Circle (min)")}
#: Columns printed right-aligned.
NUMERIC = {"older_pop", "covered_pop", "uncovered_pop", "covered_share", "target_share",
           "baseline", "target", "computed", "rank", "threshold_min", "gap_units", "target_year"}


@dataclass(frozen=True)
class Table:
    """A printed table: column keys, header texts and rows of text."""

    keys: list[str]
    headers: list[str]
    rows: list[list[str]]

    @property
    def numeric(self) -> list[bool]:
        """Whether each column is right-aligned."""
        return [k in NUMERIC for k in self.keys]


@dataclass(frozen=True)
class Sheet:
    """A rendered map sheet."""

    title: str
    png: bytes

    @property
    def b64(self) -> str:
        """The PNG as base64 for a data: URL."""
        return base64.b64encode(self.png).decode("ascii")


@dataclass
class Content:
    """Every section of the printed report, in order."""

    lang: str
    text: dict[str, str]
    meta: list[tuple[str, str]]
    flags: list[str]
    headline: Table
    plan: Table | None
    gap_sentence: str
    top_gaps: list[str]
    siting: str
    sheets: list[Sheet]
    indicators: Table | None
    indicators_note: str
    areas: list[tuple[str, Table]]
    gaps: Table
    parameters: Table
    warnings: list[str]
    files: Table
    extra: dict[str, Any] = field(default_factory=dict)


def to_table(frame: pd.DataFrame, lang: str) -> Table:
    """A text frame as a :class:`Table` with translated headers."""
    from planner.report.text import header

    keys = [str(c) for c in frame.columns]
    heads = [pick(HEADLINE_HEADERS[k], lang) if k in HEADLINE_HEADERS else header(k, lang)
             for k in keys]
    rows = [["" if v is None else str(v) for v in row] for row in frame.itertuples(index=False)]
    return Table(keys, heads, rows)


def sheet_specs(tables: ReportTables, summary: Mapping[str, Any],
                labels: Mapping[str, tuple[str, str]], footer: str, paper: str
                ) -> list[SheetSpec]:
    """One sheet per required type (else every covered type) and walking threshold in use."""
    cov = tables.coverage
    required = [t for t in summary.get("required_types") or [] if t in set(cov["facility_type"])]
    types = required or sorted(set(cov["facility_type"]))
    lang, out = tables.lang, []
    for ftype in types:
        label = pick(labels.get(ftype, (ftype, ftype)), lang)
        for t in sorted(set(cov.loc[cov["facility_type"] == ftype, "threshold_min"])):
            out.append(SheetSpec(ftype, float(t), pick(TEXT["sheet_title"], lang).format(
                type=label, t=t), label, float(summary.get("target_share") or 0.8), lang,
                footer, paper))
    return out


def _areas(tables: ReportTables) -> list[tuple[str, Table]]:
    out = []
    for label, part in area_paper(tables.by_area).groupby("type_label", sort=False):
        out.append((str(label), to_table(part.drop(columns="type_label"), tables.lang)))
    return out


def _files(manifest: Mapping[str, Any], lang: str) -> Table:
    frame = pd.DataFrame([{"name": k, "value": v} for k, v in
                          (manifest.get("input_files") or {}).items()], columns=["name", "value"])
    return to_table(frame.rename(columns={"name": "key"}), lang)


def source_text(sources: Mapping[str, Any]) -> str:
    """Data sources for print: file names without folders or checksums, other entries as given.

    >>> source_text({"../data/osm/chengdu.osm": "dc4f" * 16, "synthetic": "district seed=7"})
    'chengdu.osm; synthetic: district seed=7'
    """
    parts = []
    for key, value in sources.items():
        text = str(value)
        if re.fullmatch(r"[0-9a-f]{64}", text):
            parts.append(PurePath(str(key)).name)
        else:
            parts.append(f"{key}: {text}")
    return "; ".join(parts) or "—"


def build_content(tables: ReportTables, layers: Mapping[str, gpd.GeoDataFrame],
                  summary: Mapping[str, Any], labels: Mapping[str, tuple[str, str]], *,
                  paper: str = "a4") -> Content:
    """Texts, tables and map sheets of the report (sheets rendered at print resolution)."""
    lang, man, s = tables.lang, tables.manifest, tables.summary
    text = {k: pick(v, lang) for k, v in TEXT.items()}
    date = str(man.get("report_time") or "")[:10]
    sources = source_text(man.get("sources") or {})
    meta = [(text["study_area"], str(man.get("label") or "—")), (text["date"], date),
            (text["sources"], sources)]
    if man.get("rule_profile"):
        meta.append((text["profile"], str(man["rule_profile"])))
    flags = ([tables.synthetic_label] if tables.synthetic else []) + (
        [text["assumed"]] if summary.get("assumed_density") else [])
    footer = text["footer"].format(src=sources if len(sources) < 90 else sources[:87] + "…",
                                   date=date)
    specs = sheet_specs(tables, summary, labels, footer, paper)
    projected = project_layers(layers) if specs else {}
    gaps = tables.gaps
    sentence = text["gap_count"].format(units=fmt_int(s.gap_units), rows=fmt_int(len(gaps))) \
        if len(gaps) else text["no_gaps"]
    return Content(
        lang=lang, text=text, meta=meta, flags=flags, headline=to_table(s.headline, lang),
        plan=None if s.indicators is None else to_table(s.indicators, lang),
        gap_sentence=sentence, top_gaps=s.top_gaps, siting=s.siting,
        sheets=[Sheet(spec.title, sheet_png(projected, spec)) for spec in specs],
        indicators=None if tables.indicators is None else to_table(
            indicator_paper(tables.indicators, lang), lang),
        indicators_note=tables.indicators_note, areas=_areas(tables),
        gaps=to_table(gap_paper(gaps, tables.coverage), lang),
        parameters=to_table(parameter_rows(man, lang), lang),
        warnings=[str(w.get("message", w)) if isinstance(w, Mapping) else str(w)
                  for w in man.get("warnings") or []],
        files=_files(man, lang),
        extra={"by_unit": not tables.coverage["parent_name"].fillna("").astype(str).ne("").any()})
