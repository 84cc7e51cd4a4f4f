"""Sampled street -> buffered polygons on a raster (distance transform + marching squares).

Two builds share the method: the street is sampled with the time each sample is reached; for a
threshold T the samples reached by T are the seeds; the polygon is the filled contour (contourpy)
of the distance to the seeds at the buffer distance, so its edge is interpolated, not a staircase.

- :func:`build_threshold_polygons` (dissolved polygons per type, city scale): seeds are cell
  centres and the distance is the exact Euclidean distance transform of the seed raster. Large
  rasters are cut into tiles of :data:`TILE_CELLS` cells that skip unreached country and are
  merged with an exact coverage union.
- :func:`build_local_polygons` (one facility's catchment, one raster): each seed cell keeps the
  reached sample nearest its centre, the feature transform gives every cell its nearest seed
  cell, and the distance is measured to that seed's *sample*, not to the cell centre. This
  removes the half-cell snapping error, so a coarser cell (20 m) matches the exact buffer as
  well as a 10 m cell-centre raster does, at about half the cost. The contour level is raised by
  the sagitta ``cell^2 / (8 * buffer)`` of a buffer circle between two cells, which the linear
  interpolation of a distance-to-points field otherwise cuts off.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, cast

import contourpy
import numpy as np
import shapely
from numpy.typing import NDArray
from scipy import ndimage

if TYPE_CHECKING:
    from contourpy._contourpy import FillReturn_ChunkCombinedOffsetOffset  # stub-only alias

Samples = tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]
Pieces = tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]

#: Raster tile edge in cells; larger rasters are processed tile by tile (see Notes).
TILE_CELLS = 256


def build_threshold_polygons(samples: Samples, thresholds_s: tuple[float, ...], buffer_m: float,
                             cell_m: float) -> list[shapely.Geometry]:
    """One polygon per threshold: the street sampled within it, buffered by ``buffer_m``.

    Small rasters are one tile. Large ones are cut into tiles of :data:`TILE_CELLS` cells on one
    global grid; a tile is processed for a threshold only when a sample reached within it lies
    within the buffer of the tile, so empty country and far-away parts cost nothing. Each tile's
    raster carries a margin wider than the buffer, so the distance field on a tile's edge equals
    the untiled one and the clipped pieces meet exactly; they are then merged.
    """
    x, y, t = samples
    if x.size == 0:
        return [shapely.MultiPolygon() for _ in thresholds_s]
    margin = int(np.ceil(buffer_m / cell_m)) + 3
    gx0, gy0 = x.min() - margin * cell_m, y.min() - margin * cell_m
    ix = np.rint((x - gx0) / cell_m).astype(np.int64)
    iy = np.rint((y - gy0) / cell_m).astype(np.int64)
    extent = max(int(ix.max()), int(iy.max())) + margin + 1
    tile = extent if extent <= 2 * TILE_CELLS else TILE_CELLS
    grid = _TiledTimes(ix, iy, t, tile, margin)
    level = buffer_m - cell_m / 4
    out = []
    for t_s in thresholds_s:
        pieces = []
        for tx, ty in grid.tiles_near(t <= t_s):
            times, c0, r0 = grid.padded(tx, ty)
            seeds, c0, r0 = _crop_seeds(times <= t_s, c0, r0, margin)
            if not seeds.any():
                continue
            dist_m = ndimage.distance_transform_edt(~seeds) * cell_m
            xs = gx0 + cell_m * (c0 + np.arange(seeds.shape[1]))
            ys = gy0 + cell_m * (r0 + np.arange(seeds.shape[0]))
            poly = _filled_contour(xs, ys, dist_m, level)
            if len(grid.keys) > 1:
                lo_x, lo_y = gx0 + cell_m * (tx * tile), gy0 + cell_m * (ty * tile)
                poly = shapely.clip_by_rect(poly, lo_x, lo_y, lo_x + cell_m * tile,
                                            lo_y + cell_m * tile)
            pieces.append(poly)
        out.append(_merge(pieces))
    return out


def _crop_seeds(seeds: NDArray[np.bool_], c0: int, r0: int, margin: int
                ) -> tuple[NDArray[np.bool_], int, int]:
    """The part of a seed raster within ``margin`` cells of a seed (nothing beyond can be inside).

    Smaller thresholds reach a small part of the raster; their distance transform and contour
    then cost only that part. Returns the crop and its first column and row.
    """
    rows = np.flatnonzero(seeds.any(axis=1))
    cols = np.flatnonzero(seeds.any(axis=0))
    if rows.size == 0:
        return seeds, c0, r0
    top, bottom = max(rows[0] - margin, 0), min(rows[-1] + margin + 1, seeds.shape[0])
    left, right = max(cols[0] - margin, 0), min(cols[-1] + margin + 1, seeds.shape[1])
    return seeds[top:bottom, left:right], c0 + int(left), r0 + int(top)


class _TiledTimes:
    """Samples sorted by tile, and the earliest time per cell of one padded tile on demand."""

    def __init__(self, ix: NDArray[np.int64], iy: NDArray[np.int64], t: NDArray[np.float64],
                 tile: int, margin: int) -> None:
        self.tile, self.margin = tile, margin
        key = (ix // tile) * 1_000_003 + iy // tile
        order = np.lexsort((-t, key))  # by tile, then from late to early
        self.order = order
        self.ix, self.iy, self.t, self.key = ix[order], iy[order], t[order], key[order]
        self.keys, starts = np.unique(self.key, return_index=True)
        self.bounds = dict(zip(self.keys.tolist(), zip(starts, [*starts[1:], key.size],
                                                           strict=True), strict=True))

    def tiles_near(self, mask: NDArray[np.bool_]) -> list[tuple[int, int]]:
        """Tiles within ``margin`` cells of a sample selected by ``mask`` (original order)."""
        m = mask[self.order]
        keys = [((self.ix[m] + dx) // self.tile) * 1_000_003 + (self.iy[m] + dy) // self.tile
                for dx in (-self.margin, self.margin) for dy in (-self.margin, self.margin)]
        found = np.unique(np.concatenate(keys)) if keys else np.array([], dtype=np.int64)
        tx, ty = np.divmod(found, 1_000_003)
        return list(zip(tx.tolist(), ty.tolist(), strict=True))

    def padded(self, tx: int, ty: int) -> tuple[NDArray[np.float64], int, int]:
        """Earliest time per cell of tile (tx, ty) with its margin, and its first column/row."""
        c0, r0 = tx * self.tile - self.margin, ty * self.tile - self.margin
        size = self.tile + 2 * self.margin
        times = np.full((size, size), np.inf)
        for a in (-1, 0, 1):
            for b in (-1, 0, 1):
                span = self.bounds.get((tx + a) * 1_000_003 + ty + b)
                if span is None:
                    continue
                c, r = self.ix[span[0]:span[1]] - c0, self.iy[span[0]:span[1]] - r0
                ok = (c >= 0) & (c < size) & (r >= 0) & (r < size)
                c, r, t = c[ok], r[ok], self.t[span[0]:span[1]][ok]
                # within a tile samples run from late to early: the last write is the earliest
                times[r, c] = np.minimum(times[r, c], t)
        return times, c0, r0


def _merge(pieces: list[shapely.Geometry]) -> shapely.Geometry:
    """One (Multi)Polygon from tile pieces that meet along tile edges."""
    pieces = [p for p in pieces if not p.is_empty]
    if not pieces:
        return shapely.MultiPolygon()
    if len(pieces) == 1:
        return pieces[0]
    # the pieces are edge-matched (same grid, same contour vertices on tile edges): a coverage
    # union is exact and far cheaper than a general union (tested against the untiled build)
    return shapely.coverage_union_all(pieces)


_FILL = contourpy.FillType.ChunkCombinedOffsetOffset


def _filled_contour(xs: NDArray[np.float64], ys: NDArray[np.float64], z: NDArray[np.float64],
                    level: float) -> shapely.Geometry:
    """MultiPolygon of the region where ``z <= level`` (marching squares, vectorised build).

    ``z`` must be finite. The serial generator is built directly: ``contour_generator`` would
    also scan ``z`` for invalid values, which costs more than the contouring of a small raster.
    """
    x, y = np.meshgrid(xs, ys)
    gen = contourpy.SerialContourGenerator(
        x, y, z,
        None,  # type: ignore[arg-type]  # stub omits None; the extension takes None as no mask
        corner_mask=True, line_type=contourpy.LineType.Separate, fill_type=_FILL,
        quad_as_tri=False, z_interp=contourpy.ZInterp.Linear)
    # The stub returns the union over all fill types; _FILL fixes which one it is.
    filled = cast("FillReturn_ChunkCombinedOffsetOffset", gen.filled(-1.0, level))
    points, ring_offsets, outer_offsets = filled
    if points[0] is None or len(points[0]) == 0:
        return shapely.MultiPolygon()
    pts = np.asarray(points[0], dtype=np.float64)
    rings = np.asarray(ring_offsets[0], dtype=np.int64)
    outers = np.asarray(outer_offsets[0], dtype=np.int64)
    pts, rings, outers = _drop_pinholes(pts, rings, outers, (xs[0], ys[0]),
                                        1e-6 * (xs[1] - xs[0]) ** 2 if xs.size > 1 else 0.0)
    if outers.size < 2:
        return shapely.MultiPolygon()
    geom = shapely.from_ragged_array(shapely.GeometryType.MULTIPOLYGON, pts,
                                     (rings, outers, np.array([0, outers.size - 1])))
    return geom[0]


def _drop_pinholes(pts: NDArray[np.float64], rings: NDArray[np.int64], outers: NDArray[np.int64],
                   origin: tuple[float, float], min_area: float
                   ) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.int64]]:
    """Remove rings of (almost) no area, and polygons whose outer ring has none.

    Where the field equals the level at a lone grid point, marching squares closes a ring of
    coincident points around it; GEOS calls such a polygon invalid. Ring areas come from the
    shoelace formula (relative to ``origin`` for precision); normally nothing is removed.
    """
    x, y = pts[:, 0] - origin[0], pts[:, 1] - origin[1]
    cross = np.append(x[:-1] * y[1:] - x[1:] * y[:-1], 0.0)
    cross[rings[1:] - 1] = 0.0  # a ring's last point does not pair with the next ring's first
    area = 0.5 * np.abs(np.add.reduceat(cross, rings[:-1]))
    keep = area > min_area
    if keep.all():
        return pts, rings, outers
    keep[np.repeat(~keep[outers[:-1]], np.diff(outers))] = False  # holes of a dropped outer
    lengths = np.diff(rings)[keep]
    starts = rings[:-1][keep]
    idx = np.repeat(starts - np.cumsum(np.r_[0, lengths[:-1]]), lengths) + np.arange(lengths.sum())
    per_polygon = np.add.reduceat(keep.astype(np.int64), outers[:-1]) if keep.size else keep
    per_polygon = per_polygon[per_polygon > 0]
    return (pts[idx], np.r_[0, np.cumsum(lengths)].astype(np.int64),
            np.r_[0, np.cumsum(per_polygon)].astype(np.int64))


#: ``pieces(t_s, idx)``: the reached street piece ``(x0, y0, x1, y1)`` each sample ``idx`` lies on
#: within threshold ``t_s`` (for :func:`build_local_polygons`).
PieceFn = Callable[[float, NDArray[np.int64]], Pieces]


def build_local_polygons(samples: Samples, thresholds_s: tuple[float, ...], buffer_m: float,
                         cell_m: float, pieces: PieceFn) -> list[shapely.Geometry]:
    """One polygon per threshold on one raster, distances measured to reached street pieces.

    Meant for one facility's catchment (a few kilometres across); see the module notes.
    """
    x, y, t = samples
    if x.size == 0:
        return [shapely.MultiPolygon() for _ in thresholds_s]
    # cells this far from every seed cell centre are > buffer_m from the street (a piece is
    # within half a cell diagonal of its seed's centre), so the contour closes inside the crop
    margin = int(np.floor(buffer_m / cell_m + np.sqrt(0.5))) + 1
    gx0, gy0 = x.min() - margin * cell_m, y.min() - margin * cell_m
    fx, fy = (x - gx0) / cell_m, (y - gy0) / cell_m
    ix, iy = np.rint(fx).astype(np.int64), np.rint(fy).astype(np.int64)
    width, height = int(ix.max()) + margin + 1, int(iy.max()) + margin + 1
    cell = iy * width + ix
    # by cell, then nearest the cell centre first (squared offset <= 0.5, so cell + offset / 2
    # orders by cell first; one float sort is several times cheaper than a lexsort)
    order = np.argsort(cell + 0.5 * ((fx - ix) ** 2 + (fy - iy) ** 2))
    cell, t = cell[order], t[order]
    out = []
    for t_s in thresholds_s:
        m = np.flatnonzero(t <= t_s)
        if m.size == 0:
            out.append(shapely.MultiPolygon())
            continue
        first = np.ones(m.size, dtype=bool)
        first[1:] = cell[m[1:]] != cell[m[:-1]]
        m = m[first]  # one sample per seed cell: the reached one nearest its centre
        r, c = np.divmod(cell[m], width)
        r0, c0 = max(int(r.min()) - margin, 0), max(int(c.min()) - margin, 0)
        h = min(int(r.max()) + margin + 1, height) - r0
        w = min(int(c.max()) + margin + 1, width) - c0
        k = (r - r0) * w + (c - c0)
        seed = np.full(h * w, -1, dtype=np.int64)
        seed[k] = np.arange(m.size)
        rows, cols = ndimage.distance_transform_edt(seed.reshape(h, w) < 0,
                                                    return_distances=False, return_indices=True)
        xs = gx0 + cell_m * (c0 + np.arange(w))
        ys = gy0 + cell_m * (r0 + np.arange(h))
        dist_m = _segment_distance(xs, ys, seed[rows * w + cols], pieces(t_s, order[m]))
        out.append(_filled_contour(xs, ys, dist_m, buffer_m))
    return out


def _segment_distance(xs: NDArray[np.float64], ys: NDArray[np.float64],
                      which: NDArray[np.int64], pieces: Pieces) -> NDArray[np.float64]:
    """Distance from each cell centre to the piece ``which[cell]`` (exact point-segment)."""
    x0, y0, x1, y1 = pieces
    dx, dy = x1 - x0, y1 - y0
    inv = 1.0 / np.maximum(dx * dx + dy * dy, 1e-12)
    qx = xs[None, :] - x0[which]
    qy = ys[:, None] - y0[which]
    ddx, ddy = dx[which], dy[which]
    f = qx * ddx
    f += qy * ddy
    f *= inv[which]
    np.clip(f, 0.0, 1.0, out=f)
    ddx *= f  # now the offset along the piece
    ddy *= f
    qx -= ddx
    qy -= ddy
    qx *= qx
    qy *= qy
    qx += qy
    return np.sqrt(qx, out=qx)  # hypot is several times slower and needs no overflow care here
