"""Convert Chinese web-map coordinates (GCJ-02, BD-09) to and from WGS-84; refuse projected input.

Notes
-----
GCJ-02 (国测局坐标, used by Amap/高德 and Tencent) adds a deterministic, position-dependent offset of
a few hundred metres to WGS-84 inside China; the offset is the published Krasovsky-ellipsoid
polynomial (semi-major axis ``a = 6378245`` m, eccentricity squared ``ee = 0.00669342162296594323``)
evaluated at ``x = lon - 105``, ``y = lat - 35``. BD-09 (Baidu) applies a further small rotation
and scaling of the GCJ-02 position with ``x_pi = pi * 3000 / 180`` and the constant offsets
``(0.0065, 0.006)`` degrees. Points outside the rough China box (lon 72.004-137.8347,
lat 0.8293-55.8271) get no GCJ-02 shift, exactly as the forward transform; the BD-09 step applies
everywhere, as Baidu's formula does.

The inverse transforms (to WGS-84) are computed by fixed-point iteration on the forward transform,
``w <- w - (forward(w) - target)``, until the forward image matches the input to 1e-11 degrees
(about 1 mm); the measured round-trip error over a 0.1-degree grid covering China is reported in
``tests/planner/network/test_coords.py`` (below 1 mm, far better than the 0.5 m requirement).

``cgcs2000`` (China Geodetic Coordinate System 2000, the national datum of planning-bureau data) is
treated as WGS-84: the two datums differ by a few centimetres, far below any accuracy that
matters for walking catchments.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from planner.errors import InputDataError

CoordSystem = Literal["wgs84", "gcj02", "bd09", "cgcs2000"]
COORD_SYSTEMS: tuple[str, ...] = ("wgs84", "gcj02", "bd09", "cgcs2000")

_A_M = 6378245.0
_EE = 0.00669342162296594323
_X_PI = np.pi * 3000.0 / 180.0
_TOL_DEG = 1e-11
_MAX_ITER = 50

Array = NDArray[np.float64]


def _as_arrays(lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    lon_a = np.asarray(lon, dtype=np.float64)
    lat_a = np.asarray(lat, dtype=np.float64)
    if lon_a.shape != lat_a.shape:
        msg = f"lon and lat have different shapes {lon_a.shape} and {lat_a.shape}; pass pairs"
        raise InputDataError(msg)
    return lon_a, lat_a


def is_in_china(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """Whether points fall in the box where GCJ-02 applies its offset (WGS-84 or GCJ-02 degrees)."""
    lon_a, lat_a = _as_arrays(lon, lat)
    return (lon_a >= 72.004) & (lon_a <= 137.8347) & (lat_a >= 0.8293) & (lat_a <= 55.8271)


def _offset_lat(x: Array, y: Array) -> Array:
    out = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    out += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    out += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    out += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    return out


def _offset_lon(x: Array, y: Array) -> Array:
    out = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    out += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    out += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    out += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    return out


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    """Forward GCJ-02 transform (degrees in, degrees out); points outside China are unchanged."""
    lon_a, lat_a = _as_arrays(lon, lat)
    x, y = lon_a - 105.0, lat_a - 35.0
    rad_lat = lat_a / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    d_lat = _offset_lat(x, y) * 180.0 / ((_A_M * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    d_lon = _offset_lon(x, y) * 180.0 / (_A_M / sqrt_magic * np.cos(rad_lat) * np.pi)
    inside = is_in_china(lon_a, lat_a)
    return np.where(inside, lon_a + d_lon, lon_a), np.where(inside, lat_a + d_lat, lat_a)


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    """Forward BD-09 transform of GCJ-02 degrees."""
    x, y = _as_arrays(lon, lat)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    """Forward BD-09 transform of WGS-84 degrees (through GCJ-02)."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def _invert(
    forward: Callable[[Array, Array], tuple[Array, Array]], lon: Array, lat: Array
) -> tuple[Array, Array]:
    """Solve ``forward(w) = (lon, lat)`` by fixed-point iteration from ``w = target``."""
    w_lon, w_lat = lon.copy(), lat.copy()
    for _ in range(_MAX_ITER):
        f_lon, f_lat = forward(w_lon, w_lat)
        e_lon, e_lat = f_lon - lon, f_lat - lat
        w_lon, w_lat = w_lon - e_lon, w_lat - e_lat
        if not (np.any(np.abs(e_lon) >= _TOL_DEG) or np.any(np.abs(e_lat) >= _TOL_DEG)):
            break
    return w_lon, w_lat


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    """Inverse GCJ-02 transform by iteration (round trip below 1 mm inside China)."""
    return _invert(wgs84_to_gcj02, *_as_arrays(lon, lat))


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    """Inverse BD-09 to GCJ-02 transform by iteration."""
    return _invert(gcj02_to_bd09, *_as_arrays(lon, lat))


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    """Inverse BD-09 to WGS-84 transform by iteration (through GCJ-02)."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def check_lonlat(lon: ArrayLike, lat: ArrayLike, *, what: str = "coordinates") -> None:
    """Refuse values that cannot be WGS-84 longitude/latitude degrees.

    Raises
    ------
    InputDataError
        A value outside +-180/+-90 (projected metres, such as CGCS2000 Gauss-Kruger), or lon/lat
        swapped for a point in China; the message names the first bad value and the fix.
    """
    lon_a, lat_a = _as_arrays(lon, lat)
    ok = np.isfinite(lon_a) & np.isfinite(lat_a)
    lon_f, lat_f = lon_a[ok], lat_a[ok]
    bad = (np.abs(lon_f) > 180.0) | (np.abs(lat_f) > 90.0)
    if bad.any():
        i = int(np.argmax(bad))
        pair = f"({lon_f[i]:.10g}, {lat_f[i]:.10g})"
        if max(abs(lon_f[i]), abs(lat_f[i])) > 1000.0:
            msg = (
                f"{what} {pair} look like projected metres, not lon/lat degrees; reproject to "
                "EPSG:4326 (e.g. CGCS2000 Gauss-Kruger -> EPSG:4490) before loading"
            )
        elif 73.0 <= lat_f[i] <= 136.0 and 3.0 <= lon_f[i] <= 54.0:
            msg = f"{what} {pair} have lon and lat swapped; put longitude (e.g. 104.06) first"
        else:
            msg = f"{what} {pair} are outside lon -180..180 / lat -90..90; give WGS-84 degrees"
        raise InputDataError(msg)


def to_wgs84(
    lon: ArrayLike, lat: ArrayLike, coords: str = "wgs84"
) -> tuple[Array, Array]:
    """Convert lon/lat in ``coords`` (wgs84, gcj02, bd09, cgcs2000) to WGS-84 degrees.

    Missing values (NaN) pass through. The input is checked with :func:`check_lonlat` first.

    Raises
    ------
    InputDataError
        Unknown coordinate system, or values that are not lon/lat degrees.
    """
    key = str(coords).strip().lower().replace("-", "").replace("_", "")
    if key not in COORD_SYSTEMS:
        msg = f"unknown coordinate system {coords!r}; use one of {', '.join(COORD_SYSTEMS)}"
        raise InputDataError(msg)
    lon_a, lat_a = _as_arrays(lon, lat)
    check_lonlat(lon_a, lat_a)
    if key in ("wgs84", "cgcs2000"):
        return lon_a.copy(), lat_a.copy()
    if key == "gcj02":
        return gcj02_to_wgs84(lon_a, lat_a)
    return bd09_to_wgs84(lon_a, lat_a)


def round_trip_error_m(lon: ArrayLike, lat: ArrayLike, coords: CoordSystem) -> Array:
    """Metres between WGS-84 points and their forward-then-inverse image (a self-check).

    ``coords`` is the intermediate system (``gcj02`` or ``bd09``); distances are great-circle
    metres on a 6,371,008.8 m sphere.
    """
    lon_a, lat_a = _as_arrays(lon, lat)
    forward = wgs84_to_gcj02 if coords == "gcj02" else wgs84_to_bd09
    back_lon, back_lat = to_wgs84(*forward(lon_a, lat_a), coords=coords)
    p1, p2 = np.radians(lat_a), np.radians(back_lat)
    dp, dl = p2 - p1, np.radians(back_lon - lon_a)
    h = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    dist_m: Array = 2.0 * 6371008.8 * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))  # ufuncs typed Any
    return dist_m
