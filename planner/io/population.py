"""Read population rasters (WorldPop, census grids) with rasterio; write the demo's raster.

Only the window covering the study area is read (a WorldPop country raster is tens of thousands
of cells wide). Nodata becomes NaN; the people of the raster outside the window are summed by
:func:`read_population` only for small rasters (it would mean reading a whole country otherwise).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import rasterio
import rasterio.windows
from rasterio.errors import RasterioIOError
from rasterio.warp import transform_bounds
from shapely.geometry.base import BaseGeometry

from planner.errors import InputDataError
from planner.schema import PopulationGrid

#: Rasters with at most this many cells are read whole, so the clipped-away people are known.
WHOLE_READ_CELLS = 25_000_000


def open_raster(path: Path, flag: str) -> rasterio.DatasetReader:
    """Open a GeoTIFF that has a CRS; one-line errors name ``flag`` and the file."""
    if not path.is_file():
        msg = f"{flag} {path} not found; give an existing GeoTIFF"
        raise InputDataError(msg)
    try:
        src = rasterio.open(path)
    except RasterioIOError as exc:
        msg = f"{flag} {path} is not a readable raster ({exc}); give a GeoTIFF"
        raise InputDataError(msg) from exc
    if src.crs is None:
        src.close()
        msg = (f"{flag} {path} has no CRS; assign one (e.g. gdal_edit.py -a_srs EPSG:4326) "
               "and try again")
        raise InputDataError(msg)
    return src


def area_window(src: rasterio.DatasetReader, path: Path, area_wgs84: BaseGeometry,
                flag: str = "--population", pad: int = 0) -> rasterio.windows.Window:
    """The raster window over the study area's bounds (``pad`` cells more on each side).

    Raises
    ------
    InputDataError
        The raster does not overlap the study area.
    """
    w, s, e, n = transform_bounds("EPSG:4326", src.crs, *area_wgs84.bounds, densify_pts=21)
    left, bottom, right, top = src.bounds
    if w >= right or e <= left or s >= top or n <= bottom:
        msg = (f"{flag} {path} (bounds {left:.6g},{bottom:.6g},{right:.6g},{top:.6g} in "
               f"{src.crs.to_string()}) does not overlap the study area "
               f"{', '.join(f'{v:.4f}' for v in area_wgs84.bounds)}; give a raster of this area")
        raise InputDataError(msg)
    win = rasterio.windows.from_bounds(w, s, e, n, transform=src.transform)
    win = win.round_offsets(op="floor").round_lengths(op="ceil")
    win = rasterio.windows.Window(win.col_off - pad, win.row_off - pad, win.width + 2 * pad,
                                  win.height + 2 * pad)
    full = rasterio.windows.Window(0, 0, src.width, src.height)
    return win.intersection(full)


def _band(src: rasterio.DatasetReader, band: int, win: rasterio.windows.Window
          ) -> tuple[np.ndarray, float]:
    data = src.read(band, window=win, masked=True).astype(np.float64)
    counts = np.where(np.ma.getmaskarray(data), np.nan, np.ma.getdata(data))
    counts[~np.isfinite(counts)] = np.nan
    outside = 0.0
    if src.width * src.height <= WHOLE_READ_CELLS and (win.width, win.height) != (src.width,
                                                                                  src.height):
        whole = src.read(band, masked=True).astype(np.float64)
        values = np.ma.getdata(whole)[~np.ma.getmaskarray(whole)]
        values = values[np.isfinite(values) & (values > 0)]
        inside = counts[np.isfinite(counts) & (counts > 0)]
        outside = float(values.sum() - inside.sum())
    return counts, outside


def read_population(paths: Sequence[Path], bands: Sequence[int], area_wgs84: BaseGeometry
                    ) -> list[PopulationGrid]:
    """The study-area window of each band of each raster.

    Parameters
    ----------
    paths
        GeoTIFFs (any CRS); several WorldPop age/sex files are summed later.
    bands
        1-based band numbers read from every file (default: band 1).
    area_wgs84
        The study area (WGS-84); its bounds choose the window.

    Raises
    ------
    InputDataError
        A missing or unreadable file, a raster without CRS, a band that does not exist, or a
        raster that does not overlap the study area.
    """
    grids = []
    for path in paths:
        with open_raster(path, "--population") as src:
            for band in bands or (1,):
                if not 1 <= band <= src.count:
                    msg = f"--population-band {band} does not exist in {path} ({src.count} bands)"
                    raise InputDataError(msg)
                win = area_window(src, path, area_wgs84)
                counts, outside = _band(src, band, win)
                t = src.window_transform(win)
                grids.append(PopulationGrid(counts, (t.a, t.b, t.c, t.d, t.e, t.f),
                                            src.crs.to_wkt(), f"{path.name}#{band}", outside))
    return grids


def write_population_raster(path: Path, counts: np.ndarray, transform: Sequence[float], crs: str,
                            nodata: float = -99999.0) -> None:
    """Write a single-band float32 GeoTIFF (the demo's synthetic raster; tests' rasters)."""
    a, b, c, d, e, f = transform
    profile = {"driver": "GTiff", "width": counts.shape[1], "height": counts.shape[0], "count": 1,
               "dtype": "float32", "crs": crs, "nodata": nodata,
               "transform": rasterio.Affine(a, b, c, d, e, f), "compress": "deflate"}
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(np.where(np.isnan(counts), nodata, counts).astype(np.float32), 1)
