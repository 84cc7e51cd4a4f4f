"""Population-grid cells (WorldPop, census grids) clipped to the study area, in the network CRS.

A population raster gives people per cell. :func:`population_cells` turns one or more rasters
(already read by ``planner.io.population``) into a table of populated cells: the cell's people
(times the older-adult share when the raster counts everybody), the part of the cell inside the
study area, and the cell centre in the network's projected CRS.

Clipping is by area. The clipped sum is defined as the area-weighted raster sum inside the
study area, ``sum over cells of max(count, 0) * area(cell & study_area) / area(cell)``, with the
cell box and the study area (densified to 0.001 degree in WGS-84, then transformed) both in the
raster's own CRS, where a cell is an exact parallelogram and its people are taken as spread
evenly (for a geographic raster the areas are in square degrees; the error against true areas
is the change of cos(latitude) across one cell). Nodata cells carry nobody; negative values are
set to 0 and counted. Every positive person read is either in a cell (``pop``) or in
``clipped_pop``: ``pop.sum() + clipped_pop`` equals the positive raster total (times
``older_share``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyproj
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from planner.errors import InputDataError
from planner.schema import PopulationGrid, Transform


@dataclass(frozen=True, slots=True)
class PopulationCells:
    """Populated cells inside the study area.

    Attributes
    ----------
    x_m, y_m
        Cell centres in the network CRS, metres, shape (n,).
    pop
        People (older adults) in the part of the cell inside the study area, shape (n,).
    corners_m
        Cell corners in the network CRS, shape (n, 4, 2), for polygons when they are needed.
    clipped_pop
        People of the read cells that fall outside the study area (clipped away).
    nodata_cells, negative_cells
        Cells in the study area without data, and cells with a negative count (set to 0).
    cell_size
        Cell width and height in the raster's CRS units (of the first grid).
    """

    x_m: NDArray[np.float64]
    y_m: NDArray[np.float64]
    pop: NDArray[np.float64]
    corners_m: NDArray[np.float64]
    clipped_pop: float
    nodata_cells: int
    negative_cells: int
    cell_size: tuple[float, float]

    @property
    def polygons(self) -> NDArray[np.object_]:
        """Cell quadrilaterals in the network CRS."""
        ring = np.concatenate([self.corners_m, self.corners_m[:, :1]], axis=1)
        polys: NDArray[np.object_] = shapely.polygons(ring)
        return polys


def _apply(t: Transform, col: NDArray[np.floating[Any]], row: NDArray[np.floating[Any]]
           ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    return t[0] * col + t[1] * row + t[2], t[3] * col + t[4] * row + t[5]


def sum_grids(grids: list[PopulationGrid]) -> list[PopulationGrid]:
    """Add grids that share shape, transform and CRS (e.g. WorldPop age/sex bands); keep others.

    A cell is nodata only when it is nodata in every added grid.
    """
    merged: list[PopulationGrid] = []
    for g in grids:
        same = next((i for i, m in enumerate(merged) if m.values.shape == g.values.shape
                     and np.allclose(m.transform, g.transform) and m.crs == g.crs), None)
        if same is None:
            merged.append(g)
            continue
        m = merged[same]
        both_nan = np.isnan(m.values) & np.isnan(g.values)
        total = np.where(both_nan, np.nan, np.nan_to_num(m.values) + np.nan_to_num(g.values))
        merged[same] = PopulationGrid(total, m.transform, m.crs, f"{m.name}+{g.name}",
                                      m.outside_pop + g.outside_pop)
    return merged


def _boundary_cells(grid: PopulationGrid, area: BaseGeometry) -> NDArray[np.bool_]:
    """Cells the area's boundary touches (a superset: every cell a boundary segment crosses).

    The rings are cut into segments of at most half the shorter cell side; every cell of each
    segment's bounding box in (col, row) coordinates (at most 2 x 2 on a north-up grid) is
    marked. Testing only the cells that hold a boundary vertex misses cells the boundary
    crosses between two vertices, e.g. a vertex lying on a cell edge (it is floored into one
    neighbour) whose corner of the area pokes into the other, or a sliver across a cell corner.
    """
    t = grid.transform
    n_rows, n_cols = grid.values.shape
    step = 0.5 * min(float(np.hypot(t[0], t[3])), float(np.hypot(t[1], t[4])))
    parts = shapely.get_parts(area)  # make_valid may add zero-area lines: they weigh nothing
    rings = shapely.get_rings(parts[shapely.get_type_id(parts) == 3])
    xy, part = shapely.get_coordinates(shapely.segmentize(rings, step), return_index=True)
    inv = np.linalg.inv(np.array([[t[0], t[1]], [t[3], t[4]]]))
    col = inv[0, 0] * (xy[:, 0] - t[2]) + inv[0, 1] * (xy[:, 1] - t[5])
    row = inv[1, 0] * (xy[:, 0] - t[2]) + inv[1, 1] * (xy[:, 1] - t[5])
    same = part[1:] == part[:-1]  # consecutive vertices of one line form a segment
    lo_c = np.floor(np.minimum(col[1:], col[:-1])[same]).astype(np.int64)
    hi_c = np.floor(np.maximum(col[1:], col[:-1])[same]).astype(np.int64)
    lo_r = np.floor(np.minimum(row[1:], row[:-1])[same]).astype(np.int64)
    hi_r = np.floor(np.maximum(row[1:], row[:-1])[same]).astype(np.int64)
    touched = np.zeros((n_rows, n_cols), dtype=bool)
    for dr in range(int((hi_r - lo_r).max(initial=0)) + 1):
        for dc in range(int((hi_c - lo_c).max(initial=0)) + 1):
            r, c = lo_r + dr, lo_c + dc
            ok = (r <= hi_r) & (c <= hi_c) & (r >= 0) & (r < n_rows) & (c >= 0) & (c < n_cols)
            touched[r[ok], c[ok]] = True
    return touched


def _inside_fraction(grid: PopulationGrid, area: BaseGeometry, rows: NDArray[np.int64],
                     cols: NDArray[np.int64]) -> NDArray[np.float64]:
    """Share of each cell's area inside ``area`` (both in the raster CRS).

    A cell the boundary does not touch is wholly inside (all four corners in the area) or wholly
    outside; the cells it touches are intersected exactly.
    """
    shapely.prepare(area)
    n_rows, n_cols = grid.values.shape
    cr, cc = np.meshgrid(np.arange(n_rows + 1.0), np.arange(n_cols + 1.0), indexing="ij")
    gx, gy = _apply(grid.transform, cc, cr)
    corner_in = shapely.intersects_xy(area, gx, gy)
    k = (corner_in[rows, cols].astype(np.int8) + corner_in[rows + 1, cols]
         + corner_in[rows, cols + 1] + corner_in[rows + 1, cols + 1])
    frac = (k == 4).astype(float)
    mixed = np.flatnonzero(((k > 0) & (k < 4)) | _boundary_cells(grid, area)[rows, cols])
    if mixed.size:
        r, c = rows[mixed], cols[mixed]
        ring = np.stack([np.stack([gx[r + dr, c + dc], gy[r + dr, c + dc]], 1)
                         for dr, dc in ((0, 0), (0, 1), (1, 1), (1, 0), (0, 0))], axis=1)
        boxes = shapely.polygons(ring)
        cell_area = shapely.area(boxes)
        frac[mixed] = shapely.area(shapely.intersection(boxes, area)) / np.where(
            cell_area > 0, cell_area, 1.0)
    out: NDArray[np.float64] = np.clip(frac, 0.0, 1.0)
    return out


def _grid_cells(grid: PopulationGrid, area_wgs84: BaseGeometry, network_crs: str,
                with_corners: bool = True
                ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64],
                           NDArray[np.float64], float, int, int]:
    counts = grid.values
    nodata = np.isnan(counts)
    negative = ~nodata & (counts < 0)
    values = np.where(nodata | negative, 0.0, counts)
    rows, cols = np.nonzero(values > 0)
    to_raster = pyproj.Transformer.from_crs("EPSG:4326", grid.crs, always_xy=True)
    area = shapely.make_valid(shapely.transform(
        shapely.segmentize(area_wgs84, 0.001), to_raster.transform, interleaved=False))
    frac = _inside_fraction(grid, area, rows, cols)
    people = values[rows, cols]
    pop = people * frac
    clipped = float((people - pop).sum()) + grid.outside_pop
    keep = pop > 0
    rows, cols, pop = rows[keep], cols[keep], pop[keep]
    to_net = pyproj.Transformer.from_crs(grid.crs, network_crs, always_xy=True)
    r, c = rows.astype(float), cols.astype(float)
    cx, cy = to_net.transform(*_apply(grid.transform, c + 0.5, r + 0.5))
    corners = np.empty((rows.size if with_corners else 0, 4, 2))
    for k, (dc, dr) in enumerate(((0, 0), (1, 0), (1, 1), (0, 1)) if with_corners else ()):
        corners[:, k, 0], corners[:, k, 1] = to_net.transform(
            *_apply(grid.transform, c + dc, r + dr))
    rr, cc = np.nonzero(nodata | negative)
    in_area = shapely.intersects_xy(area, *_apply(grid.transform, cc + 0.5, rr + 0.5))
    rr, cc = rr.astype(np.int64), cc.astype(np.int64)
    n_nodata = int((in_area & nodata[rr, cc]).sum())
    n_negative = int((in_area & negative[rr, cc]).sum())
    return (np.asarray(cx, float), np.asarray(cy, float), pop, corners, clipped, n_nodata,
            n_negative)


def population_cells(grids: list[PopulationGrid], area_wgs84: BaseGeometry, network_crs: str,
                     older_share: float | None = None, *, with_corners: bool = True
                     ) -> PopulationCells:
    """Populated cells of all grids inside the study area, in the network CRS.

    ``pop.sum()`` is the area-weighted raster sum inside the study area (module docstring);
    ``pop.sum() + clipped_pop`` is the positive raster total (both times ``older_share``).

    Parameters
    ----------
    grids
        Raster band windows; grids on one grid are added first (:func:`sum_grids`).
    area_wgs84
        The study area (WGS-84 polygon).
    network_crs
        Projected CRS of the network (metres).
    older_share
        Multiply every count by this share (a total-population raster); ``None`` when the rasters
        already count older adults.
    with_corners
        Also transform the cell corners (needed for cell polygons, e.g. cutting by units).

    Raises
    ------
    InputDataError
        ``older_share`` outside (0, 1].
    """
    if older_share is not None and not 0 < older_share <= 1:
        msg = f"--older-share {older_share!r} must be in (0, 1]; e.g. 0.1798 for 17.98% aged 60+"
        raise InputDataError(msg)
    parts = [_grid_cells(g, area_wgs84, network_crs, with_corners) for g in sum_grids(grids)]
    share = 1.0 if older_share is None else float(older_share)
    t = grids[0].transform
    return PopulationCells(
        x_m=np.concatenate([p[0] for p in parts]), y_m=np.concatenate([p[1] for p in parts]),
        pop=np.concatenate([p[2] for p in parts]) * share,
        corners_m=np.concatenate([p[3] for p in parts]),
        clipped_pop=sum(p[4] for p in parts) * share,
        nodata_cells=sum(p[5] for p in parts), negative_cells=sum(p[6] for p in parts),
        cell_size=(float(np.hypot(t[0], t[3])), float(np.hypot(t[1], t[4]))),
    )
