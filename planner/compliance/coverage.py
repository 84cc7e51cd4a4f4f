"""Walking-circle measures: the share of units whose older adults are within the circle, and the
share of older adults within it.

These are careplan's walking-reach measures of a 服务圈 (15-minute / half-hour circle). They are
never a plan's 覆盖率: a plan's coverage rate is a presence indicator (see
:mod:`planner.compliance.provision`). A unit counts as within the circle when at least the
profile's ``coverage.target_share`` of its older adults are (its source is stated in the output).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from types import MappingProxyType
from typing import Any

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
    share_passing,
)
from planner.compliance.rules import Rule
from planner.coverage.hierarchy import roll_up


def _type_coverage(ctx: RuleContext, rule: Rule) -> tuple[pd.DataFrame | None, str]:
    """Coverage rows of the rule's types that exist in the inputs."""
    if ctx.coverage is None or len(ctx.coverage) == 0:
        return None, ctx.needs("coverage")
    types = [t for t in rule.params["types"]  # type: ignore[attr-defined]
             if (ctx.facilities["type"] == t).any()]
    cov = ctx.coverage.loc[ctx.coverage["facility_type"].isin(types)]
    for t in types:
        if t not in set(cov["facility_type"]):
            return None, ctx.needs("cov_type", t=t)
    want = rule.params.get("threshold_min")
    if want is not None:
        scope = bottom_units(ctx, str(rule.params.get("settlement", "all")))["unit_id"]
        have = cov.loc[cov["unit_id"].isin(scope) & cov["threshold_min"].notna(), "threshold_min"]
        if len(have) and not np.allclose(have.to_numpy(float),
                                         float(want)):  # type: ignore[arg-type]
            return None, ctx.needs("threshold", t="/".join(types), m=want, h=have.iloc[0])
    return cov, ""


def _combined_share(ctx: RuleContext, rule: Rule, cov: pd.DataFrame) -> pd.DataFrame:
    rolled = roll_up(cov, ctx.hierarchy, by=("facility_type",))
    wide = rolled.pivot_table(index="unit_id", columns="facility_type", values="covered_share",
                              dropna=False)
    combine = str(rule.params.get("combine", "any"))
    share = wide.min(axis=1, skipna=False) if combine == "all" else wide.max(axis=1, skipna=False)
    meta = rolled.drop_duplicates("unit_id").set_index("unit_id")[["name", "level", "older_pop"]]
    return meta.assign(share=share.reindex(meta.index))


def _records(table: pd.DataFrame) -> Iterator[tuple[Any, str, str, float, float]]:
    """``(unit_id, name, level, older_pop, share)`` per row as Python scalars (what ``iterrows``
    gave, without building a Series per row: tens of thousands of units at city scale)."""
    return zip(table.index.tolist(), *(table[c].astype(object).tolist()
                                       for c in ("name", "level", "older_pop", "share")),
               strict=True)


def _unit_coverage(ctx: RuleContext, rule: Rule) -> Evaluation:
    """Share of units (at the rule's levels) whose older adults are within the circle enough."""
    cov, note = _type_coverage(ctx, rule)
    if cov is None:
        return not_evaluable(note)
    unit_share = ctx.profile.coverage.target_share
    levels = list(rule.params.get("levels", BOTTOM))  # type: ignore[call-overload]
    allowed = set(bottom_units(ctx, str(rule.params.get("settlement", "all")))["unit_id"]
                  .astype(str))
    table = _combined_share(ctx, rule, cov)
    rows = []
    for uid, name, level, pop, share in _records(table.loc[table["level"].isin(levels)]):
        if level in BOTTOM and uid not in allowed:
            continue
        if not pop > 0:
            continue
        rows.append(result_row(rule, str(uid), name, level, share, unit_share))
    out = share_passing(ctx, rows)
    source = ctx.t("unit_share", s=unit_share, src=ctx.profile.target_share_source)
    return rows, Outcome(out.value, "; ".join(x for x in (out.note, source) if x), out.bounds,
                         out.partial)


def _population_coverage(ctx: RuleContext, rule: Rule) -> Evaluation:
    """Share of all older adults within the circle (of the best type, for several types)."""
    cov, note = _type_coverage(ctx, rule)
    if cov is None:
        return not_evaluable(note)
    target = rule.target if rule.target is not None else None
    allowed = set(bottom_units(ctx, str(rule.params.get("settlement", "all")))["unit_id"])
    table = _combined_share(ctx, rule, cov)
    table = table.loc[table.index.isin(allowed) & (table["older_pop"] > 0)]
    rows = [result_row(rule, str(u), name, level, share, target)
            for u, name, level, _, share in _records(table)]
    if table.empty:
        return not_evaluable(ctx.t("no_units"))
    value = float((table["share"] * table["older_pop"]).sum() / table["older_pop"].sum())
    several = len(list(rule.params["types"])) > 1  # type: ignore[call-overload]
    return rows, Outcome(value, ctx.t("bound_any") if several else "")


#: Walking-circle evaluators by rule kind.
COVERAGE_RULES: Mapping[str, Callable[[RuleContext, Rule], Evaluation]] = MappingProxyType({
    "unit_coverage": _unit_coverage, "population_coverage": _population_coverage,
})
