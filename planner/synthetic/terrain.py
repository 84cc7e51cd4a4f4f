"""A synthetic terrain model: one hill under the demo district (for ``careplan demo --dem``).

The DEM is in the district's UTM zone with ``cell_m`` cells (30 m, like SRTM/ALOS), a base of
500 m and a Gaussian hill of ``height_m`` (150 m) centred on the study area, spread a sixth of
its width, so streets near the centre climb grades of several per cent. Not real terrain.
"""

from __future__ import annotations

import numpy as np
import pyproj
import shapely

from planner.schema import RasterWindow


def synthetic_hill_dem(area_wgs84: shapely.Geometry, *, height_m: float = 150.0,
                       cell_m: float = 30.0, margin_m: float = 600.0) -> RasterWindow:
    """Elevation (m) over ``area_wgs84`` plus ``margin_m``: a hill of ``height_m`` (0: flat)."""
    w, s, e, n = area_wgs84.bounds
    zone = int(((w + e) / 2 + 180) // 6) + 1
    crs = f"EPSG:{(32600 if s + n >= 0 else 32700) + zone}"
    to_utm = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    x, y = (np.asarray(v) for v in to_utm.transform([w, e, w, e], [s, s, n, n]))
    x0, x1 = float(x.min()) - margin_m, float(x.max()) + margin_m
    y0, y1 = float(y.min()) - margin_m, float(y.max()) + margin_m
    cols, rows = int(np.ceil((x1 - x0) / cell_m)), int(np.ceil((y1 - y0) / cell_m))
    cx = x0 + (np.arange(cols) + 0.5) * cell_m
    cy = y1 - (np.arange(rows) + 0.5) * cell_m
    gx, gy = np.meshgrid(cx, cy)
    mx, my = (x0 + x1) / 2, (y0 + y1) / 2
    spread = max(x1 - x0, y1 - y0) / 6
    z = 500.0 + height_m * np.exp(-((gx - mx) ** 2 + (gy - my) ** 2) / (2 * spread**2))
    return RasterWindow(z, (cell_m, 0.0, x0, 0.0, -cell_m, y1), crs, "synthetic_hill")
