"""Capacity rules: floor area per facility, beds per 1000 older adults, nursing beds, land."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

import numpy as np

from planner.compliance.context import (
    ELDERLY_TYPES,
    Evaluation,
    RuleContext,
    result_row,
    share_passing,
)
from planner.compliance.rules import Rule
from planner.coverage.hierarchy import roll_up


def _floor_area(ctx: RuleContext, rule: Rule) -> Evaluation:
    """Facilities meeting the minimum floor area of their unit's zone."""
    types = list(rule.params["types"])  # type: ignore[call-overload]
    fac = ctx.facilities.loc[ctx.facilities["type"].isin(types)]
    if "floor_area_m2" not in fac.columns:
        return [], None, ctx.needs("floor_area")
    by_zone = dict(rule.params.get("min_floor_area_m2_by_zone", {}))  # type: ignore[call-overload]
    default = rule.params.get("min_floor_area_m2")
    zones = dict(zip(ctx.units["unit_id"].astype(str), ctx.units.get("zone", ""), strict=False))
    rows = []
    for f in fac.itertuples(index=False):
        zone = zones.get(str(f.unit), "") if isinstance(f.unit, str) else ""
        need = by_zone.get(zone, default)
        if need is None:
            rows.append(result_row(rule, f.facility_id, f.name, "facility", f.floor_area_m2, None,
                                   evaluable=False,
                                   note=ctx.needs("zone_area", z="/".join(by_zone))))
        elif not np.isfinite(f.floor_area_m2):
            rows.append(result_row(rule, f.facility_id, f.name, "facility", np.nan, float(need),
                                   evaluable=False, note=ctx.needs("floor_area")))
        else:
            rows.append(result_row(rule, f.facility_id, f.name, "facility", f.floor_area_m2,
                                   float(need), note=zone))
    if not rows:
        return rows, None, ctx.t("no_fac")
    computed, extra = share_passing(ctx, rows)
    return rows, computed, extra


def _beds_per_1000(ctx: RuleContext, rule: Rule) -> Evaluation:
    """Beds per 1000 older adults, for the area and per unit."""
    types = list(rule.params.get("types", ELDERLY_TYPES))  # type: ignore[call-overload]
    fac = ctx.facilities.loc[ctx.facilities["type"].isin(types)]
    if "beds" not in fac.columns or fac["beds"].isna().all():
        return [], None, ctx.needs("beds")
    pop = float(ctx.units["older_pop"].sum())
    rows: list[dict[str, object]] = []
    if fac["unit"].notna().any():
        beds = fac.assign(beds=fac["beds"].fillna(0.0))[["unit", "beds"]].rename(
            columns={"unit": "unit_id"})
        per = beds.groupby("unit_id", as_index=False)["beds"].sum()
        table = ctx.units[["unit_id", "older_pop"]].merge(per, on="unit_id", how="left").fillna(
            {"beds": 0.0})
        rolled = roll_up(table, ctx.hierarchy, sum_columns=("older_pop", "beds"),
                         shares={"ratio": ("beds", "older_pop")})
        level = "district" if (rolled["level"] == "district").any() else "community"
        for r in rolled.loc[rolled["level"].isin([level, "village"] if level == "community"
                                                 else [level])].itertuples(index=False):
            rows.append(result_row(rule, r.unit_id, r.name, r.level, r.ratio * 1000.0, rule.target))
    if pop <= 0:
        return rows, None, ctx.t("no_pop")
    return rows, float(fac["beds"].fillna(0.0).sum() / pop * 1000.0), ""


def _nursing_bed_share(ctx: RuleContext, rule: Rule) -> Evaluation:
    """Share of beds that are nursing beds, over the whole area."""
    types = list(rule.params.get("types", ELDERLY_TYPES))  # type: ignore[call-overload]
    fac = ctx.facilities.loc[ctx.facilities["type"].isin(types)]
    for col in ("beds", "nursing_beds"):
        if col not in fac.columns or fac[col].isna().all():
            return [], None, ctx.needs(col)
    used = fac.loc[(fac["beds"] > 0) & fac["nursing_beds"].notna()]
    share = float(used["nursing_beds"].sum() / used["beds"].sum())
    skipped = int(((fac["beds"] > 0) & fac["nursing_beds"].isna()).sum())
    note = ctx.t("partial_fac", n=skipped) if skipped else ""
    return [result_row(rule, "all", ctx.t("all"), "city", share, rule.target)], share, note


def _land_per_person(ctx: RuleContext, rule: Rule) -> Evaluation:
    """Units with enough facility land per resident."""
    types = list(rule.params["types"])  # type: ignore[call-overload]
    fac = ctx.facilities.loc[ctx.facilities["type"].isin(types)]
    if "land_area_m2" not in fac.columns:
        return [], None, ctx.needs("land")
    if "total_pop" not in ctx.units.columns:
        return [], None, ctx.needs("total_pop")
    if fac["unit"].isna().all():
        return [], None, ctx.needs("assignment")
    zones = list(rule.params.get("zones", []))  # type: ignore[call-overload]
    units = ctx.units.loc[ctx.units["zone"].isin(zones)] if zones else ctx.units
    if units.empty:
        return [], None, ctx.needs("zone_area", z="/".join(zones))
    land = fac.groupby("unit")["land_area_m2"].sum()
    need = float(rule.params["min_m2_per_person"])  # type: ignore[arg-type]
    rows = [result_row(rule, u.unit_id, u.name, u.level, land.get(u.unit_id, 0.0) / u.total_pop
                       if u.total_pop > 0 else np.nan, need, evaluable=bool(u.total_pop > 0))
            for u in units.itertuples(index=False)]
    computed, extra = share_passing(ctx, rows)
    return rows, computed, extra


#: Capacity rule evaluators by rule kind.
CAPACITY_RULES: Mapping[str, Callable[[RuleContext, Rule], Evaluation]] = MappingProxyType({
    "floor_area": _floor_area, "beds_per_1000": _beds_per_1000,
    "nursing_bed_share": _nursing_bed_share, "land_per_person": _land_per_person,
})
