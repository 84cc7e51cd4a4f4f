"""Shared ground of the compliance checks: the prepared context, result rows and pass shares.

Every rule evaluator takes a :class:`RuleContext` and a rule and returns an :data:`Evaluation`.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from planner.compliance.rules import Rule, RuleProfile
from planner.compliance.text import text

#: Levels of the bottom units (the units the coverage and presence rules are counted on).
BOTTOM = ("community", "village")
#: Facility types of elderly care, the default of the bed rules.
ELDERLY_TYPES = ("day_care", "meal_point", "community_complex", "service_station", "nursing_home")


@dataclass(frozen=True, slots=True)
class RuleContext:
    """Inputs of one compliance check, prepared once for all rules.

    Attributes
    ----------
    profile
        The rule profile.
    units
        Bottom units with string ``unit_id`` and a ``zone`` column.
    facilities
        Facilities with string ``facility_id`` and their bottom ``unit`` (NaN when unplaced).
    coverage
        Coverage rows per unit and facility type, or None.
    hierarchy
        ``unit_id, name, level, parent_id`` for every level.
    ancestors
        ``unit_id, ancestor_id`` pairs from the hierarchy.
    colocation
        Optional network distances replacing straight-line metres.
    lang
        Language of the labels and notes (``zh`` or ``en``).
    """

    profile: RuleProfile
    units: pd.DataFrame
    facilities: gpd.GeoDataFrame
    coverage: pd.DataFrame | None
    hierarchy: pd.DataFrame
    ancestors: pd.DataFrame
    colocation: pd.DataFrame | None
    lang: str

    def t(self, key: str, **kw: object) -> str:
        """Return the wording of ``key`` in the check's language."""
        return text(key, self.lang, **kw)

    def needs(self, key: str, **kw: object) -> str:
        """Return "not evaluable: needs ..." for the missing data ``key``."""
        return self.t("needs") + self.t(key, **kw)



#: Rows of one rule (see ``PER_UNIT_COLUMNS``), the computed indicator (None when not evaluable)
#: and a note.
Evaluation = tuple[list[dict[str, object]], float | None, str]


def result_row(rule: Rule, uid: str, name: str, level: str, measured: float, target: float | None,
               *, evaluable: bool = True, note: str = "", at_most: bool = False
               ) -> dict[str, object]:
    """One per-unit row: the measure against the target, its shortfall and pass/fail.

    Parameters
    ----------
    rule
        The rule checked.
    uid, name, level
        The unit (or facility, or ``"all"``) the row is about.
    measured
        The measured value (NaN when unknown).
    target
        The target, or None when the rule has none.
    evaluable
        False marks the row not evaluable (``passed`` None).
    note
        Free text kept with the row.
    at_most
        True when the target is an upper bound (distances), False for a lower bound.

    Returns
    -------
    dict
        A row with the ``PER_UNIT_COLUMNS`` keys.
    """
    m = float(measured) if measured is not None else np.nan
    tg = np.nan if target is None else float(target)
    ok = bool(evaluable and np.isfinite(m))
    if ok and np.isfinite(tg):
        short = max(m - tg, 0.0) if at_most else max(tg - m, 0.0)
        passed: bool | None = bool(m <= tg) if at_most else bool(m >= tg - 1e-12)
    else:
        short, passed = np.nan, None
    return {"rule_id": rule.id, "unit_id": uid, "unit_name": name, "level": level, "measured": m,
            "target": tg, "shortfall": short, "passed": passed, "evaluable": ok, "note": note}


def share_passing(ctx: RuleContext, rows: list[dict[str, object]]
                  ) -> tuple[float | None, str]:
    """Share of the evaluable, unconditional rows that pass, and a note on skipped rows.

    Parameters
    ----------
    ctx
        The check's context (for the wording).
    rows
        Rows from :func:`result_row`.

    Returns
    -------
    tuple
        The share (None when no row counts) and a note.
    """
    counted = [r for r in rows if r["evaluable"] and r["note"] != ctx.t("conditional")]
    skipped = sum(1 for r in rows if not r["evaluable"])
    note = ctx.t("partial", n=skipped) if skipped else ""
    if not counted:
        return None, note or ctx.t("no_units")
    return float(np.mean([bool(r["passed"]) for r in counted])), note


def bottom_units(ctx: RuleContext, settlement: str) -> pd.DataFrame:
    """Bottom units of one settlement kind (``"all"`` keeps every unit).

    Parameters
    ----------
    ctx
        The check's context.
    settlement
        A value of the units' ``settlement`` column, or ``"all"``.

    Returns
    -------
    pandas.DataFrame
        The matching rows of ``ctx.units``.
    """
    units = ctx.units
    return units if settlement == "all" else units.loc[units["settlement"] == settlement]

