"""Coverage rules: the share of units, or of older adults, within walking reach of a service."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

import numpy as np
import pandas as pd

from planner.compliance.context import (
    BOTTOM,
    Evaluation,
    RuleContext,
    bottom_units,
    result_row,
    share_passing,
)
from planner.compliance.rules import Rule
from planner.coverage.hierarchy import roll_up


def _type_coverage(ctx: RuleContext, rule: Rule) -> tuple[pd.DataFrame | None, str]:
    """Coverage rows of the rule's types (zero rows for types with no facility at all)."""
    if ctx.coverage is None or len(ctx.coverage) == 0:
        return None, ctx.needs("coverage")
    types = list(rule.params["types"])  # type: ignore[call-overload]
    cov = ctx.coverage.loc[ctx.coverage["facility_type"].isin(types)]
    notes = []
    for t in sorted(set(types) - set(cov["facility_type"])):
        if (ctx.facilities["type"] == t).any():
            return None, ctx.needs("cov_type", t=t)
        zero = ctx.units[["unit_id", "older_pop"]].assign(
            facility_type=t, covered_pop=0.0, covered_share=0.0, threshold_min=np.nan)
        cov = pd.concat([cov, zero], ignore_index=True)
        notes.append(ctx.t("absent_type", t=t))
    want = rule.params.get("threshold_min")
    if want is not None:
        scope = bottom_units(ctx, str(rule.params.get("settlement", "all")))["unit_id"]
        have = cov.loc[cov["unit_id"].isin(scope) & cov["threshold_min"].notna(), "threshold_min"]
        if len(have) and not np.allclose(have.to_numpy(float),
                                         float(want)):  # type: ignore[arg-type]
            return None, ctx.needs("threshold", t="/".join(types), m=want, h=have.iloc[0])
    return cov, "; ".join(notes)


def _combined_share(ctx: RuleContext, rule: Rule, cov: pd.DataFrame) -> pd.DataFrame:
    rolled = roll_up(cov, ctx.hierarchy, by=("facility_type",))
    wide = rolled.pivot_table(index="unit_id", columns="facility_type", values="covered_share",
                              dropna=False)
    combine = str(rule.params.get("combine", "any"))
    share = wide.min(axis=1, skipna=False) if combine == "all" else wide.max(axis=1, skipna=False)
    meta = rolled.drop_duplicates("unit_id").set_index("unit_id")[["name", "level", "older_pop"]]
    return meta.assign(share=share.reindex(meta.index))


def _unit_coverage(ctx: RuleContext, rule: Rule) -> Evaluation:
    """Units (at the rule's levels) whose older adults are covered enough."""
    cov, note = _type_coverage(ctx, rule)
    if cov is None:
        return [], None, note
    default = ctx.profile.coverage.target_share
    unit_share = float(rule.params.get("unit_share", default))  # type: ignore[arg-type]
    levels = list(rule.params.get("levels", BOTTOM))  # type: ignore[call-overload]
    settlement = str(rule.params.get("settlement", "all"))
    allowed = set(bottom_units(ctx, settlement)["unit_id"].astype(str))
    table = _combined_share(ctx, rule, cov)
    rows = []
    for uid, r in table.loc[table["level"].isin(levels)].iterrows():
        if r["level"] in BOTTOM and uid not in allowed:
            continue
        if not r["older_pop"] > 0:
            rows.append(result_row(rule, str(uid), r["name"], r["level"], np.nan, unit_share,
                                   evaluable=False, note=ctx.t("no_pop")))
            continue
        rows.append(result_row(rule, str(uid), r["name"], r["level"], r["share"], unit_share))
    computed, extra = share_passing(ctx, rows)
    return rows, computed, "; ".join(x for x in (note, extra) if x)


def _population_coverage(ctx: RuleContext, rule: Rule) -> Evaluation:
    """Share of all older adults covered, weighted by population."""
    cov, note = _type_coverage(ctx, rule)
    if cov is None:
        return [], None, note
    target = rule.target if rule.target is not None else ctx.profile.coverage.target_share
    allowed = set(bottom_units(ctx, str(rule.params.get("settlement", "all")))["unit_id"])
    table = _combined_share(ctx, rule, cov)
    table = table.loc[table.index.isin(allowed) & (table["older_pop"] > 0)]
    rows = [result_row(rule, str(u), r["name"], r["level"], r["share"], target)
            for u, r in table.iterrows()]
    if table.empty:
        return rows, None, ctx.t("no_units")
    computed = float((table["share"] * table["older_pop"]).sum() / table["older_pop"].sum())
    return rows, computed, "; ".join(x for x in (note, ctx.t("bound_any")) if x)


#: Coverage rule evaluators by rule kind.
COVERAGE_RULES: Mapping[str, Callable[[RuleContext, Rule], Evaluation]] = MappingProxyType({
    "unit_coverage": _unit_coverage, "population_coverage": _population_coverage,
})
