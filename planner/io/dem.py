"""Read a terrain model (GeoTIFF DEM, any CRS) for slope-aware walking (issue 17)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from shapely.geometry.base import BaseGeometry

from planner.io.folder import hash_file
from planner.io.population import area_window, open_raster, write_population_raster
from planner.schema import RasterWindow


def read_dem(path: Path, area_wgs84: BaseGeometry) -> tuple[RasterWindow, str]:
    """The DEM window over the study area (2 cells of margin for interpolation) and its sha256.

    Nodata becomes NaN (streets over it keep flat times).

    Raises
    ------
    InputDataError
        A missing or unreadable file, no CRS, or no overlap with the study area.
    """
    with open_raster(path, "--dem") as src:
        win = area_window(src, path, area_wgs84, flag="--dem", pad=2)
        data = src.read(1, window=win, masked=True, boundless=True)
        t = src.window_transform(win)
        crs = src.crs.to_wkt()
    values = np.where(np.ma.getmaskarray(data), np.nan, np.ma.getdata(data)).astype(np.float64)
    values[~np.isfinite(values)] = np.nan
    return RasterWindow(values, (t.a, t.b, t.c, t.d, t.e, t.f), crs, path.name), hash_file(path)


def write_dem(path: Path, elevation_m: np.ndarray, transform: tuple[float, ...], crs: str) -> None:
    """Write a single-band float32 DEM GeoTIFF (the demo's synthetic hill, tests' planes)."""
    write_population_raster(path, elevation_m, transform, crs)
