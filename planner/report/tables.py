"""Assemble report tables (indicators, coverage, ranked gaps with actions, register, sites); no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from planner.report.indicators import normalize_indicators
from planner.report.summary import Summary, build_summary
from planner.report.text import (
    ACTION_LABELS,
    NOT_EVALUATED,
    REASON_LABELS,
    SNAP_WARNINGS,
    SYNTHETIC_LABEL,
    pick,
)

COVERAGE_COLUMNS = ("unit_id", "unit_name", "parent_name", "facility_type", "type_label",
                    "threshold_min", "older_pop", "covered_pop", "covered_share", "uncovered_pop",
                    "median_time_min", "p90_time_min", "nearest_facility_id")
GAP_COLUMNS = ("rank", "unit_id", "unit_name", "facility_type", "type_label", "threshold_min",
               "older_pop", "covered_share", "target_share", "uncovered_pop", "reason",
               "reason_label", "action", "action_label")
REGISTER_COLUMNS = ("facility_id", "name", "facility_type", "type_label", "capacity", "unit_id",
                    "snap_access_m", "snap_status", "warning")
#: Share of the target above which a partly covered gap is met by enlarging the nearest facility.
ENLARGE_SHARE = 0.5


@dataclass(frozen=True)
class ReportTables:
    """Named tables of one report, plus its manifest and labels.

    Attributes
    ----------
    indicators
        The plan's indicator table (normalised, see :mod:`planner.report.indicators`), or
        ``None`` when the run had no rule profile.
    indicators_note
        Why ``indicators`` is missing (empty when present).
    coverage, gaps, facilities
        Per unit and type coverage, the ranked gap list with actions, the facility register.
    by_area
        Older adults and covered share per street/town (or per unit) and type.
    time_bands
        Older adults per walk-time band and type (from the threshold table).
    sites, before_after
        Proposed sites and covered share before/after, when a siting output exists.
    manifest
        Input files and checksums, rule profile, parameters, software version, run time.
    summary
        The first page's headline figures (see :func:`planner.report.summary.build_summary`).
    """

    lang: str
    synthetic: bool
    synthetic_label: str
    indicators: pd.DataFrame | None
    indicators_note: str
    coverage: pd.DataFrame
    gaps: pd.DataFrame
    facilities: pd.DataFrame
    by_area: pd.DataFrame
    time_bands: pd.DataFrame | None
    sites: pd.DataFrame | None
    before_after: pd.DataFrame | None
    manifest: dict[str, Any]
    summary: Summary


def _label(labels: Mapping[str, tuple[str, str]], key: object, lang: str) -> str:
    pair = labels.get(str(key))
    return pick(pair, lang) if pair else str(key)


def build_coverage_table(coverage: pd.DataFrame, units: pd.DataFrame,
                         labels: Mapping[str, tuple[str, str]], lang: str) -> pd.DataFrame:
    """Per unit and type coverage with street/town name, type label and uncovered older adults."""
    parent = units.set_index(units["unit_id"].astype(str)).get("parent_name")
    out = coverage.copy()
    out["unit_id"] = out["unit_id"].astype(str)
    out["parent_name"] = out["unit_id"].map(parent) if parent is not None else ""
    out["type_label"] = [_label(labels, t, lang) for t in out["facility_type"]]
    out["uncovered_pop"] = out["older_pop"] - out["covered_pop"]
    return out[list(COVERAGE_COLUMNS)].reset_index(drop=True)


def _host(facilities: pd.DataFrame, unit_id: str, ftype: str) -> str | None:
    """A facility of another elderly-care type in the unit that a new service can share.

    ``None`` when the facilities carry no unit (point units: no boundary to place them in).
    """
    if not {"unit_id", "type", "snap_status", "name"} <= set(facilities.columns):
        return None
    hit = facilities[(facilities["unit_id"].astype(str) == unit_id)
                     & (facilities["type"] != ftype) & (facilities["type"] != "health")
                     & (facilities["snap_status"] == "ok")]
    return None if hit.empty else str(hit["name"].iat[0])


def suggest_action(gap: Mapping[str, Any], facilities: pd.DataFrame,
                   nearest: str | None) -> tuple[str, dict[str, str]]:
    """Action key and label fields for one gap row.

    ``no_facility_of_type`` -> new facility; ``disconnected``/``not_snapped`` -> improve access;
    ``out_of_reach`` -> co-locate in an existing facility of the unit, else enlarge the nearest
    facility when the unit is at least :data:`ENLARGE_SHARE` of the way to the target, else new.
    """
    reason, ftype = str(gap["reason"]), str(gap["facility_type"])
    if reason in ("disconnected", "not_snapped"):
        return "improve_access", {}
    if reason == "out_of_reach":
        host = _host(facilities, str(gap["unit_id"]), ftype)
        if host:
            return "co_locate", {"facility": host}
        if nearest and gap["covered_share"] >= ENLARGE_SHARE * gap["target_share"]:
            return "enlarge", {"facility": nearest}
    return "new_facility", {}


def build_gap_table(gaps: pd.DataFrame, coverage: pd.DataFrame, facilities: pd.DataFrame,
                    labels: Mapping[str, tuple[str, str]], lang: str) -> pd.DataFrame:
    """Ranked gaps with a reason label, uncovered older adults and a suggested action."""
    key = coverage.set_index([coverage["unit_id"].astype(str), "facility_type"])
    nearest = key["nearest_facility_id"] if "nearest_facility_id" in key else pd.Series(dtype=str)
    names = facilities.set_index(facilities["facility_id"].astype(str))["name"]
    out = gaps.copy()
    out["unit_id"] = out["unit_id"].astype(str)
    out["type_label"] = [_label(labels, t, lang) for t in out["facility_type"]]
    out["reason_label"] = [_label(REASON_LABELS, r, lang) for r in out["reason"]]
    actions, texts = [], []
    for row in out.to_dict("records"):
        near = nearest.get((row["unit_id"], row["facility_type"]))
        near_name = str(names.get(str(near), near)) if isinstance(near, str) else None
        action, fields = suggest_action(row, facilities, near_name)
        actions.append(action)
        texts.append(pick(ACTION_LABELS[action], lang).format(type=row["type_label"], **fields))
    out["action"], out["action_label"] = actions, texts
    return out.sort_values("rank")[list(GAP_COLUMNS)].reset_index(drop=True)


def build_register(facilities: pd.DataFrame, labels: Mapping[str, tuple[str, str]],
                   lang: str) -> pd.DataFrame:
    """Facility register with snap distance and a warning for unsnapped or disconnected ones."""
    out = pd.DataFrame(facilities.drop(columns="geometry", errors="ignore")).copy()
    out["facility_type"] = out["type"]
    out["type_label"] = [_label(labels, t, lang) for t in out["type"]]
    for col in ("capacity", "unit_id", "name"):
        if col not in out:
            out[col] = np.nan
    out["warning"] = [_label(SNAP_WARNINGS, s, lang) if s in SNAP_WARNINGS else ""
                      for s in out["snap_status"]]
    return out[list(REGISTER_COLUMNS)].reset_index(drop=True)


def build_by_area(coverage: pd.DataFrame) -> pd.DataFrame:
    """Covered share per street/town (``parent_name``), or per unit when there is none, and type."""
    area = coverage["parent_name"].fillna("").astype(str)
    area = area.where(area != "", coverage["unit_name"].astype(str))
    grouped = coverage.assign(area=area).groupby(["area", "facility_type", "type_label"],
                                                 as_index=False)[["older_pop", "covered_pop"]].sum()
    grouped["covered_share"] = grouped["covered_pop"] / grouped["older_pop"].replace(0, np.nan)
    return grouped


def build_time_bands(thresholds: pd.DataFrame | None) -> pd.DataFrame | None:
    """Older adults per walk-time band (0-5, 5-15, 15-30, >30 min) per type."""
    if thresholds is None or thresholds.empty:
        return None
    cum = thresholds.groupby(["facility_type", "threshold_min"], as_index=False)[
        ["older_pop", "covered_pop"]].sum().sort_values(["facility_type", "threshold_min"])
    rows = []
    for ftype, grp in cum.groupby("facility_type", sort=False):
        prev_t, prev_pop = 0.0, 0.0
        # the last row's older_pop (``total``) is used after the loop
        for t, pop, total in grp[["threshold_min", "covered_pop", "older_pop"]].itertuples(  # noqa: B007
                index=False):
            rows.append({"facility_type": ftype, "band": f"{prev_t:g}-{t:g}", "pop": pop - prev_pop})
            prev_t, prev_pop = t, pop
        rows.append({"facility_type": ftype, "band": f">{prev_t:g}", "pop": total - prev_pop})
    return pd.DataFrame(rows)


def build_before_after(summary: Mapping[str, Any]) -> pd.DataFrame | None:
    """Covered share before/after from ``summary["siting"]`` or ``summary["scenario"]``, if any."""
    block = summary.get("siting") or summary.get("scenario")
    if not isinstance(block, Mapping) or "covered_after_pop" not in block:
        return None
    total = float(block.get("total_pop") or summary.get("older_pop") or 0) or np.nan
    return pd.DataFrame({"state": ["before", "after"],
                         "covered_pop": [block["covered_before_pop"], block["covered_after_pop"]],
                         "covered_share": [block["covered_before_pop"] / total,
                                           block["covered_after_pop"] / total]})


def build_manifest(summary: Mapping[str, Any], checksums: Mapping[str, str],
                   report_time: str) -> dict[str, Any]:
    """Input files and checksums, rule profile and version, parameters, software, run time."""
    params = {k: summary.get(k) for k in (
        "walk_preset", "walk_speed_m_s", "steps_factor", "thresholds_min",
        "settlement_threshold_min", "required_types", "target_share", "max_snap_m")}
    return {"label": summary.get("label"), "synthetic": bool(summary.get("synthetic")),
            "rule_profile": summary.get("profile"),
            "rule_profile_version": summary.get("profile_version", summary.get("rules_version")),
            "parameters": params, "sources": dict(summary.get("sources") or {}),
            "input_files": dict(checksums), "software": dict(summary.get("software") or {}),
            "analysis_run_time_s": summary.get("run_time_s"), "report_time": report_time,
            "warnings": list(summary.get("warnings") or [])}


def build_report_tables(summary: Mapping[str, Any], tables: Mapping[str, pd.DataFrame],
                        facilities: pd.DataFrame, units: pd.DataFrame, *,
                        labels: Mapping[str, tuple[str, str]], checksums: Mapping[str, str],
                        report_time: str, lang: str = "zh") -> ReportTables:
    """Every table of the report from a run folder's loaded tables (see ``load_run``)."""
    coverage = build_coverage_table(tables["coverage"], units, labels, lang)
    raw = tables.get("indicators")
    indicators = None if raw is None else normalize_indicators(raw, lang)
    gaps = build_gap_table(tables["gaps"], tables["coverage"], facilities, labels, lang)
    return ReportTables(
        lang=lang, synthetic=bool(summary.get("synthetic")),
        synthetic_label=pick(SYNTHETIC_LABEL, lang),
        indicators=indicators, indicators_note="" if indicators is not None else pick(
            NOT_EVALUATED, lang),
        coverage=coverage,
        gaps=gaps, summary=build_summary(summary, coverage, gaps, indicators, labels, lang),
        facilities=build_register(facilities, labels, lang), by_area=build_by_area(coverage),
        time_bands=build_time_bands(tables.get("coverage_thresholds")),
        sites=tables.get("sites"), before_after=build_before_after(summary),
        manifest=build_manifest(summary, checksums, report_time))
