"""Provision rules: facilities present in each unit (with the area standard a clause names),
counted, and sited near health care.

A presence indicator is the plans' (and the 民政 statistics') definition of a 覆盖率: the share of
the units at the rule's levels that hold a facility of the type, counting every unit, including
those without any facility (they fail). An area standard is checked per unit too: the unit passes
when one of its facilities meets the area its zone requires; a blank area is unknown, never a fail.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from types import MappingProxyType

import geopandas as gpd
import numpy as np
import pandas as pd

from planner.compliance.context import (
    BOTTOM,
    Evaluation,
    Outcome,
    RuleContext,
    bottom_units,
    not_evaluable,
    result_row,
    select_facilities,
    share_passing,
    unknown_row,
)
from planner.compliance.rules import Rule
from planner.coverage.colocation import compute_colocation


def unit_zones(ctx: RuleContext) -> dict[str, str]:
    """Zone of every hierarchy unit: its own, or the one zone all its bottom units share."""
    own = {u: str(z) for u, z in zip(ctx.units["unit_id"], ctx.units["zone"], strict=True)
           if str(z)}
    pairs = ctx.ancestors.assign(zone=ctx.ancestors["unit_id"].map(own)).dropna(subset=["zone"])
    zones = pairs.groupby("ancestor_id")["zone"].agg(lambda z: z.iloc[0] if z.nunique() == 1
                                                     else "")
    return {**{str(k): str(v) for k, v in zones.items() if v}, **own}


def served_units(ctx: RuleContext, fac: pd.DataFrame) -> pd.DataFrame:
    """Facilities paired with the bottom unit they lie in and each unit their register's 服务社区
    (``serves``) column names (names or ids separated by 、,，;；/), one row per pair."""
    placed = fac.loc[fac["unit"].notna()].assign(unit_id=lambda f: f["unit"].astype(str))
    if "serves" not in fac.columns:
        return placed
    ids = {**dict(zip(ctx.units["name"].astype(str), ctx.units["unit_id"], strict=True)),
           **{u: u for u in ctx.units["unit_id"]}}
    extra = fac.assign(unit_id=fac["serves"].fillna("").astype(str).map(
        lambda s: [ids[n.strip()] for n in re.split(r"[、,，;；/]", s) if n.strip() in ids]))
    extra = extra.explode("unit_id").dropna(subset=["unit_id"])
    return pd.concat([placed, extra], ignore_index=True)


def _facility_status(ctx: RuleContext, rule: Rule, fac: pd.DataFrame, zone: str
                     ) -> tuple[pd.Series, str]:
    """Per facility: 1 meets the area standard of ``zone``, 0 does not, NaN unknown."""
    p = rule.params
    by_zone = dict(p.get("min_area_m2_by_zone", {}))  # type: ignore[call-overload]
    if "min_area_m2" not in p and not by_zone:
        return pd.Series(np.where(fac["_unknown"], np.nan, 1.0), index=fac.index), ""
    need = by_zone.get(zone, p.get("min_area_m2"))
    if need is None:
        return pd.Series(np.nan, index=fac.index), ctx.needs("zone_area", z="/".join(by_zone))
    area = fac[str(p.get("area_column", "floor_area_m2"))]
    ok = np.where(area.isna(), np.nan, (area >= float(need)).astype(float))  # type: ignore[arg-type,unused-ignore]
    ok = np.where(fac["_unknown"] & (ok == 1.0), np.nan, ok)
    return pd.Series(ok, index=fac.index), ""


def _presence(ctx: RuleContext, rule: Rule) -> Evaluation:
    """Share of units at the rule's levels holding enough facilities (meeting the area standard)."""
    p = rule.params
    if ctx.facilities["unit"].isna().all():
        return not_evaluable(ctx.needs("assignment"))
    fac, missing = select_facilities(ctx, rule)
    if missing:
        return not_evaluable(ctx.needs("column", c=missing))
    area_col = str(p.get("area_column", "floor_area_m2"))
    if ("min_area_m2" in p or "min_area_m2_by_zone" in p) and (
            area_col not in fac.columns or fac[area_col].isna().all()):
        return not_evaluable(ctx.needs("column", c=area_col))
    levels = list(p["levels"])  # type: ignore[call-overload]
    conditional = list(p.get("conditional_levels", []))  # type: ignore[call-overload]
    hier = ctx.hierarchy
    if not hier["level"].isin(levels).any():
        return not_evaluable(ctx.needs("level", lv="/".join(levels)))
    allowed = set(bottom_units(ctx, str(p.get("settlement", "all")))["unit_id"])
    inside = ctx.ancestors.merge(served_units(ctx, fac), on="unit_id").drop_duplicates(
        ["ancestor_id", "facility_id"])
    zones = unit_zones(ctx)
    min_count = int(p.get("min_count", 1))  # type: ignore[call-overload]
    rows = []
    for h in hier.loc[hier["level"].isin(levels + conditional)].itertuples(index=False):
        if h.level in BOTTOM and h.unit_id not in allowed:
            continue
        note = ctx.t("conditional") if h.level in conditional else ""
        mine = inside.loc[inside["ancestor_id"] == h.unit_id]
        status, why = _facility_status(ctx, rule, mine, zones.get(h.unit_id, ""))
        yes, maybe = int((status == 1.0).sum()), int(status.isna().sum())
        if why and len(mine):
            rows.append(unknown_row(rule, h.unit_id, h.name, h.level, min_count, why))
        elif yes < min_count <= yes + maybe:
            rows.append(unknown_row(rule, h.unit_id, h.name, h.level, min_count,
                                    ctx.t("unknown_fac", n=maybe)))
        else:
            rows.append(result_row(rule, h.unit_id, h.name, h.level, float(yes), min_count,
                                   note=note))
    return rows, share_passing(ctx, rows)


