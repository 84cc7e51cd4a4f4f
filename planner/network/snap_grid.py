"""Exact nearest-segment search on a uniform grid, vectorised in numpy (the fast snapping path).

Each segment is registered in the grid cells its bounding box touches. Points are first ordered
by their cell (so neighbouring points read neighbouring memory). For a point, the nearest segment
registered in its own cell gives an upper bound of its nearest distance (cells doubling in width
when its own cell is empty); every segment within that bound lies in the cells the square of
that half-side around the point touches, so those cells hold the nearest segment.

Candidates are screened with a cheap squared distance (clamped projection, per-entry geometry
stored in grid order); only candidates within ``2 *`` :data:`TIE_M` of the nearest go on to the
same floating-point formula GEOS uses for a two-point line (``Distance::pointToSegment``), and
candidates within :data:`TIE_M` of the nearest are compared again with ``shapely.distance``
itself; ties go to the lowest segment index. The screen's rounding (below 1e-9 m) is far inside
the margin, so the result equals the STRtree method's (``tests/planner/network/
test_snap_grid.py`` compares them, ties included). Positions along the segment use the
length-indexed projection behind ``line_locate_point``.
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
FIRST_CELL_M = 100.0

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


def stable_code_order(code: I64) -> I64:
    """Stable ascending order of non-negative integer codes: two 16-bit radix passes when they
    fit 32 bits (several times faster than a comparison sort), else numpy's stable sort."""
    if code.size == 0 or int(code.max()) >= 2**32:
        order: I64 = np.argsort(code, kind="stable")
        return order
    low = np.argsort((code & 0xFFFF).astype(np.uint16), kind="stable")
    high = np.argsort((code[low] >> 16).astype(np.uint16), kind="stable")
    picked: I64 = low[high]
    return picked


class SegmentGrid:
    """Segments bucketed by the cells (``cell_m`` square) their bounding boxes touch; the
    entries' geometry (start, direction, 1/length^2) is stored in grid order."""

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
        self.seg = seg[stable_code_order(cell)]  # segment order kept within a cell
        self.start = np.zeros(self.nx * self.ny + 1, dtype=np.int64)
        np.cumsum(np.bincount(cell, minlength=self.nx * self.ny), out=self.start[1:])
        dx, dy = bx - ax, by - ay
        len2 = dx * dx + dy * dy
        with np.errstate(divide="ignore"):
            inv = np.where(len2 > 0, 1.0 / len2, 0.0)  # zero length: projection 0, the start
        self.geo = np.column_stack([ax, ay, dx, dy, inv])[self.seg]

    def _cx(self, x: F64) -> I64:
        return np.floor((x - self.x0) / self.cell_m).astype(np.int64)

    def _cy(self, y: F64) -> I64:
        return np.floor((y - self.y0) / self.cell_m).astype(np.int64)

    def cell_of(self, px: F64, py: F64) -> I64:
        """Cell number of each point, clipped to the grid (for ordering points)."""
        cx = np.clip(self._cx(px), 0, self.nx - 1)
        code: I64 = np.clip(self._cy(py), 0, self.ny - 1) * self.nx + cx
        return code

    def candidates(self, px: F64, py: F64, reach_m: F64 | None = None,
                   skip_own: bool = True) -> tuple[I64, I64, I64]:
        """(point, grid entry) pairs grouped by point, and the pairs per point: with ``reach_m``
        None, of each point's own cell; else of the cells the square of half-side ``reach_m``
        around the point touches (its own cell left out when ``skip_own``). The segment of an
        entry is ``seg[entry]``."""
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
        per_point = cnt.reshape(nbx.shape).sum(axis=1)
        entry = np.arange(int(cnt.sum()), dtype=np.int64) + np.repeat(lo - np.cumsum(cnt) + cnt,
                                                                      cnt)
        return np.repeat(np.arange(px.size, dtype=np.int64), per_point), entry, per_point

    def sq_distance(self, entry: I64, px: F64, py: F64) -> F64:
        """Squared distance from each point to its entry's segment (the cheap screen)."""
        g = self.geo[entry]
        rx, ry = px - g[:, 0], py - g[:, 1]
        t = (rx * g[:, 2] + ry * g[:, 3]) * g[:, 4]
        np.clip(t, 0.0, 1.0, out=t)
        rx -= t * g[:, 2]
        ry -= t * g[:, 3]
        out: F64 = rx * rx + ry * ry
        return out


def _min_per_point(values: F64, per_point: I64) -> F64:
    """Minimum of ``values`` (grouped by point, ``per_point`` each); inf for points without."""
    out = np.full(per_point.size, np.inf)
    has = np.flatnonzero(per_point)
    if has.size:
        starts = (np.cumsum(per_point) - per_point)[has]
        out[has] = np.minimum.reduceat(values, starts)
    return out


