"""Capacity rules: beds per 1,000 older adults, attribute shares (nursing beds, public beds,
socially run facilities, inclusive beds) and facility land per resident.

Missing attributes are never read as zero: a facility that does not report a figure makes the
indicator partial, with the bounds the unknown figures allow.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

import numpy as np
import pandas as pd

from planner.compliance.context import (
    Evaluation,
    Outcome,
    RuleContext,
    not_evaluable,
    result_row,
    select_facilities,
    share_passing,
    unknown_row,
)
from planner.compliance.rules import Rule
from planner.coverage.hierarchy import roll_up


def _beds_per_1000(ctx: RuleContext, rule: Rule) -> Evaluation:
    """Beds per 1,000 older adults (户籍 when the rule says so), for the area and per unit."""
    pop_col = str(rule.params.get("population", "older_pop"))
    if pop_col not in ctx.units.columns or ctx.units[pop_col].isna().all():
        return not_evaluable(ctx.needs("hukou" if pop_col == "older_pop_hukou" else "no_pop"))
    fac, missing = select_facilities(ctx, rule)
    if missing:
        return not_evaluable(ctx.needs("column", c=missing))
    if "beds" not in fac.columns or fac["beds"].isna().all():
        return not_evaluable(ctx.needs("column", c="beds"))
    pop = float(ctx.units[pop_col].fillna(0.0).sum())
    if pop <= 0:
        return not_evaluable(ctx.t("no_pop"))
    rows: list[dict[str, object]] = []
    if fac["unit"].notna().any():
        per = (fac.assign(beds=fac["beds"].fillna(0.0)).rename(columns={"unit": "unit_id"})
               .groupby("unit_id", as_index=False)["beds"].sum())
        table = (ctx.units[["unit_id", pop_col]].rename(columns={pop_col: "pop"})
                 .merge(per, on="unit_id", how="left").fillna({"beds": 0.0, "pop": 0.0}))
        rolled = roll_up(table, ctx.hierarchy, sum_columns=("pop", "beds"),
                         shares={"ratio": ("beds", "pop")})
        for r in rolled.loc[rolled["level"].isin(["district", "street", "town"])].itertuples(
                index=False):
            rows.append(result_row(rule, r.unit_id, r.name, r.level, r.ratio * 1000.0,
                                   rule.target))
    known = fac.loc[fac["beds"].notna() & ~fac["_unknown"]]
    value = float(known["beds"].sum() / pop * 1000.0)
    n_missing = len(fac) - len(known)
    if n_missing:
        return rows, Outcome(value, "", (value, np.inf),
                             ctx.t("known_of", k=len(known), n=len(fac), what=ctx.t("fac")))
    return rows, Outcome(value)


def _measure(fac: pd.DataFrame, measure: str) -> pd.Series:
    if measure == "facilities":
        return pd.Series(1.0, index=fac.index)
    return fac[measure] if measure in fac.columns else pd.Series(np.nan, index=fac.index)


def _share(ctx: RuleContext, rule: Rule) -> Evaluation:
    """Numerator measure over denominator measure among the rule's facilities, with bounds.

    Bounds: the low end counts every unknown numerator as 0 (and an unknown ``numerator_where``
    as not matching), the high end counts it as the facility's whole denominator.
    """
    p = rule.params
    fac, missing = select_facilities(ctx, rule)
    if missing:
        return not_evaluable(ctx.needs("column", c=missing))
    num_m, den_m = str(p["numerator"]), str(p["denominator"])
    for m in {num_m, den_m} - {"facilities"}:
        if m not in fac.columns or fac[m].isna().all():
            return not_evaluable(ctx.needs("column", c=m))
    den = _measure(fac, den_m)
    fac, den = fac.loc[den.notna() & (den > 0)], den.loc[den.notna() & (den > 0)]
    if fac.empty:
        return not_evaluable(ctx.t("no_fac"))
    num = den.copy() if num_m == den_m else _measure(fac, num_m)
    match = pd.Series(1.0, index=fac.index)
    for col, values in dict(p.get("numerator_where", {})).items():  # type: ignore[call-overload]
        if col not in fac.columns or fac[col].isna().all():
            return not_evaluable(ctx.needs("column", c=col))
        match = match * pd.Series(np.where(fac[col].isna(), np.nan, fac[col].isin(list(values))),
                                  index=fac.index)
    contrib = num * match
    total = float(den.sum())
    low = float((num.fillna(0.0) * match.fillna(0.0)).sum()) / total
    high = float((num.fillna(den) * match.fillna(1.0)).sum()) / total
    known = contrib.notna() & ~fac["_unknown"]
    value = float(contrib[known].sum() / den[known].sum()) if known.any() else None
    rows = [result_row(rule, "all", ctx.t("all"), "city",
                       np.nan if value is None else value, rule.target,
                       at_most=rule.at_most)]
    if bool(known.all()):
        return rows, Outcome(value)
    return rows, Outcome(value, "", (low, high),
                         ctx.t("known_of", k=int(known.sum()), n=len(fac), what=ctx.t("fac")))


def _land_per_person(ctx: RuleContext, rule: Rule) -> Evaluation:
    """Units (in the rule's zones) with enough facility land per resident; blank land unknown."""
    fac, missing = select_facilities(ctx, rule)
    col = str(rule.params.get("area_column", "land_area_m2"))
    if missing or col not in fac.columns or fac[col].isna().all():
        return not_evaluable(ctx.needs("column", c=missing or col))
    if "total_pop" not in ctx.units.columns:
        return not_evaluable(ctx.needs("total_pop"))
    if fac["unit"].isna().all():
        return not_evaluable(ctx.needs("assignment"))
    zones = list(rule.params.get("zones", []))  # type: ignore[call-overload]
    units = ctx.units.loc[ctx.units["zone"].isin(zones)] if zones else ctx.units
    if units.empty:
        return not_evaluable(ctx.needs("zone_area", z="/".join(zones)))
    land = fac.groupby("unit")[col].sum(min_count=1)
    blank = fac.loc[fac[col].isna()].groupby("unit").size()
    need = float(rule.params["min_m2_per_person"])  # type: ignore[arg-type]
    rows = []
    for u in units.itertuples(index=False):
        m2 = float(land.get(u.unit_id, 0.0)) if pd.notna(land.get(u.unit_id, 0.0)) else 0.0
        per = m2 / u.total_pop if u.total_pop > 0 else np.nan
        if blank.get(u.unit_id, 0) and not per >= need:
            rows.append(unknown_row(rule, u.unit_id, u.name, u.level, need,
                                    ctx.t("unknown_fac", n=int(blank[u.unit_id]))))
        else:
            rows.append(result_row(rule, u.unit_id, u.name, u.level, per, need,
                                   evaluable=bool(u.total_pop > 0)))
    return rows, share_passing(ctx, rows)


#: Capacity rule evaluators by rule kind.
CAPACITY_RULES: Mapping[str, Callable[[RuleContext, Rule], Evaluation]] = MappingProxyType({
    "beds_per_1000": _beds_per_1000, "share": _share, "land_per_person": _land_per_person,
})
