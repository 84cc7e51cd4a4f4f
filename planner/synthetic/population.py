"""A synthetic older-adult population raster over the demo district (WorldPop-like, offline).

The grid is geographic (EPSG:4326) like WorldPop's, with ``cell_deg`` cells (0.001 degrees, about
100 m). Each cell holds the older adults of the demo units at its centre, at the unit's density
(``older_pop / area``) times the cell's area, modulated by a smooth deterministic pattern so that
the within-unit distribution is not uniform. The grid extends ``margin_cells`` beyond the district
on every side, with a thin ring of people there, so the clipping note is exercised; a few cells are
nodata and one is negative (handled and counted). Not real data.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import NDArray

from planner.schema import OLDER_POP, Transform


def synthetic_population_grid(units: gpd.GeoDataFrame, *, cell_deg: float = 0.001,
                              margin_cells: int = 3, seed: int = 7
                              ) -> tuple[NDArray[np.float64], Transform, str]:
    """Older adults per cell over ``units`` (WGS-84 polygons with ``older_pop``).

    Returns
    -------
    tuple
        ``(counts, transform, crs)``: counts shape (rows, cols) with NaN for nodata, the affine
        transform (rasterio order) and ``"EPSG:4326"``.
    """
    rng = np.random.default_rng(seed)
    w, s, e, n = units.total_bounds
    west = np.floor(w / cell_deg) * cell_deg - margin_cells * cell_deg
    north = np.ceil(n / cell_deg) * cell_deg + margin_cells * cell_deg
    cols = int(np.ceil((e - west) / cell_deg)) + margin_cells
    rows = int(np.ceil((north - s) / cell_deg)) + margin_cells
    cx = west + (np.arange(cols) + 0.5) * cell_deg
    cy = north - (np.arange(rows) + 0.5) * cell_deg
    gx, gy = np.meshgrid(cx, cy)
    metric = units.to_crs(units.estimate_utm_crs())
    density = metric[OLDER_POP].to_numpy(float) / np.maximum(metric.area.to_numpy(), 1.0)
    geoms = units.geometry.to_numpy()
    tree = shapely.STRtree(geoms)
    pi, ui = tree.query(shapely.points(gx.ravel(), gy.ravel()), predicate="within")
    cell_m2 = (cell_deg * 111_320.0) ** 2 * np.cos(np.radians(gy.ravel()))
    counts = np.zeros(gx.size)
    counts[pi] = density[ui] * cell_m2[pi]
    wave = 1.0 + 0.6 * np.sin(gx.ravel() * 900.0) * np.cos(gy.ravel() * 700.0)
    counts *= wave
    ring = ~np.isin(np.arange(gx.size), pi)
    counts[ring] = rng.uniform(0.0, 2.0, int(ring.sum()))
    counts = counts.reshape(gy.shape)
    counts[0, :3] = np.nan
    counts[-1, -1] = -5.0
    transform: Transform = (cell_deg, 0.0, float(west), 0.0, -cell_deg, float(north))
    return counts, transform, "EPSG:4326"
