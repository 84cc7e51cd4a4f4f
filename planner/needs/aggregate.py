"""Public aggregates of the needs view: only published counts (see :mod:`planner.needs.publish`).

Everything returned here may leave the protected view: counts per community or per 250 m grid
cell, each through :func:`planner.needs.publish.publish_count`, shares only from published
counts, no person's id, name, position or need.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planner.needs.people import NEED_SERVICE, NEEDS
from planner.needs.publish import publish_count, published_share
from planner.pipeline import PlanResult
from planner.schema import NAME, WGS84

GRID_M = 250.0


def public_coverage(coverage: pd.DataFrame) -> pd.DataFrame:
    """coverage_needs.csv: per unit, type and group, published people/covered/uncovered."""
    out = coverage[["unit_id", "unit_name", "facility_type", "group"]].copy()
    out["people"] = coverage["people"].map(publish_count)
    out["covered"] = coverage["covered"].map(publish_count)
    out["uncovered"] = (coverage["people"] - coverage["covered"]).map(publish_count)
    out["covered_share"] = [published_share(c, p) for c, p in
                            zip(out["covered"], out["people"], strict=True)]
    return out


def needs_gaps(coverage: pd.DataFrame) -> pd.DataFrame:
    """needs_gaps.csv: units ranked by people with an unmet need (published counts)."""
    part = coverage[coverage["group"].isin(NEEDS)].copy()
    part["unmet"] = part["people"] - part["covered"]
    part = part[part["unmet"] > 0].sort_values(["unmet", "unit_id"], ascending=[False, True])
    return pd.DataFrame({"rank": np.arange(1, len(part) + 1), "unit_id": part["unit_id"],
                         "unit_name": part["unit_name"], "need": part["group"],
                         "facility_type": part["facility_type"],
                         "unmet": part["unmet"].map(publish_count)}).reset_index(drop=True)


def _counts(keys: pd.Series, people: pd.DataFrame, unmet: pd.DataFrame) -> pd.DataFrame:
    frame = pd.DataFrame({"key": keys.to_numpy(), "people": 1})
    for need in NEEDS:
        frame[need] = people[need].to_numpy(dtype=bool)
        frame[f"{need}_unmet"] = unmet[need].to_numpy(dtype=bool)
    exact = frame.groupby("key").sum()
    return exact.map(publish_count)


def unmet_flags(people: pd.DataFrame, times: pd.DataFrame) -> pd.DataFrame:
    """Per person (row position) and need: True when the need's service is out of reach."""
    out = pd.DataFrame(index=range(len(people)))
    for need in NEEDS:
        t = times[times["facility_type"] == NEED_SERVICE[need]].set_index("person")
        out_of_reach = ~(t["time_s"] <= t["threshold_s"]).reindex(out.index, fill_value=False)
        out[need] = people[need].to_numpy(dtype=bool) & out_of_reach.to_numpy(dtype=bool)
    return out


def community_counts(plan: PlanResult, people: pd.DataFrame,
                     unmet: pd.DataFrame) -> gpd.GeoDataFrame:
    """Published counts per community (unit) with its geometry (WGS-84)."""
    counts = _counts(people["unit_id"].fillna("unknown").astype(str), people, unmet)
    units = plan.units.to_crs(WGS84).set_index("unit_id")
    counts = counts.reindex(units.index.astype(str)).fillna(publish_count(0))
    return gpd.GeoDataFrame(counts.assign(name=units[NAME].to_numpy()).rename_axis("unit_id")
                            .reset_index(), geometry=units.geometry.to_numpy(), crs=WGS84)


def grid_counts(plan: PlanResult, people: gpd.GeoDataFrame, unmet: pd.DataFrame,
                cell_m: float = GRID_M) -> gpd.GeoDataFrame:
    """Published counts per square cell of ``cell_m`` in the network CRS (cells with people)."""
    pts = people.to_crs(plan.network.crs)
    ix = np.floor(pts.geometry.x.to_numpy() / cell_m).astype(np.int64)
    iy = np.floor(pts.geometry.y.to_numpy() / cell_m).astype(np.int64)
    keys = pd.Series([f"{a}_{b}" for a, b in zip(ix, iy, strict=True)])
    counts = _counts(keys, people, unmet)
    cells = [tuple(int(v) for v in k.split("_")) for k in counts.index]
    boxes = [shapely.box(a * cell_m, b * cell_m, (a + 1) * cell_m, (b + 1) * cell_m)
             for a, b in cells]
    frame = gpd.GeoDataFrame(counts.rename_axis("cell").reset_index(), geometry=boxes,
                             crs=plan.network.crs)
    return frame.to_crs(WGS84)
