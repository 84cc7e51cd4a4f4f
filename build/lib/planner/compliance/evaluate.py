"""Evaluate a rule profile: per-unit pass/fail with shortfalls and the plans' indicator table.

Rules whose data are missing are reported as "not evaluable: needs X" (evaluable False, met None);
they are never passed silently. Shares are fractions (0.95 = 95%). Labels and notes are in Chinese
or English. The rule kinds are checked in :mod:`planner.compliance.coverage`,
:mod:`planner.compliance.provision` and :mod:`planner.compliance.capacity`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from planner.compliance.capacity import CAPACITY_RULES
from planner.compliance.context import (
    BOTTOM,
    ELDERLY_TYPES,
    Evaluation,
    RuleContext,
    result_row,
)
from planner.compliance.coverage import COVERAGE_RULES
from planner.compliance.provision import PROVISION_RULES
from planner.compliance.rules import Rule, RuleProfile
from planner.compliance.text import BINDING_LABELS
from planner.coverage.colocation import assign_units
from planner.coverage.hierarchy import build_hierarchy, find_ancestors

__all__ = ["BOTTOM", "ELDERLY_TYPES", "INDICATOR_COLUMNS", "PER_UNIT_COLUMNS", "ComplianceResult",
           "evaluate_compliance"]

PER_UNIT_COLUMNS = ("rule_id", "unit_id", "unit_name", "level", "measured", "target", "shortfall",
                    "passed", "evaluable", "note")
INDICATOR_COLUMNS = ("rule_id", "indicator", "indicator_en", "baseline", "target", "target_year",
                     "binding", "computed", "met", "source", "note")


@dataclass(frozen=True, slots=True)
class ComplianceResult:
    """Compliance of one profile.

    Attributes
    ----------
    per_unit
        :data:`PER_UNIT_COLUMNS`, one row per rule and unit (or facility, ``level = "facility"``;
        or the whole area, ``unit_id = "all"``); ``passed`` is None when not evaluable.
    indicators
        :data:`INDICATOR_COLUMNS`, one row per rule, laid out like the plans' indicator tables.
    lang
        Language of the labels and notes (``zh`` or ``en``).
    """

    per_unit: pd.DataFrame
    indicators: pd.DataFrame
    lang: str


_EVALUATORS: dict[str, Callable[[RuleContext, Rule], Evaluation]] = {
    **COVERAGE_RULES, **PROVISION_RULES, **CAPACITY_RULES,
}


def _indicator(ctx: RuleContext, rule: Rule, computed: float | None, note: str
               ) -> dict[str, object]:
    met = None if computed is None or rule.target is None else bool(computed >= rule.target - 1e-12)
    notes = [rule.note_zh if ctx.lang == "zh" else rule.note_en, note]
    if rule.target is None and computed is not None:
        notes.append(ctx.t("qualitative"))
    return {"rule_id": rule.id, "indicator": rule.label(ctx.lang), "indicator_en": rule.label_en,
            "baseline": rule.baseline, "target": rule.target, "target_year": rule.target_year,
            "binding": BINDING_LABELS[rule.binding][0 if ctx.lang == "zh" else 1],
            "computed": np.nan if computed is None else computed, "met": met,
            "source": rule.clause, "note": "; ".join(n for n in notes if n)}


def evaluate_compliance(
    profile: RuleProfile,
    *,
    units: pd.DataFrame,
    facilities: gpd.GeoDataFrame,
    coverage: pd.DataFrame | None,
    hierarchy: pd.DataFrame | None = None,
    colocation: pd.DataFrame | None = None,
    lang: str | None = None,
) -> ComplianceResult:
    """Check every rule of ``profile``.

    Parameters
    ----------
    profile
        The rule profile.
    units
        Bottom units (``unit_id, name, older_pop, settlement, level, zone, parent_id``; polygons
        or points in EPSG:4326), as from ``planner.io.units.read_units``.
    facilities
        EPSG:4326 facilities (``facility_id, name, type`` and optional ``beds, nursing_beds,
        floor_area_m2, land_area_m2, community``).
    coverage
        One row per unit and type: ``unit_id, unit_name, facility_type, threshold_min, older_pop,
        covered_pop, covered_share, median_time_min, p90_time_min, nearest_facility_id``; None
        makes the coverage rules not evaluable.
    hierarchy
        ``unit_id, name, level, parent_id`` for every level (default: one level from the units).
    colocation
        Optional network distances ``facility_id, distance_m`` replacing straight-line metres.
    lang
        ``zh`` or ``en`` (default: the profile's language).

    Returns
    -------
    ComplianceResult
        ``per_unit`` and ``indicators`` tables.
    """
    lang = lang or profile.lang
    hier = hierarchy if hierarchy is not None else build_hierarchy(units)
    hier = hier.astype({"unit_id": str, "parent_id": str}).replace({"parent_id": {"nan": ""}})
    units = units.assign(unit_id=units["unit_id"].astype(str))
    if "zone" not in units.columns:
        units = units.assign(zone="")
    fac = facilities.assign(unit=assign_units(facilities, units), facility_id=facilities[
        "facility_id"].astype(str))
    ctx = RuleContext(profile, units, fac, coverage, hier, find_ancestors(hier), colocation, lang)
    rows: list[dict[str, object]] = []
    indicators = []
    for rule in profile.rules:
        unit_rows, computed, note = _EVALUATORS[rule.kind](ctx, rule)
        if computed is None and not unit_rows:
            unit_rows = [result_row(rule, "all", ctx.t("all"), "city", np.nan, rule.target,
                                    evaluable=False, note=note)]
        rows.extend(unit_rows)
        indicators.append(_indicator(ctx, rule, computed, note))
    per_unit = pd.DataFrame(rows, columns=list(PER_UNIT_COLUMNS))
    per_unit["passed"] = per_unit["passed"].astype(object)
    table = pd.DataFrame(indicators, columns=list(INDICATOR_COLUMNS))
    table["met"] = table["met"].astype(object)
    return ComplianceResult(per_unit=per_unit,
                            indicators=table,
                            lang=lang)
