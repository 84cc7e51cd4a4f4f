"""Shared ground of the compliance checks: the prepared context, result rows and pass shares.

Every rule evaluator takes a :class:`RuleContext` and a rule and returns an :data:`Evaluation`:
the per-unit rows and an :class:`Outcome` (the indicator's value, or why it has none, and the
bounds when only part of the data is known).
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from planner.compliance.rules import Rule, RuleProfile
from planner.compliance.text import COLUMN_NAMES, text

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
        Facilities with string ``facility_id``, their bottom ``unit`` (NaN when unplaced) and
        the normalised attributes ``operation, inclusive, hardship_support`` when given.
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
    residential
        Residential areas (``name, built_year, is_new, population``, polygons), or None.
    """

    profile: RuleProfile
    units: pd.DataFrame
    facilities: gpd.GeoDataFrame
    coverage: pd.DataFrame | None
    hierarchy: pd.DataFrame
    ancestors: pd.DataFrame
    colocation: pd.DataFrame | None
    lang: str
    residential: gpd.GeoDataFrame | None = None

    def t(self, key: str, **kw: object) -> str:
        """Return the wording of ``key`` in the check's language."""
        return text(key, self.lang, **kw)

    def needs(self, key: str, **kw: object) -> str:
        """Return "not evaluable: needs ..." for the missing data ``key``."""
        if key == "column":
            kw = {"c": COLUMN_NAMES.get(str(kw["c"]), kw["c"])}
        return self.t("needs") + self.t(key, **kw)


@dataclass(frozen=True, slots=True)
class Outcome:
    """The computed value of one indicator.

    Attributes
    ----------
    value
        The value over the known data (None when not evaluable).
    note
        Why it is not evaluable, or a remark on the value.
    bounds
        ``(low, high)`` when part of the data is unknown: the value lies between them.
    partial
        "N of M ... report it" when part of the data is unknown.
    """

    value: float | None
    note: str = ""
    bounds: tuple[float, float] | None = None
    partial: str = ""


#: Rows of one rule (see ``PER_UNIT_COLUMNS``) and the rule's outcome.
Evaluation = tuple[list[dict[str, object]], Outcome]


def not_evaluable(note: str) -> Evaluation:
    """An evaluation without rows and without a value."""
    return [], Outcome(None, note)


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


def unknown_row(rule: Rule, uid: str, name: str, level: str, target: float | None,
                note: str) -> dict[str, object]:
    """A row whose pass/fail is unknown because its data are (see ``note``)."""
    return result_row(rule, uid, name, level, np.nan, target, evaluable=False, note=note)


def share_passing(ctx: RuleContext, rows: list[dict[str, object]], what: str = "units"
                  ) -> Outcome:
    """Share of the unconditional rows that pass; unknown rows give the bounds.

    Parameters
    ----------
    ctx
        The check's context (for the wording).
    rows
        Rows from :func:`result_row`; a non-evaluable row is unknown (it may pass or fail).
    what
        What the rows count, for the "partial" wording (``units`` or ``facilities``).

    Returns
    -------
    Outcome
        The share over the known rows; with unknown rows, the bounds (all unknown fail / pass)
        and "N of M units known".
    """
    counted = [r for r in rows if r["note"] != ctx.t("conditional")]
    known = [r for r in counted if r["evaluable"]]
    if not counted:
        return Outcome(None, ctx.t("no_units"))
    n_pass = sum(1 for r in known if r["passed"])
    n_unknown = len(counted) - len(known)
    if not known:
        return Outcome(None, ctx.t("all_unknown", n=len(counted), what=ctx.t(what)),
                       (0.0, 1.0), ctx.t("known_of", k=0, n=len(counted), what=ctx.t(what)))
    value = n_pass / len(known)
    if not n_unknown:
        return Outcome(value)
    bounds = (n_pass / len(counted), (n_pass + n_unknown) / len(counted))
    return Outcome(value, "", bounds,
                   ctx.t("known_of", k=len(known), n=len(counted), what=ctx.t(what)))


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


def select_facilities(ctx: RuleContext, rule: Rule, key: str = "where"
                      ) -> tuple[pd.DataFrame, str]:
    """Facilities of the rule's types (and ``type_contains`` words) passing its ``where``
    filter, and the missing column.

    A facility whose filtered attribute is blank is kept with ``_unknown`` True (it may or may
    not match); a filter on a column the inputs lack returns the column's name.
    """
    types = list(rule.params.get("types", ELDERLY_TYPES))  # type: ignore[call-overload]
    fac = ctx.facilities.loc[ctx.facilities["type"].isin(types)].assign(_unknown=False)
    words = list(rule.params.get("type_contains", []))  # type: ignore[call-overload]
    if words:  # the register's own type spelling or the name holds one of the plan's words
        raw = fac["type_raw"] if "type_raw" in fac.columns else pd.Series("", index=fac.index)
        text_ = raw.fillna("").astype(str) + " " + fac["name"].fillna("").astype(str)
        fac = fac.loc[text_.map(lambda s: any(w in s for w in words))]
    for col, values in dict(rule.params.get(key, {})).items():  # type: ignore[call-overload]
        if col not in fac.columns or fac[col].isna().all():
            return fac.iloc[0:0], col
        blank = fac[col].isna()
        fac = fac.loc[blank | fac[col].isin(list(values))]
        fac = fac.assign(_unknown=fac["_unknown"] | fac[col].isna())
    return fac, ""
