"""Sampled street -> buffered polygons on a raster (distance transform + marching squares).

Two builds share the method: the street is sampled with the time each sample is reached; for a
threshold T the samples reached by T are the seeds; the polygon is the filled contour (contourpy)
of the distance to the seeds at the buffer distance, so its edge is interpolated, not a staircase.

- :func:`planner.catchments.tiled.build_threshold_polygons` (dissolved polygons per type, city
  scale): seeds are cell centres and the distance is the exact Euclidean distance transform of
  the seed raster, on tiles that are stitched together; it uses :func:`contour_arrays` here.
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
from functools import lru_cache
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

_FILL = contourpy.FillType.ChunkCombinedOffsetOffset


def contour_arrays(z: NDArray[np.float64], level: float, xs: NDArray[np.float64] | None = None,
                   ys: NDArray[np.float64] | None = None
                   ) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.int64]]:
    """Filled contour ``z <= level`` as contourpy's ragged arrays: points, ring offsets, polygon
    offsets (closed rings, outer ring first and counter-clockwise, holes clockwise).

    Points are at ``(xs[col], ys[row])``, or in grid units (column, row) when ``xs`` is None.
    ``z`` must be finite. The serial generator is built directly: ``contour_generator`` would
    also scan ``z`` for invalid values, which costs more than the contouring of a small raster.
    """
    if xs is None or ys is None:
        x, y = _index_mesh(z.shape[1])
        x, y = x[:z.shape[0]], y[:z.shape[0]]  # leading rows: still contiguous
    else:
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
        return np.zeros((0, 2)), np.zeros(1, dtype=np.int64), np.zeros(1, dtype=np.int64)
    return (np.asarray(points[0], dtype=np.float64), np.asarray(ring_offsets[0], dtype=np.int64),
            np.asarray(outer_offsets[0], dtype=np.int64))


@lru_cache(maxsize=4)
def _index_mesh(width: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Column and row index of the grid points of a square of ``width`` (read-only, shared)."""
    x, y = np.meshgrid(np.arange(width, dtype=np.float64), np.arange(width, dtype=np.float64))
    x.flags.writeable = False
    y.flags.writeable = False
    return x, y


def ragged_to_geometry(pts: NDArray[np.float64], rings: NDArray[np.int64],
                       outers: NDArray[np.int64]) -> shapely.Geometry:
    """A MultiPolygon from ragged arrays (empty when there is no polygon)."""
    if outers.size < 2:
        return shapely.MultiPolygon()
    return shapely.from_ragged_array(shapely.GeometryType.MULTIPOLYGON, pts,
                                     (rings, outers, np.array([0, outers.size - 1])))[0]


def _filled_contour(xs: NDArray[np.float64], ys: NDArray[np.float64], z: NDArray[np.float64],
                    level: float) -> shapely.Geometry:
    """MultiPolygon of the region where ``z <= level`` (marching squares, vectorised build)."""
    pts, rings, outers = contour_arrays(z, level, xs, ys)
    if outers.size < 2:
        return shapely.MultiPolygon()
    pts, rings, outers = _drop_pinholes(pts, rings, outers, (xs[0], ys[0]),
                                        1e-6 * (xs[1] - xs[0]) ** 2 if xs.size > 1 else 0.0)
    return ragged_to_geometry(pts, rings, outers)


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
