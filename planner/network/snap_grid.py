"""Exact nearest-segment search on a uniform grid, vectorised in numpy (the fast snapping path).

Each segment is registered in the grid cells its bounding box touches. For a point, the 3 x 3
block of cells around its cell contains the whole disk of radius ``cell_m`` around it, so every
segment within ``cell_m`` of the point is among the block's candidates. When the nearest
candidate is closer than ``cell_m`` it is therefore the nearest segment overall; other points
go on to a grid of larger cells, up to ``max_snap_m``.

Distances and positions along the segment are computed with the same floating-point formulas
GEOS uses for a two-point line (``Distance::pointToSegment`` and the length-indexed projection
behind ``line_locate_point``); candidates within :data:`TIE_M` of the nearest are compared again
with ``shapely.distance`` itself, and ties go to the lowest segment index. Results equal the
STRtree method's (``tests/planner/network/test_snap_grid.py`` compares them, ties included).
"""

from __future__ import annotations

import numpy as np
import shapely
from numpy.typing import NDArray

#: Candidates this close (metres) to the nearest distance are compared with GEOS itself.
TIE_M = 1e-6
#: Points per vectorised block (bounds the candidate-pair arrays to a few hundred MB).
CHUNK_POINTS = 100_000
#: Edge length (m) of the grid's cells (smaller when ``max_snap_m`` is).
FIRST_CELL_M = 60.0

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]


def segment_distance(px: F64, py: F64, ax: F64, ay: F64, bx: F64, by: F64) -> F64:
    """Point-to-segment distance, the GEOS formula (projection factor, then hypot or |cross|)."""
    dx, dy = bx - ax, by - ay
    len2 = dx * dx + dy * dy
    with np.errstate(invalid="ignore", divide="ignore"):
        r = ((px - ax) * dx + (py - ay) * dy) / len2
        s = ((ay - py) * dx - (ax - px) * dy) / len2
        inner = np.abs(s) * np.sqrt(len2)
    to_a = np.sqrt((px - ax) ** 2 + (py - ay) ** 2)
    to_b = np.sqrt((px - bx) ** 2 + (py - by) ** 2)
    out = np.where(r <= 0, to_a, np.where(r >= 1, to_b, inner))
    return np.where(len2 == 0, to_a, out)


def segment_fraction(px: F64, py: F64, ax: F64, ay: F64, bx: F64, by: F64) -> F64:
    """Normalised position of the nearest point along a segment (as ``line_locate_point``)."""
    dx, dy = bx - ax, by - ay
    len2 = dx * dx + dy * dy
    length = np.sqrt(len2)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = ((px - ax) * dx + (py - ay) * dy) / len2
        r = np.where((px == ax) & (py == ay), 0.0, np.where((px == bx) & (py == by), 1.0, r))
        along = np.where(r <= 0, 0.0, np.where(r <= 1, r * length, length))
        frac = along / length
    return np.nan_to_num(frac, nan=0.0)


