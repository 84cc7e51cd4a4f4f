"""Dissolved polygons per type at city scale: one level raster, tiles, contours, a stitch.

The street is sampled with the time each sample is reached
(:mod:`planner.catchments.street_samples`). Each cell of one grid keeps the first threshold
within which one of its samples is reached (its *level*, one byte), so all thresholds share one
raster filled in one pass. For a threshold T the seeds are the cells of level <= T; the polygon
is the filled contour (contourpy, marching squares) of the Euclidean distance to the seed-cell
centres at ``buffer_m - cell_m / 4``, an interpolated edge rather than a staircase.

The grid is cut into tiles of :data:`TILE_CELLS` cells. A tile is processed for T only when a
seed of T lies in it or a neighbour (empty country costs nothing). Its distance transform runs
on the tile plus a margin wider than the buffer, so the field on the tile equals the untiled
one; its contour is drawn on its own grid points including the lines shared with neighbours, so
tiles meet exactly, and their rings are stitched (:mod:`planner.catchments.stitch`) instead of
unioned by GEOS. The distance is exact where the contour reads it (:func:`near_distance`). Grid
values equal to the level are nudged off it by 1e-6 cells (only possible when the level is the
root of an integer), which keeps every ring simple and the stitch exact.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray
from scipy import ndimage

from planner.catchments.raster import Samples, contour_arrays, ragged_to_geometry
from planner.catchments.stitch import Ragged, stitch_tiles

#: Raster tile edge in cells; larger rasters are processed tile by tile.
TILE_CELLS = 256
#: Grid values this close to the level (cells) are moved to level + NUDGE_CELLS.
NUDGE_CELLS = 1e-6
_NONE = 255

#: Seconds per step, added up when a dict is passed as ``timer``.
Timer = dict[str, float] | None


@contextmanager
def timed(timer: Timer, step: str) -> Iterator[None]:
    """Add the wall time of the block to ``timer[step]`` (nothing when ``timer`` is None)."""
    start = time.perf_counter()
    try:
        yield
    finally:
        if timer is not None:
            timer[step] = timer.get(step, 0.0) + time.perf_counter() - start


@dataclass(frozen=True, slots=True)
class LevelGrid:
    """Per cell the index of the first (sorted) threshold reaching it, 255 where none does.

    Cell (row, col) of the grid lies at ``origin_m + cell_m * (col, row)`` and is stored at
    ``level[row + margin, col + margin]``: every tile window (tile plus margin) is a slice.
    """

    origin_m: tuple[float, float]
    cell_m: float
    margin: int
    tile: int
    shape: tuple[int, int]
    level: NDArray[np.uint8]
    tile_level: NDArray[np.uint8]


def empty_grid(bounds_m: tuple[float, float, float, float], buffer_m: float, cell_m: float
               ) -> LevelGrid:
    """A level raster for samples within ``bounds_m`` (x_min, y_min, x_max, y_max), all 255.

    The westernmost and southernmost samples lie on cell centres, ``margin`` cells in.
    """
    x_min, y_min, x_max, y_max = bounds_m
    margin = int(np.ceil(buffer_m / cell_m)) + 3
    gx0, gy0 = float(x_min) - margin * cell_m, float(y_min) - margin * cell_m
    ix_max = int(np.rint((x_max - gx0) / cell_m))
    iy_max = int(np.rint((y_max - gy0) / cell_m))
    extent = max(ix_max, iy_max) + margin + 1
    tile = extent if extent <= 2 * TILE_CELLS else TILE_CELLS
    n_tx, n_ty = -(-(ix_max + margin + 1) // tile), -(-(iy_max + margin + 1) // tile)
    level = np.full((n_ty * tile + 2 * margin + 1, n_tx * tile + 2 * margin + 1), _NONE,
                    dtype=np.uint8)
    return LevelGrid((gx0, gy0), cell_m, margin, tile, (n_ty * tile, n_tx * tile), level,
                     np.full((n_ty, n_tx), _NONE, dtype=np.uint8))


def sample_levels(t: NDArray[np.float64], thresholds_s: NDArray[np.float64]) -> NDArray[np.uint8]:
    """Index of the first of the ascending ``thresholds_s`` that each time is within."""
    if thresholds_s.size >= _NONE:
        raise ValueError(f"{thresholds_s.size} thresholds: at most {_NONE - 1} fit a level raster")
    return np.searchsorted(thresholds_s, t, side="left").astype(np.uint8)


def add_samples(grid: LevelGrid, x: NDArray[np.float64], y: NDArray[np.float64],
                k: NDArray[np.uint8]) -> None:
    """Lower the level of the cells of the samples at ``(x, y)`` to ``k`` each."""
    ix = np.rint((x - grid.origin_m[0]) / grid.cell_m).astype(np.int64)
    iy = np.rint((y - grid.origin_m[1]) / grid.cell_m).astype(np.int64)
    m = grid.margin
    np.minimum.at(grid.level.reshape(-1), (iy + m) * grid.level.shape[1] + ix + m, k)
    n_tx = grid.tile_level.shape[1]
    np.minimum.at(grid.tile_level.reshape(-1), (iy // grid.tile) * n_tx + ix // grid.tile, k)


def build_threshold_polygons(samples: Samples, thresholds_s: tuple[float, ...], buffer_m: float,
                             cell_m: float, timer: Timer = None) -> list[shapely.Geometry]:
    """One polygon per threshold: the street sampled within it, buffered by ``buffer_m``."""
    x, y, _ = samples
    if x.size == 0:
        return [shapely.MultiPolygon() for _ in thresholds_s]
    with timed(timer, "level_raster_s"):
        grid = empty_grid((x.min(), y.min(), x.max(), y.max()), buffer_m, cell_m)
        add_samples(grid, x, y, sample_levels(samples[2], np.sort(np.asarray(thresholds_s))))
    return grid_polygons(grid, thresholds_s, buffer_m, timer)


def grid_polygons(grid: LevelGrid, thresholds_s: tuple[float, ...], buffer_m: float,
                  timer: Timer = None) -> list[shapely.Geometry]:
    """One polygon per threshold (in the order given) from a filled level raster.

    A tile whose window holds no cell of the level just added has the seeds, and so the
    contour, of the threshold before: it is reused, not redrawn.
    """
    order = np.argsort(np.asarray(thresholds_s, dtype=np.float64), kind="stable")
    out: list[shapely.Geometry] = [shapely.MultiPolygon()] * len(thresholds_s)
    level = buffer_m / grid.cell_m - 0.25
    nudge = any(abs(math.sqrt(n) - level) < NUDGE_CELLS
                for n in (math.floor(level * level), math.ceil(level * level)))
    reach = 2 * -(-grid.margin // grid.tile) + 1  # tiles whose windows can hold a seed
    done: dict[tuple[int, int], Ragged | None] = {}
    for k, i in enumerate(order.tolist()):
        near = ndimage.minimum_filter(grid.tile_level, size=reach, mode="constant",
                                      cval=_NONE) <= k
        now: dict[tuple[int, int], Ragged | None] = {}
        for ty, tx in np.argwhere(near).tolist():
            win = _window(grid, ty, tx)
            if (ty, tx) in done and not (win == k).any():
                now[ty, tx] = done[ty, tx]
            else:
                now[ty, tx] = _tile_contour(grid, win, ty, tx, k, level, nudge, timer)
        done = now
        out[i] = _assemble(grid, [p for p in now.values() if p is not None], timer)
    return out


def _window(grid: LevelGrid, ty: int, tx: int) -> NDArray[np.uint8]:
    """Levels of tile (ty, tx) and its margin, its shared lines included (a view)."""
    m, tile = grid.margin, grid.tile
    return grid.level[ty * tile:(ty + 1) * tile + 2 * m + 1, tx * tile:(tx + 1) * tile + 2 * m + 1]


def _assemble(grid: LevelGrid, parts: list[Ragged], timer: Timer) -> shapely.Geometry:
    """The dissolved polygon of the tiles' contours (metres)."""
    if not parts:
        return shapely.MultiPolygon()
    with timed(timer, "assembly_s"):
        pts, rings, outers = _concat(parts)
        stitched = stitch_tiles(pts, rings, outers, grid.tile, grid.shape)
    if stitched is None:  # the tiles did not meet as the stitch assumes: GEOS union instead
        with timed(timer, "repair_s"):
            if timer is not None:
                timer["repairs"] = timer.get("repairs", 0.0) + 1.0
            return _union(grid, parts)
    with timed(timer, "assembly_s"):
        return ragged_to_geometry(*_to_metres(grid, stitched))


