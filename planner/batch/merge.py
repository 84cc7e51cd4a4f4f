"""Merge region results into the tables of one run over the whole area (pure).

Coverage rows are per unit and each unit belongs to one region, so the merged coverage is the
concatenation; gaps are ranked again over all units, facility counts summed over the regions'
own facilities, and compliance evaluated once on the merged tables, as one run would.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import pandas as pd

from planner.compliance.evaluate import ComplianceResult, evaluate_compliance
from planner.compliance.rules import RuleProfile
from planner.coverage.gaps import find_gaps
from planner.coverage.hierarchy import build_hierarchy, roll_up
from planner.facilities import count_by_type
from planner.params import FACILITY_TYPES, PlanParams
from planner.schema import FACILITY_TYPE, WGS84


@dataclass(frozen=True, slots=True)
class RegionTables:
    """One region's kept results: its own units and facilities only (WGS-84)."""

    region_id: str
    coverage: pd.DataFrame
    threshold_coverage: pd.DataFrame
    units: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame


@dataclass(frozen=True, slots=True)
class Merged:
    """The merged tables of a batch run."""

    coverage: pd.DataFrame
    threshold_coverage: pd.DataFrame
    gaps: pd.DataFrame
    units: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    by_region: pd.DataFrame


def _concat(frames: list[pd.DataFrame], region_ids: list[str]) -> pd.DataFrame:
    tagged = [f.assign(region_id=r) for f, r in zip(frames, region_ids, strict=True) if len(f)]
    return pd.concat(tagged, ignore_index=True) if tagged else pd.DataFrame()


def _sorted_by_type(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    if frame.empty:
        return frame
    order = {t: i for i, t in enumerate(FACILITY_TYPES)}
    rank = frame["facility_type"].map(order)
    return frame.assign(_t=rank).sort_values(["_t", *keys], kind="mergesort").drop(
        columns="_t").reset_index(drop=True)


#: The tables a merge can read: coverage, threshold coverage, units, facilities.
TABLES = frozenset({"coverage", "thresholds", "units", "facilities"})


def _geo(frames: list[pd.DataFrame], ids: list[str]) -> gpd.GeoDataFrame:
    merged = _concat(frames, ids)
    if "geometry" not in merged.columns:  # no region has a row
        return gpd.GeoDataFrame(merged, geometry=[], crs=WGS84)
    return gpd.GeoDataFrame(merged, crs=WGS84)


def merge_regions(parts: list[RegionTables], params: PlanParams,
                  tables: frozenset[str] = TABLES) -> Merged:
    """Concatenate the regions' own rows, rank gaps over all of them, total per region.

    Only the ``tables`` read are merged (the others stay empty): gaps need the coverage and
    the facilities, the per-region totals the coverage.
    """
    ids = [p.region_id for p in parts]
    coverage = (_sorted_by_type(_concat([p.coverage for p in parts], ids), ["unit_id"])
                if "coverage" in tables else pd.DataFrame())
    thr = (_sorted_by_type(_concat([p.threshold_coverage for p in parts], ids),
                           ["unit_id", "threshold_min"]) if "thresholds" in tables
           else pd.DataFrame())
    units = _geo([p.units for p in parts], ids) if "units" in tables else _geo([], [])
    facilities = (_geo([p.facilities for p in parts], ids) if "facilities" in tables
                  else _geo([], []))
    gaps = pd.DataFrame()
    if len(coverage) and "facilities" in tables:
        types = facilities[FACILITY_TYPE].tolist() if len(facilities) else []
        gaps = find_gaps(coverage.drop(columns="region_id"),
                         required_types=params.coverage.required_types,
                         target_share=params.coverage.target_share,
                         facility_counts=count_by_type(types))
        gaps = gaps.merge(coverage[["unit_id", "region_id"]].drop_duplicates(), on="unit_id",
                          how="left") if len(gaps) else gaps
    return Merged(coverage, thr, gaps, units, facilities, region_totals(coverage))


def region_totals(coverage: pd.DataFrame) -> pd.DataFrame:
    """Older adults and covered older adults per region and type, and for all regions."""
    cols = ["region_id", "facility_type", "older_pop", "covered_pop", "covered_share"]
    if coverage.empty:
        return pd.DataFrame(columns=cols)
    sums = coverage.groupby(["region_id", "facility_type"], sort=True)[
        ["older_pop", "covered_pop"]].sum().reset_index()
    total = coverage.groupby("facility_type", sort=True)[["older_pop", "covered_pop"]].sum()
    total = total.reset_index().assign(region_id="all")
    out = pd.concat([sums, total], ignore_index=True)
    out["covered_share"] = (out["covered_pop"] / out["older_pop"].where(out["older_pop"] > 0)
                            ).fillna(0.0)
    return out[cols]


def merged_compliance(merged: Merged, profile: RuleProfile, hierarchy: pd.DataFrame | None,
                      lang: str) -> ComplianceResult:
    """Compliance of the merged tables, evaluated once as for one run."""
    return evaluate_compliance(profile, units=merged.units.drop(columns="region_id"),
                               facilities=merged.facilities.drop(columns="region_id"),
                               coverage=merged.coverage.drop(columns="region_id"),
                               hierarchy=hierarchy, lang=lang)


def merged_rollup(merged: Merged, hierarchy: pd.DataFrame | None) -> pd.DataFrame | None:
    """Roll-up community → street/town → county → … along the units' hierarchy, if there is one."""
    if hierarchy is None and "parent_id" in merged.units.columns:
        hierarchy = build_hierarchy(pd.DataFrame(merged.units.drop(columns="geometry")))
    if hierarchy is None or merged.coverage.empty:
        return None
    return roll_up(merged.coverage.drop(columns="region_id"), hierarchy)
