"""Evaluate a rule profile: per-unit pass/fail with shortfalls and the plan's indicator table (zh/en).

Rules whose data are missing are reported as "not evaluable: needs X" (evaluable False, met None);
they are never passed silently. Shares are fractions (0.95 = 95%).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from planner.colocation import assign_units, compute_colocation
from planner.compliance_text import BINDING_LABELS, text
from planner.hierarchy import build_hierarchy, find_ancestors, roll_up
from planner.rules import Rule, RuleProfile

PER_UNIT_COLUMNS = ("rule_id", "unit_id", "unit_name", "level", "measured", "target", "shortfall",
                    "passed", "evaluable", "note")
INDICATOR_COLUMNS = ("rule_id", "indicator", "indicator_en", "baseline", "target", "target_year",
                     "binding", "computed", "met", "source", "note")
BOTTOM = ("community", "village")
ELDERLY_TYPES = ("day_care", "meal_point", "community_complex", "service_station", "nursing_home")


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


@dataclass(frozen=True, slots=True)
class _Ctx:
    profile: RuleProfile
    units: pd.DataFrame
    facilities: gpd.GeoDataFrame
    coverage: pd.DataFrame | None
    hierarchy: pd.DataFrame
    ancestors: pd.DataFrame
    colocation: pd.DataFrame | None
    lang: str

    def t(self, key: str, **kw: object) -> str:
        return text(key, self.lang, **kw)

    def needs(self, key: str, **kw: object) -> str:
        return self.t("needs") + self.t(key, **kw)


_Eval = tuple[list[dict[str, object]], float | None, str]


def _row(rule: Rule, uid: str, name: str, level: str, measured: float, target: float | None,
         *, evaluable: bool = True, note: str = "", at_most: bool = False) -> dict[str, object]:
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


def _share_passing(ctx: _Ctx, rows: list[dict[str, object]]) -> tuple[float | None, str]:
    counted = [r for r in rows if r["evaluable"] and r["note"] != ctx.t("conditional")]
    skipped = sum(1 for r in rows if not r["evaluable"])
    note = ctx.t("partial", n=skipped) if skipped else ""
    if not counted:
        return None, note or ctx.t("no_units")
    return float(np.mean([bool(r["passed"]) for r in counted])), note


def _bottom_units(ctx: _Ctx, settlement: str) -> pd.DataFrame:
    units = ctx.units
    return units if settlement == "all" else units.loc[units["settlement"] == settlement]


def _type_coverage(ctx: _Ctx, rule: Rule) -> tuple[pd.DataFrame | None, str]:
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
        scope = _bottom_units(ctx, str(rule.params.get("settlement", "all")))["unit_id"]
        have = cov.loc[cov["unit_id"].isin(scope) & cov["threshold_min"].notna(), "threshold_min"]
        if len(have) and not np.allclose(have.to_numpy(float), float(want)):  # type: ignore[arg-type]
            return None, ctx.needs("threshold", t="/".join(types), m=want, h=have.iloc[0])
    return cov, "; ".join(notes)


def _combined_share(ctx: _Ctx, rule: Rule, cov: pd.DataFrame) -> pd.DataFrame:
    rolled = roll_up(cov, ctx.hierarchy, by=("facility_type",))
    wide = rolled.pivot_table(index="unit_id", columns="facility_type", values="covered_share",
                              dropna=False)
    combine = str(rule.params.get("combine", "any"))
    share = wide.min(axis=1, skipna=False) if combine == "all" else wide.max(axis=1, skipna=False)
    meta = rolled.drop_duplicates("unit_id").set_index("unit_id")[["name", "level", "older_pop"]]
    return meta.assign(share=share.reindex(meta.index))


def _unit_coverage(ctx: _Ctx, rule: Rule) -> _Eval:
    cov, note = _type_coverage(ctx, rule)
    if cov is None:
        return [], None, note
    unit_share = float(rule.params.get("unit_share", ctx.profile.coverage.target_share))  # type: ignore[arg-type]
    levels = list(rule.params.get("levels", BOTTOM))  # type: ignore[call-overload]
    settlement = str(rule.params.get("settlement", "all"))
    allowed = set(_bottom_units(ctx, settlement)["unit_id"].astype(str))
    table = _combined_share(ctx, rule, cov)
    rows = []
    for uid, r in table.loc[table["level"].isin(levels)].iterrows():
        if r["level"] in BOTTOM and uid not in allowed:
            continue
        if not r["older_pop"] > 0:
            rows.append(_row(rule, str(uid), r["name"], r["level"], np.nan, unit_share,
                             evaluable=False, note=ctx.t("no_pop")))
            continue
        rows.append(_row(rule, str(uid), r["name"], r["level"], r["share"], unit_share))
    computed, extra = _share_passing(ctx, rows)
    return rows, computed, "; ".join(x for x in (note, extra) if x)


def _population_coverage(ctx: _Ctx, rule: Rule) -> _Eval:
    cov, note = _type_coverage(ctx, rule)
    if cov is None:
        return [], None, note
    target = rule.target if rule.target is not None else ctx.profile.coverage.target_share
    allowed = set(_bottom_units(ctx, str(rule.params.get("settlement", "all")))["unit_id"])
    table = _combined_share(ctx, rule, cov)
    table = table.loc[table.index.isin(allowed) & (table["older_pop"] > 0)]
    rows = [_row(rule, str(u), r["name"], r["level"], r["share"], target)
            for u, r in table.iterrows()]
    if table.empty:
        return rows, None, ctx.t("no_units")
    computed = float((table["share"] * table["older_pop"]).sum() / table["older_pop"].sum())
    return rows, computed, "; ".join(x for x in (note, ctx.t("bound_any")) if x)


def _facility_counts(ctx: _Ctx, facilities: pd.DataFrame) -> pd.Series:
    placed = facilities.loc[facilities["unit"].notna(), "unit"].astype(str)
    pairs = ctx.ancestors.merge(placed.rename("unit_id").to_frame(), on="unit_id")
    return pairs["ancestor_id"].value_counts()


def _presence(ctx: _Ctx, rule: Rule) -> _Eval:
    p = rule.params
    if ctx.facilities["unit"].isna().all():
        return [], None, ctx.needs("assignment")
    fac = ctx.facilities.loc[ctx.facilities["type"].isin(list(p["types"]))]  # type: ignore[call-overload]
    if "min_floor_area_m2" in p:
        if "floor_area_m2" not in fac.columns:
            return [], None, ctx.needs("floor_area")
        fac = fac.loc[fac["floor_area_m2"] >= float(p["min_floor_area_m2"])]  # type: ignore[arg-type]
    levels = list(p["levels"])  # type: ignore[call-overload]
    conditional = list(p.get("conditional_levels", []))  # type: ignore[call-overload]
    hier = ctx.hierarchy
    if not hier["level"].isin(levels).any():
        return [], None, ctx.needs("level", lv="/".join(levels))
    allowed = set(_bottom_units(ctx, str(p.get("settlement", "all")))["unit_id"])
    counts = _facility_counts(ctx, fac)
    min_count = int(p.get("min_count", 1))  # type: ignore[call-overload]
    rows = []
    for h in hier.loc[hier["level"].isin(levels + conditional)].itertuples(index=False):
        if h.level in BOTTOM and h.unit_id not in allowed:
            continue
        note = ctx.t("conditional") if h.level in conditional else ""
        rows.append(_row(rule, h.unit_id, h.name, h.level, float(counts.get(h.unit_id, 0)),
                         min_count, note=note))
    computed, extra = _share_passing(ctx, rows)
    return rows, computed, extra


def _count(ctx: _Ctx, rule: Rule) -> _Eval:
    fac = ctx.facilities.loc[ctx.facilities["type"].isin(list(rule.params["types"]))]  # type: ignore[call-overload]
    settlement = str(rule.params.get("settlement", "all"))
    if settlement != "all":
        if fac["unit"].isna().all():
            return [], None, ctx.needs("assignment")
        fac = fac.loc[fac["unit"].isin(set(_bottom_units(ctx, settlement)["unit_id"]))]
    n = float(len(fac))
    return [_row(rule, "all", ctx.t("all"), "city", n, rule.target)], n, ""


def _floor_area(ctx: _Ctx, rule: Rule) -> _Eval:
    fac = ctx.facilities.loc[ctx.facilities["type"].isin(list(rule.params["types"]))]  # type: ignore[call-overload]
    if "floor_area_m2" not in fac.columns:
        return [], None, ctx.needs("floor_area")
    by_zone = dict(rule.params.get("min_floor_area_m2_by_zone", {}))  # type: ignore[call-overload]
    default = rule.params.get("min_floor_area_m2")
    zones = dict(zip(ctx.units["unit_id"].astype(str), ctx.units.get("zone", "")))
    rows = []
    for f in fac.itertuples(index=False):
        zone = zones.get(str(f.unit), "") if isinstance(f.unit, str) else ""
        need = by_zone.get(zone, default)
        if need is None:
            rows.append(_row(rule, f.facility_id, f.name, "facility", f.floor_area_m2, None,
                             evaluable=False, note=ctx.needs("zone_area", z="/".join(by_zone))))
        elif not np.isfinite(f.floor_area_m2):
            rows.append(_row(rule, f.facility_id, f.name, "facility", np.nan, float(need),
                             evaluable=False, note=ctx.needs("floor_area")))
        else:
            rows.append(_row(rule, f.facility_id, f.name, "facility", f.floor_area_m2,
                             float(need), note=zone))
    if not rows:
        return rows, None, ctx.t("no_fac")
    computed, extra = _share_passing(ctx, rows)
    return rows, computed, extra


def _beds_per_1000(ctx: _Ctx, rule: Rule) -> _Eval:
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
            rows.append(_row(rule, r.unit_id, r.name, r.level, r.ratio * 1000.0, rule.target))
    if pop <= 0:
        return rows, None, ctx.t("no_pop")
    return rows, float(fac["beds"].fillna(0.0).sum() / pop * 1000.0), ""


def _nursing_bed_share(ctx: _Ctx, rule: Rule) -> _Eval:
    types = list(rule.params.get("types", ELDERLY_TYPES))  # type: ignore[call-overload]
    fac = ctx.facilities.loc[ctx.facilities["type"].isin(types)]
    for col in ("beds", "nursing_beds"):
        if col not in fac.columns or fac[col].isna().all():
            return [], None, ctx.needs(col)
    used = fac.loc[(fac["beds"] > 0) & fac["nursing_beds"].notna()]
    share = float(used["nursing_beds"].sum() / used["beds"].sum())
    skipped = int(((fac["beds"] > 0) & fac["nursing_beds"].isna()).sum())
    note = ctx.t("partial_fac", n=skipped) if skipped else ""
    return [_row(rule, "all", ctx.t("all"), "city", share, rule.target)], share, note


def _land_per_person(ctx: _Ctx, rule: Rule) -> _Eval:
    fac = ctx.facilities.loc[ctx.facilities["type"].isin(list(rule.params["types"]))]  # type: ignore[call-overload]
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
    rows = [_row(rule, u.unit_id, u.name, u.level, land.get(u.unit_id, 0.0) / u.total_pop
                 if u.total_pop > 0 else np.nan, need, evaluable=bool(u.total_pop > 0))
            for u in units.itertuples(index=False)]
    computed, extra = _share_passing(ctx, rows)
    return rows, computed, extra


def _colocation(ctx: _Ctx, rule: Rule) -> _Eval:
    p = rule.params
    health = list(p.get("health_types", ["health"]))  # type: ignore[call-overload]
    if not ctx.facilities["type"].isin(health).any():
        return [], None, ctx.needs("health")
    dist = compute_colocation(ctx.facilities, types=list(p["types"]), health_types=health,  # type: ignore[call-overload]
                              network=ctx.colocation)
    fac = ctx.facilities.set_index("facility_id")
    settlement = str(p.get("settlement", "all"))
    if settlement != "all":
        keep = set(_bottom_units(ctx, settlement)["unit_id"])
        dist = dist.loc[fac.loc[dist["facility_id"], "unit"].isin(keep).to_numpy()]
    limit = float(p["max_distance_m"])  # type: ignore[arg-type]
    rows = [_row(rule, d.facility_id, str(fac.at[d.facility_id, "name"]), "facility",
                 d.distance_m, limit, at_most=True,
                 note=f"{d.nearest_health_id} ({d.distance_kind})")
            for d in dist.itertuples(index=False)]
    if not rows:
        return rows, None, ctx.t("no_fac")
    computed, extra = _share_passing(ctx, rows)
    return rows, computed, extra


_EVALUATORS: dict[str, Callable[[_Ctx, Rule], _Eval]] = {
    "unit_coverage": _unit_coverage, "population_coverage": _population_coverage,
    "presence": _presence, "count": _count, "floor_area": _floor_area,
    "beds_per_1000": _beds_per_1000, "nursing_bed_share": _nursing_bed_share,
    "land_per_person": _land_per_person, "colocation": _colocation,
}


def _indicator(ctx: _Ctx, rule: Rule, computed: float | None, note: str) -> dict[str, object]:
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
    ctx = _Ctx(profile, units, fac, coverage, hier, find_ancestors(hier), colocation, lang)
    rows: list[dict[str, object]] = []
    indicators = []
    for rule in profile.rules:
        unit_rows, computed, note = _EVALUATORS[rule.kind](ctx, rule)
        if computed is None and not unit_rows:
            unit_rows = [_row(rule, "all", ctx.t("all"), "city", np.nan, rule.target,
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