def _tile_contour(grid: LevelGrid, win: NDArray[np.uint8], ty: int, tx: int, k: int,
                  level: float, nudge: bool, timer: Timer) -> Ragged | None:
    """Filled contour of tile (ty, tx) on its grid points (grid units), or None if empty.

    Only the rows and columns within the margin of a seed are computed; columns outside are
    filled with a value beyond the level, so every tile's contour runs on the same grid.
    """
    m, tile = grid.margin, grid.tile
    with timed(timer, "distance_s"):
        seeds = win <= k
        rows, cols = np.flatnonzero(seeds.any(axis=1)), np.flatnonzero(seeds.any(axis=0))
        if rows.size == 0:
            return None
        d0, d1 = max(int(rows[0]) - m, m), min(int(rows[-1]) + m, m + tile)  # window rows
        e0, e1 = max(int(cols[0]) - m, m), min(int(cols[-1]) + m, m + tile)
        if d1 <= d0 or e1 <= e0:
            return None
        z = np.full((d1 - d0 + 1, tile + 1), level + 2.0)
        z[:, e0 - m:e1 - m + 1] = near_distance(seeds, level, (d0, d1 + 1, e0, e1 + 1))
        if nudge:
            z = np.where(np.abs(z - level) < NUDGE_CELLS, level + NUDGE_CELLS, z)
    with timed(timer, "contour_s"):
        pts, rings, outers = contour_arrays(z, level)
        if rings.size < 2:
            return None
        pts += (tx * tile, ty * tile - m + d0)
    return pts, rings, outers


