"""The report's first page (摘要) and its paper tables as formatted text; no I/O.

Every figure is computed from the run's ``coverage.csv``, ``gaps.csv`` and ``indicators.csv``
tables (see :mod:`planner.report.tables`) so that the page can be checked against them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from planner.report.indicators import (
    BINDING_LABELS,
    MET_LABELS,
    fmt_indicator_value,
    fmt_int,
    fmt_num,
    fmt_pct,
)
from planner.report.text import pick

#: How many of the largest gaps page 1 names.
TOP_GAPS = 5
PARAMETER_LABELS: Mapping[str, tuple[str, str]] = {
    "walk_preset": ("步行速度预设", "Walking-speed preset"),
    "walk_speed_m_s": ("步行速度(米/秒)", "Walking speed (m/s)"),
    "steps_factor": ("台阶耗时系数", "Steps time factor"),
    "thresholds_min": ("步行时间阈值(分钟)", "Walk-time thresholds (min)"),
    "settlement_threshold_min": ("服务圈时间(城市/农村,分钟)", "Circle time (urban/rural, min)"),
    "required_types": ("必配设施类型", "Required facility types"),
    "target_share": ("覆盖率目标", "Target covered share"),
    "max_snap_m": ("最大接入距离(米)", "Max snap distance (m)"),
    "rule_profile": ("规划指标配置", "Rule profile"),
    "rule_profile_version": ("指标配置版本", "Rule profile version"),
    "software": ("软件版本", "Software"), "report_time": ("报告生成时间", "Report time"),
}


@dataclass(frozen=True)
class Summary:
    """Headline figures of a run, already formatted for print.

    Attributes
    ----------
    headline
        One row per required type: type label, threshold, older adults, covered share, target,
        met, units in gap, uncovered older adults (all text).
    indicators
        The plan indicators: label, target, computed, met (text), or ``None``.
    gap_units, uncovered_pop
        Communities/villages with at least one gap; uncovered older adults summed over the gaps.
    top_gaps
        The largest gaps as sentences ("康桐社区 · 日间照料 · 1,376 名老年人未覆盖").
    siting
        What the siting run proposes, or ``""``.
    """

    headline: pd.DataFrame
    indicators: pd.DataFrame | None
    gap_units: int
    uncovered_pop: float
    top_gaps: list[str]
    siting: str


def headline_table(coverage: pd.DataFrame, gaps: pd.DataFrame, required: list[str],
                   target_share: float, lang: str) -> pd.DataFrame:
    """Per required type: the share of older adults within its circle against the target."""
    rows = []
    types = [t for t in required if t in set(coverage["facility_type"])] or sorted(
        set(coverage["facility_type"]))
    for ftype in types:
        cov = coverage[coverage["facility_type"] == ftype]
        older, covered = float(cov["older_pop"].sum()), float(cov["covered_pop"].sum())
        share = covered / older if older > 0 else float("nan")
        gap = gaps[gaps["facility_type"] == ftype]
        thresholds = "/".join(f"{t:g}" for t in sorted(set(cov["threshold_min"])))
        rows.append({"type_label": str(cov["type_label"].iat[0]), "threshold_min": thresholds,
                     "older_pop": fmt_int(older), "covered_share": fmt_pct(share),
                     "target_share": fmt_pct(target_share),
                     "met": pick(MET_LABELS[bool(share >= target_share)], lang),
                     "gap_units": fmt_int(gap["unit_id"].nunique()),
                     "uncovered_pop": fmt_int(older - covered)})
    return pd.DataFrame(rows)


def indicator_paper(indicators: pd.DataFrame | None, lang: str, *, full: bool = True
                    ) -> pd.DataFrame | None:
    """The plan's indicator table as text: baseline, target, year, binding, computed, met."""
    if indicators is None:
        return None
    out = pd.DataFrame({
        "indicator": indicators["indicator"],
        "baseline": [fmt_indicator_value(r, "baseline") for _, r in indicators.iterrows()],
        "target": [fmt_indicator_value(r, "target") for _, r in indicators.iterrows()],
        "target_year": indicators["target_year"],
        "binding": [pick(BINDING_LABELS[b], lang) for b in indicators["binding"]],
        "computed": [fmt_indicator_value(r, "computed") for _, r in indicators.iterrows()],
        "met": [pick(MET_LABELS[m], lang) for m in indicators["met"]]})
    return out if full else out[["indicator", "target", "computed", "met"]]


def gap_paper(gaps: pd.DataFrame, coverage: pd.DataFrame) -> pd.DataFrame:
    """The ranked gap list as printed text, with the street/town of each unit."""
    return pd.DataFrame({
        "rank": gaps["rank"].map(fmt_int), "parent_name": gaps_parent(gaps, coverage),
        "unit_name": gaps["unit_name"].astype(str), "type_label": gaps["type_label"],
        "threshold_min": gaps["threshold_min"].map(fmt_num),
        "older_pop": gaps["older_pop"].map(fmt_int),
        "covered_share": gaps["covered_share"].map(fmt_pct),
        "uncovered_pop": gaps["uncovered_pop"].map(fmt_int),
        "reason_label": gaps["reason_label"], "action_label": gaps["action_label"]})


def area_paper(by_area: pd.DataFrame) -> pd.DataFrame:
    """Older adults and covered share per street/town and type as printed text."""
    return pd.DataFrame({
        "area": by_area["area"], "type_label": by_area["type_label"],
        "older_pop": by_area["older_pop"].map(fmt_int),
        "covered_pop": by_area["covered_pop"].map(fmt_int),
        "uncovered_pop": (by_area["older_pop"] - by_area["covered_pop"]).map(fmt_int),
        "covered_share": by_area["covered_share"].map(fmt_pct)})


