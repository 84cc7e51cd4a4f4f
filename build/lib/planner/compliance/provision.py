"""Provision rules: facilities present in each unit, counted, and sited near health care."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

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
from planner.coverage.colocation import compute_colocation


def _facility_counts(ctx: RuleContext, facilities: pd.DataFrame) -> pd.Series:
    placed = facilities.loc[facilities["unit"].notna(), "unit"].astype(str)
    pairs = ctx.ancestors.merge(placed.rename("unit_id").to_frame(), on="unit_id")
    return pairs["ancestor_id"].value_counts()


def _presence(ctx: RuleContext, rule: Rule) -> Evaluation:
    """Units at the rule's levels holding enough facilities of its types."""
    p = rule.params
    if ctx.facilities["unit"].isna().all():
        return [], None, ctx.needs("assignment")
    types = list(p["types"])  # type: ignore[call-overload]
    fac = ctx.facilities.loc[ctx.facilities["type"].isin(types)]
    if "min_floor_area_m2" in p:
        if "floor_area_m2" not in fac.columns:
            return [], None, ctx.needs("floor_area")
        min_area = float(p["min_floor_area_m2"])  # type: ignore[arg-type]
        fac = fac.loc[fac["floor_area_m2"] >= min_area]
    levels = list(p["levels"])  # type: ignore[call-overload]
    conditional = list(p.get("conditional_levels", []))  # type: ignore[call-overload]
    hier = ctx.hierarchy
    if not hier["level"].isin(levels).any():
        return [], None, ctx.needs("level", lv="/".join(levels))
    allowed = set(bottom_units(ctx, str(p.get("settlement", "all")))["unit_id"])
    counts = _facility_counts(ctx, fac)
    min_count = int(p.get("min_count", 1))  # type: ignore[call-overload]
    rows = []
    for h in hier.loc[hier["level"].isin(levels + conditional)].itertuples(index=False):
        if h.level in BOTTOM and h.unit_id not in allowed:
            continue
        note = ctx.t("conditional") if h.level in conditional else ""
        rows.append(result_row(rule, h.unit_id, h.name, h.level, float(counts.get(h.unit_id, 0)),
                               min_count, note=note))
    computed, extra = share_passing(ctx, rows)
    return rows, computed, extra


def _count(ctx: RuleContext, rule: Rule) -> Evaluation:
    """Number of facilities of the rule's types in the whole area."""
    types = list(rule.params["types"])  # type: ignore[call-overload]
    fac = ctx.facilities.loc[ctx.facilities["type"].isin(types)]
    settlement = str(rule.params.get("settlement", "all"))
    if settlement != "all":
        if fac["unit"].isna().all():
            return [], None, ctx.needs("assignment")
        fac = fac.loc[fac["unit"].isin(set(bottom_units(ctx, settlement)["unit_id"]))]
    n = float(len(fac))
    return [result_row(rule, "all", ctx.t("all"), "city", n, rule.target)], n, ""



def _colocation(ctx: RuleContext, rule: Rule) -> Evaluation:
    """Facilities within the rule's distance of a health facility."""
    p = rule.params
    health = list(p.get("health_types", ["health"]))  # type: ignore[call-overload]
    if not ctx.facilities["type"].isin(health).any():
        return [], None, ctx.needs("health")
    dist = compute_colocation(ctx.facilities,
                              types=list(p["types"]),  # type: ignore[call-overload]
                              health_types=health, network=ctx.colocation)
    fac = ctx.facilities.set_index("facility_id")
    settlement = str(p.get("settlement", "all"))
    if settlement != "all":
        keep = set(bottom_units(ctx, settlement)["unit_id"])
        dist = dist.loc[fac.loc[dist["facility_id"], "unit"].isin(keep).to_numpy()]
    limit = float(p["max_distance_m"])  # type: ignore[arg-type]
    rows = [result_row(rule, d.facility_id, str(fac.at[d.facility_id, "name"]), "facility",
                       d.distance_m, limit, at_most=True,
                       note=f"{d.nearest_health_id} ({d.distance_kind})")
            for d in dist.itertuples(index=False)]
    if not rows:
        return rows, None, ctx.t("no_fac")
    computed, extra = share_passing(ctx, rows)
    return rows, computed, extra


#: Provision rule evaluators by rule kind.
PROVISION_RULES: Mapping[str, Callable[[RuleContext, Rule], Evaluation]] = MappingProxyType({
    "presence": _presence, "count": _count, "colocation": _colocation,
})