def near_distance(seeds: NDArray[np.bool_], level: float, box: tuple[int, int, int, int]
                  ) -> NDArray[np.float64]:
    """Distance (cells) from the grid points in ``box`` (first row, end row, first column, end
    column) to the nearest seed: exact up to ``level + 1``, some value above it beyond.

    The contour at ``level`` only reads values up to ``level + 1`` (a grid neighbour of a point
    inside is at most one cell farther from the seeds), so a seed counts only within ``r =
    floor(level + 1)`` cells in each direction: the vertical distance to the nearest seed in
    each column, capped at ``r + 1``, then the minimum of ``dc^2 + g^2`` over the ``2r + 1``
    columns around. Where the true distance is at most ``r`` this is it (the nearest seed is
    one of the candidates, and every candidate is a real seed or capped above ``r``); elsewhere
    it exceeds ``r`` >= ``level + 1``. The box must lie ``r`` cells inside ``seeds``. Squared
    distances are small integers, so this runs on bytes, about 3x faster than
    ``scipy.ndimage.distance_transform_edt`` on a tile.
    """
    r = int(math.floor(level + 1.0))
    dtype = np.uint8 if (r + 1) ** 2 + r * r <= 255 else np.uint16
    cap = dtype((r + 1) ** 2)
    r0, r1, c0, c1 = box
    if min(r0, c0) < r or r1 + r > seeds.shape[0] or c1 + r > seeds.shape[1]:
        raise ValueError(f"box {box} is not {r} cells inside a {seeds.shape} raster")
    cols = seeds[:, c0 - r:c1 + r]
    g = np.full((r1 - r0, cols.shape[1]), cap, dtype=dtype)
    hit = np.empty(g.shape, dtype=bool)
    for d in range(r, 0, -1):  # nearer rows overwrite farther ones
        np.logical_or(cols[r0 - d:r1 - d], cols[r0 + d:r1 + d], out=hit)
        np.copyto(g, dtype(d * d), where=hit)
    np.copyto(g, dtype(0), where=cols[r0:r1])
    w = c1 - c0
    out = g[:, r:r + w].copy()
    pair = np.empty(out.shape, dtype=dtype)
    for d in range(1, r + 1):
        np.minimum(g[:, r - d:r - d + w], g[:, r + d:r + d + w], out=pair)
        pair += dtype(d * d)
        np.minimum(out, pair, out=out)
    dist: NDArray[np.float64] = np.sqrt(out, dtype=np.float64)
    return dist


def _concat(parts: list[Ragged]) -> Ragged:
    """The ragged arrays of several tiles as one (offsets shifted)."""
    n_pts = np.cumsum([0] + [p[0].shape[0] for p in parts])
    n_rings = np.cumsum([0] + [p[1].size - 1 for p in parts])
    pts = np.concatenate([p[0] for p in parts])
    rings = np.concatenate([p[1][:-1] + off for p, off in zip(parts, n_pts, strict=False)]
                           + [n_pts[-1:]])
    outers = np.concatenate([p[2][:-1] + off for p, off in zip(parts, n_rings, strict=False)]
                            + [n_rings[-1:]])
    return pts, rings.astype(np.int64), outers.astype(np.int64)


def _to_metres(grid: LevelGrid, ragged: Ragged) -> Ragged:
    pts, rings, outers = ragged
    return grid.origin_m + grid.cell_m * pts, rings, outers


def _union(grid: LevelGrid, parts: list[Ragged]) -> shapely.Geometry:
    """GEOS union of the tile polygons (the fallback when the stitch does not apply)."""
    merged = shapely.union_all([ragged_to_geometry(*_to_metres(grid, p)) for p in parts])
    return merged if merged.is_valid else shapely.make_valid(merged)
