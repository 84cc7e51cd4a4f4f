"""Read candidate sites (idle buildings, vacant rooms, parcels) from GeoJSON/GPKG/Shapefile or CSV."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd

from planner.errors import InputDataError

_LON = ("lon", "lng", "longitude", "x", "经度")
_LAT = ("lat", "latitude", "y", "纬度")


def _pick(columns: list[str], names: tuple[str, ...], path: Path) -> str:
    for col in columns:
        if str(col).strip().lower() in names:
            return col
    msg = f"{path.name} has no {names[0]} column (columns: {', '.join(map(str, columns))}); add one"
    raise InputDataError(msg)


def read_candidates(path: Path) -> gpd.GeoDataFrame:
    """Candidate points or polygons with optional ``candidate_id``, ``capacity`` and ``cost``.

    CSV files need lon/lat columns in WGS-84 degrees; spatial files keep their own CRS.

    Raises
    ------
    InputDataError
        Missing file, unknown format, no coordinates or no rows.
    """
    if not path.is_file():
        raise InputDataError(f"candidates file {path} not found; give an existing file")
    if path.suffix.lower() == ".csv":
        table = pd.read_csv(path, encoding="utf-8-sig")
        lon = _pick(list(table.columns), _LON, path)
        lat = _pick(list(table.columns), _LAT, path)
        geom = gpd.points_from_xy(table[lon], table[lat])
        frame = gpd.GeoDataFrame(table.drop(columns=[lon, lat]), geometry=geom, crs="EPSG:4326")
    elif path.suffix.lower() in (".geojson", ".json", ".gpkg", ".shp"):
        frame = gpd.read_file(path)
    else:
        msg = f"candidates file {path.name} is not CSV, GeoJSON, GPKG or SHP; convert it"
        raise InputDataError(msg)
    if frame.crs is None:
        frame = frame.set_crs("EPSG:4326")
    if len(frame) == 0:
        raise InputDataError(f"candidates file {path.name} has no rows; add candidate sites")
    return frame
