"""Choose the study area's projected metric CRS; project coordinates to and from it."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from pyproj import CRS, Transformer

from planner.errors import InputDataError


def choose_utm_crs(lon: NDArray[np.float64], lat: NDArray[np.float64]) -> str:
    """EPSG code (``"EPSG:326zz"`` / ``"EPSG:327zz"``) of the UTM zone at the data's centre.

    Raises
    ------
    InputDataError
        No coordinates, or coordinates outside lon/lat ranges (projected data given as lon/lat).
    """
    if lon.size == 0:
        msg = "no coordinates to choose a CRS from; the study area is empty"
        raise InputDataError(msg)
    if np.nanmax(np.abs(lon)) > 180 or np.nanmax(np.abs(lat)) > 90:
        msg = (
            f"coordinates up to ({np.nanmax(np.abs(lon)):.0f}, {np.nanmax(np.abs(lat)):.0f}) are not "
            "lon/lat degrees; reproject the data to WGS-84 (EPSG:4326) first"
        )
        raise InputDataError(msg)
    lon0 = float(np.nanmedian(lon))
    lat0 = float(np.nanmedian(lat))
    zone = int((lon0 + 180) // 6) + 1
    return f"EPSG:{32600 + zone if lat0 >= 0 else 32700 + zone}"


def project_lonlat(
    lon: NDArray[np.float64], lat: NDArray[np.float64], crs: str
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """WGS-84 lon/lat degrees -> x, y metres in ``crs``."""
    tr = Transformer.from_crs(CRS.from_epsg(4326), CRS.from_user_input(crs), always_xy=True)
    x, y = tr.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)


def unproject_xy(
    x: NDArray[np.float64], y: NDArray[np.float64], crs: str
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """x, y metres in ``crs`` -> WGS-84 lon/lat degrees."""
    tr = Transformer.from_crs(CRS.from_user_input(crs), CRS.from_epsg(4326), always_xy=True)
    lon, lat = tr.transform(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
    return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
