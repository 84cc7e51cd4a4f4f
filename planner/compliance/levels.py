"""Three-level count tables (区县 – 镇街 – 村居), as the plans' 「一镇街一中心、一居（村）一站」 lay them out."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from planner.coverage.colocation import assign_units
from planner.coverage.hierarchy import find_ancestors

#: Levels of the table, top to bottom.
TABLE_LEVELS = ("district", "street", "town", "community", "village")
_ORDER = {lv: i for i, lv in enumerate(TABLE_LEVELS)}


def provision_levels(units: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame,
                     hierarchy: pd.DataFrame, types: tuple[str, ...]) -> pd.DataFrame:
    """Facilities of each type inside every county, town/street and community/village, zeros kept.

    Parameters
    ----------
    units
        Bottom units (EPSG:4326) with ``unit_id`` and ``name`` (facilities are placed in them).
    facilities
        EPSG:4326 facilities with ``type`` (and ``community`` for point units).
    hierarchy
        ``unit_id, name, level, parent_id`` for every level.
    types
        Facility types counted, one column each (``n_<type>``).

    Returns
    -------
    pandas.DataFrame
        ``level, unit_id, name, parent_id`` and ``n_<type>`` per type, one row per unit at the
        table's levels, counties first, each followed by its towns/streets and their units.
    """
    hier = hierarchy.astype({"unit_id": str}).assign(
        parent_id=hierarchy["parent_id"].fillna("").astype(str))
    placed = facilities.assign(unit_id=assign_units(facilities, units.assign(
        unit_id=units["unit_id"].astype(str))))
    placed = placed.loc[placed["unit_id"].notna() & placed["type"].isin(types)]
    pairs = find_ancestors(hier).merge(placed[["unit_id", "type"]], on="unit_id")
    counts = pairs.pivot_table(index="ancestor_id", columns="type", values="unit_id",
                               aggfunc="count", fill_value=0)
    rows = hier.loc[hier["level"].isin(TABLE_LEVELS), ["level", "unit_id", "name", "parent_id"]]
    for t in types:
        col = counts[t] if t in counts.columns else pd.Series(dtype=int)
        rows[f"n_{t}"] = rows["unit_id"].map(col).fillna(0).astype(int)
    path = find_ancestors(hier).sort_values("depth", ascending=False).groupby("unit_id")[
        "ancestor_id"].agg(lambda a: "/".join(a))
    rows = rows.assign(_path=rows["unit_id"].map(path).fillna(rows["unit_id"]))
    return rows.sort_values("_path").drop(columns="_path").reset_index(drop=True)
