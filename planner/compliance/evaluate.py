"""Evaluate a rule profile: per-unit pass/fail with shortfalls and the plans' indicator table.

Rules whose data are missing are reported as "not evaluable: needs X" (evaluable False, met None);
they are never passed silently. Shares are fractions (0.95 = 95%). Labels and notes are in Chinese
or English. The rule kinds are checked in :mod:`planner.compliance.coverage`,
:mod:`planner.compliance.provision` and :mod:`planner.compliance.capacity`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import geopandas as gpd
import numpy as np
import pandas as pd

from planner.compliance.capacity import CAPACITY_RULES
from planner.compliance.context import (
    BOTTOM,
    ELDERLY_TYPES,
    Evaluation,
    Outcome,
    RuleContext,
    result_row,
)
from planner.compliance.coverage import COVERAGE_RULES
from planner.compliance.define import definition, unit_of_measure
from planner.compliance.provision import PROVISION_RULES
from planner.compliance.rules import Rule, RuleProfile
from planner.compliance.text import BINDING_LABELS
from planner.coverage.colocation import assign_units
from planner.coverage.hierarchy import build_hierarchy, find_ancestors

__all__ = ["BOTTOM", "ELDERLY_TYPES", "INDICATOR_COLUMNS", "PER_UNIT_COLUMNS", "ComplianceResult",
           "evaluate_compliance", "normalise_attributes"]

PER_UNIT_COLUMNS = ("rule_id", "unit_id", "unit_name", "level", "measured", "target", "shortfall",
                    "passed", "evaluable", "note")
INDICATOR_COLUMNS = ("id", "label_zh", "label_en", "definition", "unit_of_measure", "baseline",
                     "target", "target_year", "binding", "value", "met", "status", "clause",
                     "quote", "assumption", "note")
#: Kinds whose value is a share (0-1): bounds and targets print as percentages.
SHARE_KINDS = ("presence", "unit_coverage", "population_coverage", "share", "land_per_person",
               "colocation", "residential_provision")


@dataclass(frozen=True, slots=True)
class ComplianceResult:
    """Compliance of one profile.

    Attributes
    ----------
    per_unit
        :data:`PER_UNIT_COLUMNS`, one row per rule and unit (or facility, ``level = "facility"``;
        or the whole area, ``unit_id = "all"``); ``passed`` is None when unknown.
    indicators
        :data:`INDICATOR_COLUMNS`, one row per rule: ``value`` is a number, "not evaluable: ..."
        or "partial: ...; between .. and .."; ``met`` is None unless decided; ``status`` is
        ``in force``, ``history`` (target year passed) or ``later target``.
    lang
        Language of the labels and notes (``zh`` or ``en``).
    warnings
        One-line summaries (e.g. the facility types missing from the inputs).
    year
        The year the targets were evaluated for.
    """

    per_unit: pd.DataFrame
    indicators: pd.DataFrame
    lang: str
    warnings: tuple[str, ...] = ()
    year: int = 0


_EVALUATORS: dict[str, Callable[[RuleContext, Rule], Evaluation]] = {
    **COVERAGE_RULES, **PROVISION_RULES, **CAPACITY_RULES,
}
_YES = {"是", "yes", "y", "1", "true", "普惠", "普惠型", "普惠性", "√"}
_NO = {"否", "no", "n", "0", "false", "非普惠", "×"}
_OPERATION = {"公办": "public", "公办公营": "public", "公建公营": "public", "政府运营": "public",
              "公营": "public", "public": "public", "公建民营": "public_private",
              "公办民营": "public_private", "public_private": "public_private",
              "民办": "private", "社会运营": "private", "社会力量运营": "private", "民营": "private",
              "民办民营": "private", "private": "private"}


def normalise_attributes(facilities: pd.DataFrame) -> pd.DataFrame:
    """Register attributes in canonical values: operation public/public_private/private,
    inclusive and hardship_support yes/no; blanks and unknown spellings become missing."""
    out = facilities.copy()
    if "operation" in out.columns:
        out["operation"] = out["operation"].map(
            lambda v: _OPERATION.get(str(v).strip().lower()) if pd.notna(v) else None)
    for col in ("inclusive", "hardship_support"):
        if col in out.columns:
            out[col] = out[col].map(lambda v: None if pd.isna(v) else (
                "yes" if str(v).strip().lower() in _YES else
                "no" if str(v).strip().lower() in _NO else None))
    return out


def _missing_types(ctx: RuleContext, rule: Rule) -> list[str]:
    """Types the rule needs that the inputs lack entirely (all of them for an any-of rule)."""
    types = list(rule.params.get("types", ELDERLY_TYPES))  # type: ignore[call-overload]
    absent = [t for t in types if not (ctx.facilities["type"] == t).any()]
    health = [t for t in rule.params.get("health_types", ["health"])  # type: ignore[attr-defined]
              if rule.kind == "colocation" and not (ctx.facilities["type"] == t).any()]
    if health and len(health) == len(rule.params.get("health_types", ["health"])):  # type: ignore[arg-type]
        absent = [*absent, *health]
    needs_all = rule.kind == "unit_coverage" and rule.params.get("combine") == "all"
    if needs_all or len(absent) >= len(types) or health:
        return absent
    return []


def _statuses(rules: tuple[Rule, ...], year: int) -> dict[str, str]:
    """``in force``, ``history`` or ``later target`` per rule id, for the evaluation year."""
    out = {}
    for r in rules:
        same = [o.target_year for o in rules if o.label_zh == r.label_zh and o.target_year >= year]
        if r.target_year == 0:
            out[r.id] = "in force"
        elif r.target_year < year:
            out[r.id] = "history"
        else:
            out[r.id] = "in force" if r.target_year == min(same) else "later target"
    return out


def _fmt(rule: Rule, v: float) -> str:
    if rule.kind in SHARE_KINDS:
        return f"{v:.1%}"
    return "∞" if not np.isfinite(v) else f"{v:.4g}"


def _met(rule: Rule, lo: float, hi: float) -> bool | None:
    """Met when the whole range meets the target, not met when none of it does."""
    if rule.target is None:
        return None
    t = rule.target
    ok_lo, ok_hi = ((lo <= t + 1e-12, hi <= t + 1e-12) if rule.at_most
                    else (lo >= t - 1e-12, hi >= t - 1e-12))
    return True if ok_lo and ok_hi else False if not ok_lo and not ok_hi else None


def _indicator(ctx: RuleContext, rule: Rule, out: Outcome, status: str) -> dict[str, object]:
    value: object
    if out.value is None and out.bounds is None:
        prefix = "无法评估：" if ctx.lang == "zh" else "not evaluable: "
        value = out.note if out.note.startswith(("not evaluable", "无法评估")) else prefix + out.note
        met = None
    elif out.bounds is not None:
        lo, hi = out.bounds
        value = ctx.t("partial_value", p=out.partial, lo=_fmt(rule, lo), hi=_fmt(rule, hi))
        met = _met(rule, lo, hi)
    else:
        value = float(out.value)  # type: ignore[arg-type]
        met = _met(rule, value, value)
    notes = [rule.note_zh if ctx.lang == "zh" else rule.note_en,
             out.note if out.value is not None or out.bounds is not None else ""]
    if status != "in force":
        met = None
        notes.append(ctx.t("history" if status == "history" else "future"))
    elif rule.target is None and out.value is not None:
        notes.append(ctx.t("qualitative"))
    return {"id": rule.id, "label_zh": rule.label_zh, "label_en": rule.label_en,
            "definition": definition(rule, ctx.lang, ctx.profile.coverage.target_share),
            "unit_of_measure": unit_of_measure(rule, ctx.lang), "baseline": rule.baseline,
            "target": rule.target, "target_year": rule.target_year or None,
            "binding": BINDING_LABELS[rule.binding][0 if ctx.lang == "zh" else 1],
            "value": value, "met": met, "status": status, "clause": rule.clause,
            "quote": rule.quote, "assumption": rule.assumption,
            "note": "; ".join(n for n in notes if n)}


def _context(profile: RuleProfile, units: pd.DataFrame, facilities: gpd.GeoDataFrame,
             coverage: pd.DataFrame | None, hierarchy: pd.DataFrame | None,
             colocation: pd.DataFrame | None, lang: str,
             residential: gpd.GeoDataFrame | None) -> RuleContext:
    hier = hierarchy if hierarchy is not None else build_hierarchy(units)
    hier = hier.astype({"unit_id": str, "parent_id": str}).replace({"parent_id": {"nan": ""}})
    units = units.assign(unit_id=units["unit_id"].astype(str))
    if "zone" not in units.columns:
        units = units.assign(zone="")
    units = units.assign(zone=units["zone"].fillna("").astype(str))
    fac = normalise_attributes(facilities).assign(
        unit=assign_units(facilities, units), facility_id=facilities["facility_id"].astype(str))
    return RuleContext(profile, units, fac, coverage, hier, find_ancestors(hier), colocation, lang,
                       residential)


def evaluate_compliance(
    profile: RuleProfile,
    *,
    units: pd.DataFrame,
    facilities: gpd.GeoDataFrame,
    coverage: pd.DataFrame | None,
    hierarchy: pd.DataFrame | None = None,
    colocation: pd.DataFrame | None = None,
    lang: str | None = None,
    year: int | None = None,
    include_assumptions: bool = False,
    residential: gpd.GeoDataFrame | None = None,
) -> ComplianceResult:
    """Check every rule of ``profile`` (author assumptions only when asked).

    Parameters
    ----------
    profile
        The rule profile.
    units
        Bottom units (``unit_id, name, older_pop, settlement, level, zone, parent_id``; polygons
        or points in EPSG:4326), as from ``planner.io.units.read_units``.
    facilities
        EPSG:4326 facilities (``facility_id, name, type`` and optional ``beds, nursing_beds,
        floor_area_m2, usable_area_m2, site_area_m2, land_area_m2, community, operation,
        inclusive, hardship_support``).
    coverage
        One row per unit and type (``planner.coverage.measure.COVERAGE_COLUMNS``); None makes
        the walking-circle rules not evaluable.
    hierarchy
        ``unit_id, name, level, parent_id`` for every level (default: one level from the units).
    colocation
        Optional network distances ``facility_id, distance_m`` replacing straight-line metres.
    lang
        ``zh`` or ``en`` (default: the profile's language).
    year
        Evaluate the targets in force in this year (default: the profile's last target year);
        earlier targets are history, later ones of the same indicator wait.
    include_assumptions
        Also evaluate the rules marked ``assumption = true``.
    residential
        Residential areas (``planner.io.residential.read_residential_areas``) for the
        new-area provision rules; None makes them not evaluable.

    Returns
    -------
    ComplianceResult
        ``per_unit`` and ``indicators`` tables and the summary warnings.
    """
    lang = lang or profile.lang
    ctx = _context(profile, units, facilities, coverage, hierarchy, colocation, lang, residential)
    rules = tuple(r for r in profile.rules if include_assumptions or not r.assumption)
    year = year or max((r.target_year for r in rules), default=0)
    year = year or date.today().year
    status = _statuses(rules, year)
    rows: list[dict[str, object]] = []
    unit_rows: list[dict[str, object]]
    indicators = []
    lacking: set[str] = set()
    n_lacking = 0
    for rule in rules:
        absent = _missing_types(ctx, rule)
        if absent:
            unit_rows, out = [], Outcome(None, ctx.t("no_type", t=", ".join(absent)))
            lacking.update(absent)
            n_lacking += 1
        else:
            unit_rows, out = _EVALUATORS[rule.kind](ctx, rule)
        if not unit_rows:
            unit_rows = [result_row(rule, "all", ctx.t("all"), "city", np.nan, rule.target,
                                    evaluable=False, note=out.note)]
        rows.extend(unit_rows)
        indicators.append(_indicator(ctx, rule, out, status[rule.id]))
    per_unit = pd.DataFrame(rows, columns=list(PER_UNIT_COLUMNS))
    per_unit["passed"] = per_unit["passed"].astype(object)
    table = pd.DataFrame(indicators, columns=list(INDICATOR_COLUMNS))
    table["met"] = table["met"].astype(object)
    table["value"] = table["value"].astype(object)
    warnings: tuple[str, ...] = ()
    if lacking:
        warnings = (f"{n_lacking} indicator(s) not evaluable: no {', '.join(sorted(lacking))} "
                    "in the inputs (give a facility register)",)
    return ComplianceResult(per_unit=per_unit, indicators=table, lang=lang, warnings=warnings,
                            year=year)