def _value_text(key: str, value: Any) -> str:
    if isinstance(value, Mapping):
        return ", ".join(f"{k} {_value_text(key, v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(_value_text(key, v) for v in value)
    if key == "target_share":
        return fmt_pct(value)
    return fmt_num(value) if isinstance(value, (int, float)) else str(value if value is not None
                                                                         else "")


def parameter_rows(manifest: Mapping[str, Any], lang: str) -> pd.DataFrame:
    """Parameters, rule profile and software as a short ``key, value`` table (no JSON)."""
    items: dict[str, Any] = dict(manifest.get("parameters") or {})
    for key in ("rule_profile", "rule_profile_version", "report_time"):
        items[key] = manifest.get(key)
    software = manifest.get("software") or {}
    items["software"] = " ".join(str(v) for v in software.values())
    rows = [{"key": pick(PARAMETER_LABELS[k], lang) if k in PARAMETER_LABELS else k,
             "value": _value_text(k, v)} for k, v in items.items() if v not in (None, "", [])]
    rows += [{"key": pick(("数据来源：", "Source: "), lang) + str(k), "value": str(v)}
             for k, v in (manifest.get("sources") or {}).items()]
    return pd.DataFrame(rows, columns=["key", "value"])


def _top_gaps(gaps: pd.DataFrame, lang: str) -> list[str]:
    top = gaps.sort_values(["uncovered_pop", "rank"], ascending=[False, True]).head(TOP_GAPS)
    form = ("{unit}（{street}）· {type} · {pop} 名老年人未覆盖，覆盖率 {share}",
            "{unit} ({street}) · {type} · {pop} older adults uncovered, covered {share}")
    return [pick(form, lang).format(unit=r["unit_name"], street=r["parent_name"] or "—",
                                    type=r["type_label"], pop=fmt_int(r["uncovered_pop"]),
                                    share=fmt_pct(r["covered_share"])).replace("（—）", "")
            .replace(" (—)", "") for _, r in top.iterrows()]


def siting_text(summary: Mapping[str, Any], labels: Mapping[str, tuple[str, str]],
                lang: str) -> str:
    """One sentence on the siting run (sites proposed, older adults gained), or ``""``."""
    block = summary.get("siting")
    if not isinstance(block, Mapping) or "covered_after_pop" not in block:
        return ""
    ftype = str(block.get("facility_type", ""))
    total = float(block.get("total_pop") or 0) or float("nan")
    before, after = float(block["covered_before_pop"]), float(block["covered_after_pop"])
    form = ("选址方案：新增 {n} 处{type}，覆盖老年人由 {b}（{bs}）增至 {a}（{as_}），新增 {g} 人。",
            "Siting: {n} new {type} sites raise the older adults covered from {b} ({bs}) to "
            "{a} ({as_}), {g} more.")
    return pick(form, lang).format(
        n=fmt_int(block.get("n_sites")), type=pick(labels.get(ftype, (ftype, ftype)), lang),
        b=fmt_int(before), bs=fmt_pct(before / total), a=fmt_int(after), as_=fmt_pct(after / total),
        g=fmt_int(after - before))


#: Most plan indicators on page 1; the full table is its own section.
PAGE_ONE_INDICATORS = 6


def page_one_indicators(indicators: pd.DataFrame | None) -> pd.DataFrame | None:
    """The plan indicators page 1 shows: computed ones first (binding, then not met), at most
    :data:`PAGE_ONE_INDICATORS`; the rest are in the indicator section."""
    if indicators is None or len(indicators) <= PAGE_ONE_INDICATORS:
        return indicators
    rank = pd.DataFrame({"evaluated": indicators["computed"].notna(),
                         "binding": indicators["binding"] == "binding",
                         "not_met": indicators["met"].map(lambda m: m is False)})
    order = rank.sort_values(["evaluated", "binding", "not_met"], ascending=False,
                             kind="stable").index
    return indicators.loc[order[:PAGE_ONE_INDICATORS]].sort_index()


def build_summary(summary: Mapping[str, Any], coverage: pd.DataFrame, gaps: pd.DataFrame,
                  indicators: pd.DataFrame | None, labels: Mapping[str, tuple[str, str]],
                  lang: str) -> Summary:
    """Page-1 figures from the report's coverage and gap tables and normalised indicators."""
    gaps = gaps.assign(parent_name=gaps_parent(gaps, coverage))
    required = [str(t) for t in summary.get("required_types") or []]
    return Summary(
        headline=headline_table(coverage, gaps, required, float(summary.get("target_share")
                                                                or 0.8), lang),
        indicators=indicator_paper(page_one_indicators(indicators), lang, full=False),
        gap_units=int(gaps["unit_id"].nunique()), uncovered_pop=float(gaps["uncovered_pop"].sum()),
        top_gaps=_top_gaps(gaps, lang), siting=siting_text(summary, labels, lang))


def gaps_parent(gaps: pd.DataFrame, coverage: pd.DataFrame) -> pd.Series:
    """Street/town name of each gap's unit (empty when the units carry none)."""
    parent = coverage.drop_duplicates("unit_id").set_index("unit_id")["parent_name"]
    return gaps["unit_id"].map(parent).fillna("").astype(str)