def _pick(pp: I64, ss: I64, d: F64, coords: tuple[F64, F64, F64, F64], px: F64, py: F64,
          n: int) -> tuple[I64, F64]:
    """Nearest segment per point among its candidate pairs (grouped by point): exact ties go
    to the lowest index (``d`` is GEOS's own formula, bit for bit); points with another
    segment within :data:`TIE_M` but not at exactly the same distance are decided by
    ``shapely.distance`` (GEOS) itself."""
    per_point = np.bincount(pp, minlength=n)
    dmin = _min_per_point(d, per_point)
    exact = d == dmin[pp]
    best = _min_per_point(ss[exact].astype(float), np.bincount(pp[exact], minlength=n))
    edge = np.where(np.isfinite(best), best, -1).astype(np.int64)
    near = (d <= dmin[pp] + TIE_M) & ~exact
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


def _upper_bounds(grid: SegmentGrid, px: F64, py: F64, own_sq: F64, max_snap_m: float) -> F64:
    """Distance to some segment per point (an upper bound of the nearest, a hair wide): the
    nearest in its own cell (``own_sq``, squared), else in blocks of cells doubling in width;
    ``max_snap_m`` where none is that near."""
    bound = np.sqrt(own_sq)
    reach_m = grid.cell_m
    while reach_m < 2 * max_snap_m + 2 * grid.cell_m:
        empty = np.flatnonzero(~np.isfinite(bound))
        if empty.size == 0:
            break
        pp, entry, per_point = grid.candidates(px[empty], py[empty], np.full(empty.size, reach_m))
        d2 = grid.sq_distance(entry, px[empty[pp]], py[empty[pp]])
        bound[empty] = np.sqrt(_min_per_point(d2, per_point))
        reach_m *= 2
    out: F64 = np.minimum(bound, max_snap_m) + TIE_M
    return out


def _chunk_nearest(grid: SegmentGrid, coords: tuple[F64, F64, F64, F64], px: F64, py: F64,
                   max_snap_m: float) -> tuple[I64, F64]:
    """:func:`nearest_segments` for one block of points: own cell, upper bound, the other
    cells within it, the screen, then the exact formula on what passes the screen."""
    pp, entry, per_point = grid.candidates(px, py)
    d2 = grid.sq_distance(entry, px[pp], py[pp])
    own = _min_per_point(d2, per_point)
    reach = _upper_bounds(grid, px, py, own, max_snap_m)
    parts, gmin = [(pp, entry, d2)], own.copy()
    width = np.ceil(reach / grid.cell_m).astype(np.int64)  # cells reached on each side
    for k in np.unique(width):
        group = np.flatnonzero(width == k)
        gp, ge, gper = grid.candidates(px[group], py[group], reach[group])
        gp = group[gp]
        gd2 = grid.sq_distance(ge, px[gp], py[gp])
        gmin[group] = np.minimum(gmin[group], _min_per_point(gd2, gper))
        parts.append((gp, ge, gd2))
    limit = (np.sqrt(gmin) + 2 * TIE_M) ** 2
    kept = [(p[keep], e[keep]) for p, e, d in parts for keep in [d <= limit[p]]]
    kp = np.concatenate([p for p, _ in kept])
    ks = grid.seg[np.concatenate([e for _, e in kept])]
    order = np.argsort(kp, kind="stable")
    kp, ks = kp[order], ks[order]
    d = segment_distance(px[kp], py[kp], *(c[ks] for c in coords))
    edge, dist = _pick(kp, ks, d, coords, px, py, px.size)
    done = (edge >= 0) & (dist <= max_snap_m)
    return np.where(done, edge, -1), np.where(done, dist, np.nan)


def nearest_segments(px: F64, py: F64, coords: tuple[F64, F64, F64, F64], max_snap_m: float,
                     grid_of: dict[float, SegmentGrid]) -> tuple[I64, F64]:
    """Nearest segment (lowest index on ties) within ``max_snap_m`` per point, and its distance.

    ``coords`` are the segments' end coordinates (ax, ay, bx, by); ``grid_of`` caches the grid
    by cell size. Points farther than ``max_snap_m`` from every segment get -1 and NaN.
    """
    cell_m = min(FIRST_CELL_M, float(max_snap_m))
    if cell_m not in grid_of:
        grid_of[cell_m] = SegmentGrid(*coords, cell_m)
    grid = grid_of[cell_m]
    order = stable_code_order(grid.cell_of(px, py))
    qx, qy = px[order], py[order]
    edge = np.empty(px.size, dtype=np.int64)
    dist = np.empty(px.size)
    for lo in range(0, px.size, CHUNK_POINTS):
        block = order[lo:lo + CHUNK_POINTS]
        edge[block], dist[block] = _chunk_nearest(grid, coords, qx[lo:lo + CHUNK_POINTS],
                                                  qy[lo:lo + CHUNK_POINTS], max_snap_m)
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
