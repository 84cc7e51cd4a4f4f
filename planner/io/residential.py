"""Read residential areas (居住（小）区) with their build year or "new" flag and population."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from planner.errors import InputDataError
from planner.io.table import ColumnMap, cell_text, parse_number, read_table
from planner.schema import WGS84

_YES = {"是", "yes", "y", "1", "true", "新建"}
_NO = {"否", "no", "n", "0", "false", "已建成", "老旧"}


def read_residential_areas(path: Path | str, *, columns: ColumnMap | None = None
                           ) -> gpd.GeoDataFrame:
    """Polygons of residential areas: ``name, built_year, is_new, population`` in EPSG:4326.

    ``is_new`` is ``yes``/``no`` from the file's 新建 column, else missing (the rule then uses
    ``built_year``); ``population`` falls back to households x 2.62 (China's 2020 census mean
    household size) and stays missing without either.

    Raises
    ------
    InputDataError
        Unreadable file, or no polygon geometry.
    """
    table = read_table(Path(path), table="residential", columns=columns)
    frame = table.frame
    if not isinstance(frame, gpd.GeoDataFrame) or "geometry" not in frame.columns:
        msg = f"residential file {path} has no polygons; give a GeoJSON/GPKG/SHP of the areas"
        raise InputDataError(msg)
    geo = frame.geometry if frame.crs is None or frame.crs.is_geographic else frame.geometry.to_crs(
        WGS84)

    def col(name: str) -> pd.Series:
        return frame[name] if name in frame.columns else pd.Series(None, index=frame.index)

    flag = col("is_new").map(lambda v: None if not cell_text(v) else (
        "yes" if cell_text(v).lower() in _YES else "no" if cell_text(v).lower() in _NO else None))
    pop = col("population").map(parse_number).astype(float)
    pop = pop.fillna(col("households").map(parse_number).astype(float) * 2.62)
    out = gpd.GeoDataFrame({
        "name": col("name").map(cell_text).to_numpy(),
        "built_year": col("built_year").map(parse_number).astype(float).to_numpy(),
        "is_new": flag.to_numpy(), "population": pop.to_numpy(),
    }, geometry=geo.to_numpy(), crs=WGS84)
    keep = out.geometry.notna() & out.geometry.geom_type.isin(["Polygon", "MultiPolygon"])
    if not keep.any():
        msg = f"residential file {path} has no polygons; give a GeoJSON/GPKG/SHP of the areas"
        raise InputDataError(msg)
    out["name"] = np.where(out["name"] == "", [f"area {i + 1}" for i in range(len(out))],
                           out["name"])
    return out.loc[keep].reset_index(drop=True)