def _count(ctx: RuleContext, rule: Rule) -> Evaluation:
    """Facilities of the rule's types in the area, or the sum of their ``measure`` (beds ...)."""
    fac, missing = select_facilities(ctx, rule)
    measure = str(rule.params.get("measure", "facilities"))
    if missing or (measure != "facilities" and (measure not in fac.columns
                                                or fac[measure].isna().all())):
        return not_evaluable(ctx.needs("column", c=missing or measure))
    settlement = str(rule.params.get("settlement", "all"))
    if settlement != "all":
        if fac["unit"].isna().all() and len(fac):
            return not_evaluable(ctx.needs("assignment"))
        fac = fac.loc[fac["unit"].isin(set(bottom_units(ctx, settlement)["unit_id"]))]
    figure = (pd.Series(1.0, index=fac.index) if measure == "facilities"
              else fac[measure].astype(float))
    known = figure.notna() & ~fac["_unknown"]
    n = float(figure[known].sum())
    row = result_row(rule, "all", ctx.t("all"), "city", n, rule.target)
    if known.all():
        return [row], Outcome(n)
    high = np.inf if measure != "facilities" else n + float((~known).sum())
    return [row], Outcome(n, "", (n, high), ctx.t("known_of", k=int(known.sum()), n=len(fac),
                                                 what=ctx.t("fac")))


def _colocation(ctx: RuleContext, rule: Rule) -> Evaluation:
    """Facilities within the rule's distance of a community-level health facility."""
    p = rule.params
    health = list(p.get("health_types", ["health"]))  # type: ignore[call-overload]
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
        return not_evaluable(ctx.t("no_fac"))
    return rows, share_passing(ctx, rows, "fac")


def _is_new(area: pd.Series, new_from: object) -> bool | None:
    if area["is_new"] in ("yes", "no"):
        return bool(area["is_new"] == "yes")
    if new_from is not None and np.isfinite(area["built_year"]):
        return bool(area["built_year"] >= float(new_from))  # type: ignore[arg-type]
    return None


def _residential(ctx: RuleContext, rule: Rule) -> Evaluation:
    """New residential areas holding a facility of the types (and the land standard, if named).

    An area is new by its 新建 flag, else by ``built_year >= new_from_year``; an area whose
    newness is unknown is an unknown row. Facilities are placed by their location in the area.
    """
    areas = ctx.residential
    if areas is None or len(areas) == 0:
        return not_evaluable(ctx.needs("residential"))
    p = rule.params
    new_from = p.get("new_from_year")
    fac, missing = select_facilities(ctx, rule)
    col = str(p.get("area_column", "land_area_m2"))
    need = p.get("min_land_m2_per_person")
    if missing or (need is not None and (col not in fac.columns)):
        return not_evaluable(ctx.needs("column", c=missing or col))
    inside = gpd.sjoin(fac, areas[["geometry"]].reset_index(names="area"), predicate="within")
    rows = []
    for i, area in areas.iterrows():
        new = _is_new(area, new_from)
        if new is False:
            continue
        mine = inside.loc[inside["area"] == i]
        if new is None:
            rows.append(unknown_row(rule, str(i), area["name"], "residential", 1,
                                    ctx.needs("built_year")))
        elif need is None or mine.empty:
            rows.append(result_row(rule, str(i), area["name"], "residential", float(len(mine)), 1))
        elif mine[col].isna().any() or not area["population"] > 0:
            rows.append(unknown_row(rule, str(i), area["name"], "residential", float(need),  # type: ignore[arg-type]
                                    ctx.t("unknown_fac", n=int(mine[col].isna().sum()))))
        else:
            rows.append(result_row(rule, str(i), area["name"], "residential",
                                   float(mine[col].sum()) / float(area["population"]),
                                   float(need)))  # type: ignore[arg-type]
    if not rows:
        return not_evaluable(ctx.t("no_units"))
    return rows, share_passing(ctx, rows, "areas")


#: Provision rule evaluators by rule kind.
PROVISION_RULES: Mapping[str, Callable[[RuleContext, Rule], Evaluation]] = MappingProxyType({
    "presence": _presence, "count": _count, "colocation": _colocation,
    "residential_provision": _residential,
})