class SegmentGrid:
    """Segments bucketed by the cells (``cell_m`` square) their bounding boxes touch."""

    def __init__(self, ax: F64, ay: F64, bx: F64, by: F64, cell_m: float) -> None:
        self.cell_m = cell_m
        self.x0, self.y0 = float(np.minimum(ax, bx).min()), float(np.minimum(ay, by).min())
        self.nx = int((np.maximum(ax, bx).max() - self.x0) // cell_m) + 1
        self.ny = int((np.maximum(ay, by).max() - self.y0) // cell_m) + 1
        ix0, ix1 = self._cx(np.minimum(ax, bx)), self._cx(np.maximum(ax, bx))
        iy0, iy1 = self._cy(np.minimum(ay, by)), self._cy(np.maximum(ay, by))
        wx = ix1 - ix0 + 1
        count = wx * (iy1 - iy0 + 1)
        seg = np.repeat(np.arange(ax.size, dtype=np.int64), count)
        k = np.arange(seg.size, dtype=np.int64) - np.repeat(np.cumsum(count) - count, count)
        cell = (iy0[seg] + k // wx[seg]) * self.nx + ix0[seg] + k % wx[seg]
        order = np.argsort(cell, kind="stable")  # segment order kept within a cell
        self.seg = seg[order]
        self.start = np.zeros(self.nx * self.ny + 1, dtype=np.int64)
        np.cumsum(np.bincount(cell, minlength=self.nx * self.ny), out=self.start[1:])

    def _cx(self, x: F64) -> I64:
        return np.floor((x - self.x0) / self.cell_m).astype(np.int64)

    def _cy(self, y: F64) -> I64:
        return np.floor((y - self.y0) / self.cell_m).astype(np.int64)

    def candidates(self, px: F64, py: F64, reach_m: F64 | None = None,
                   skip_own: bool = True) -> tuple[I64, I64]:
        """(point, segment) pairs, grouped by point: with ``reach_m`` None, of each point's own
        cell; else of the cells the square of half-side ``reach_m`` around the point touches
        (its own cell left out when ``skip_own``)."""
        cx, cy = self._cx(px), self._cy(py)
        if reach_m is None:
            nbx, nby = cx[:, None], cy[:, None]
            use = np.ones(nbx.shape, dtype=bool)
        else:
            k = max(1, int(np.ceil(float(reach_m.max(initial=0.0)) / self.cell_m)))
            side = np.arange(-k, k + 1)
            ox, oy = np.tile(side, side.size), np.repeat(side, side.size)
            nbx, nby = cx[:, None] + ox, cy[:, None] + oy
            r = reach_m[:, None] + 1e-6  # a hair wider: a cell too many is harmless
            lx, by = self.x0 + nbx * self.cell_m, self.y0 + nby * self.cell_m
            use = ((px[:, None] - r < lx + self.cell_m) & (px[:, None] + r >= lx)
                   & (py[:, None] - r < by + self.cell_m) & (py[:, None] + r >= by))
            if skip_own:
                use &= (ox != 0) | (oy != 0)
        use &= (nbx >= 0) & (nbx < self.nx) & (nby >= 0) & (nby < self.ny)
        cell = np.where(use, nby * self.nx + nbx, 0).ravel()
        lo = self.start[cell]
        cnt = np.where(use.ravel(), self.start[cell + 1] - lo, 0)
        pair_pt = np.repeat(np.repeat(np.arange(px.size, dtype=np.int64), nbx.shape[1]), cnt)
        k_in = np.arange(pair_pt.size, dtype=np.int64) - np.repeat(np.cumsum(cnt) - cnt, cnt)
        return pair_pt, self.seg[np.repeat(lo, cnt) + k_in]


def _first_per_point(pp: I64, n: int, values: F64) -> F64:
    """Minimum of ``values`` per point (pairs grouped by point); inf for points without pairs."""
    out = np.full(n, np.inf)
    if pp.size:
        starts = np.flatnonzero(np.r_[True, pp[1:] != pp[:-1]])
        out[pp[starts]] = np.minimum.reduceat(values, starts)
    return out


def _pick(pp: I64, ss: I64, d: F64, coords: tuple[F64, F64, F64, F64], px: F64, py: F64,
          n: int) -> tuple[I64, F64]:
    """Nearest segment per point among its candidate pairs (grouped by point): exact ties go
    to the lowest index; points with a different segment within :data:`TIE_M` are decided by
    ``shapely.distance`` (GEOS) itself."""
    dmin = _first_per_point(pp, n, d)
    exact = d == dmin[pp]
    best = _first_per_point(pp[exact], n, ss[exact].astype(float))
    edge = np.where(np.isfinite(best), best, -1).astype(np.int64)
    near = (d <= dmin[pp] + TIE_M) & (ss != edge[pp])
    many = np.unique(pp[near])
    if many.size:
        sel = np.isin(pp, many) & (d <= dmin[pp] + TIE_M)
        tp, ts = pp[sel], ss[sel]
        ax, ay, bx, by = (c[ts] for c in coords)
        lines = shapely.linestrings(np.stack([np.column_stack([ax, ay]),
                                              np.column_stack([bx, by])], axis=1))
        gd = shapely.distance(lines, shapely.points(px[tp], py[tp]))
        order = np.lexsort((ts, gd, tp))
        first = order[np.r_[True, tp[order][1:] != tp[order][:-1]]]
        edge[tp[first]] = ts[first]
        dmin[tp[first]] = gd[first]
    return edge, dmin


def _upper_bounds(grid: SegmentGrid, coords: tuple[F64, F64, F64, F64], px: F64, py: F64,
                  max_snap_m: float) -> F64:
    """Distance to some segment per point (an upper bound of the nearest): the nearest in its own
    cell, else in blocks of cells doubling in width; ``max_snap_m`` where none is that near."""
    bound = np.full(px.size, np.inf)
    for lo in range(0, px.size, CHUNK_POINTS):
        pp, ss = grid.candidates(px[lo:lo + CHUNK_POINTS], py[lo:lo + CHUNK_POINTS])
        d = segment_distance(px[lo + pp], py[lo + pp], *(c[ss] for c in coords))
        bound[lo:lo + CHUNK_POINTS] = _first_per_point(pp, min(CHUNK_POINTS, px.size - lo), d)
    reach_m = grid.cell_m
    while reach_m < 2 * max_snap_m + 2 * grid.cell_m:
        empty = np.flatnonzero(~np.isfinite(bound))
        if empty.size == 0:
            break
        pp, ss = grid.candidates(px[empty], py[empty], np.full(empty.size, reach_m))
        d = segment_distance(px[empty[pp]], py[empty[pp]], *(c[ss] for c in coords))
        bound[empty] = _first_per_point(pp, empty.size, d)
        reach_m *= 2
    out: F64 = np.minimum(bound, max_snap_m)
    return out


def nearest_segments(px: F64, py: F64, coords: tuple[F64, F64, F64, F64], max_snap_m: float,
                     grid_of: dict[float, SegmentGrid]) -> tuple[I64, F64]:
    """Nearest segment (lowest index on ties) within ``max_snap_m`` per point, and its distance.

    ``coords`` are the segments' end coordinates (ax, ay, bx, by); ``grid_of`` caches the grid
    by cell size. Points farther than ``max_snap_m`` from every segment get -1 and NaN. An upper
    bound per point (:func:`_upper_bounds`) limits the exact search to the cells within it.
    """
    cell_m = min(FIRST_CELL_M, float(max_snap_m))
    if cell_m not in grid_of:
        grid_of[cell_m] = SegmentGrid(*coords, cell_m)
    grid = grid_of[cell_m]
    reach = _upper_bounds(grid, coords, px, py, max_snap_m) + TIE_M
    edge = np.full(px.size, -1, dtype=np.int64)
    dist = np.full(px.size, np.nan)
    width = np.ceil(reach / cell_m).astype(np.int64)  # cells the search reaches on each side
    for k in np.unique(width):
        group = np.flatnonzero(width == k)
        for lo in range(0, group.size, max(1, CHUNK_POINTS // int(k) ** 2)):
            idx = group[lo:lo + max(1, CHUNK_POINTS // int(k) ** 2)]
            qx, qy = px[idx], py[idx]
            pp, ss = grid.candidates(qx, qy, reach[idx], skip_own=False)
            d = segment_distance(qx[pp], qy[pp], *(c[ss] for c in coords))
            e, dm = _pick(pp, ss, d, coords, qx, qy, idx.size)
            done = (e >= 0) & (dm <= max_snap_m)
            edge[idx[done]], dist[idx[done]] = e[done], dm[done]
    return edge, dist


def nearest_segment_of_one(px: float, py: float, coords: tuple[F64, F64, F64, F64],
                           max_snap_m: float) -> tuple[int, float]:
    """:func:`nearest_segments` for one point among a few candidate segments (all measured, no
    grid): the position of the nearest (lowest on ties) and its distance, or (-1, NaN)."""
    n = coords[0].size
    if n == 0:
        return -1, float("nan")
    qx, qy = np.array([px], dtype=float), np.array([py], dtype=float)
    pp, ss = np.zeros(n, dtype=np.int64), np.arange(n, dtype=np.int64)
    d = segment_distance(np.full(n, px), np.full(n, py), *coords)
    e, dm = _pick(pp, ss, d, coords, qx, qy, 1)
    if e[0] < 0 or not dm[0] <= max_snap_m:
        return -1, float("nan")
    return int(e[0]), float(dm[0])
