"""Stitch the filled contours of raster tiles into one MultiPolygon without a GEOS union.

Each tile is contoured on its own grid points, the lines it shares with its neighbours included,
so a tile's polygons are the catchment clipped to the tile square: their rings run along the
tile lines wherever the catchment crosses them. Both tiles see the same values on a shared line,
so the parts of it inside the catchment are the same from either side. The dissolved polygon's
rings are therefore the tile rings with their edges along tile lines removed, the open chains
left joined where they meet on a line, and the rings that never touch a line kept as they are.

Notes
-----
Points are in grid units (column, row), so lying on a tile line is an exact question up to
rounding. A chain ends at a contour crossing strictly inside a grid edge of a tile line (no grid
value equals the level: the caller makes sure of it), so the line and the grid edge name the
crossing in both tiles (:func:`_point_keys`). Rings keep the contour orientation (inside on the
left): counter-clockwise rings are shells, clockwise ones holes. Tile polygons that share a grid
edge of a tile line belong to one dissolved polygon (connected components), which has exactly
one shell; its holes are the clockwise rings of the same component. Anything else (a crossing
seen from one side only, a component without exactly one shell) means the tiles did not meet as
assumed: :func:`stitch_tiles` then returns ``None`` and the caller falls back to a GEOS union.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.sparse.csgraph import connected_components

Ragged = tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.int64]]
Int = NDArray[np.int64]
Bool = NDArray[np.bool_]

#: Tolerance (grid units) for a point on a tile line; crossings stay >= 1e-6 off grid points.
ON_LINE = 1e-8
#: Rings smaller than this (grid units squared) are dropped: their orientation is not reliable.
MIN_RING_AREA = 1e-6


def stitch_tiles(pts: NDArray[np.float64], rings: Int, outers: Int, tile: int,
                 shape: tuple[int, int]) -> Ragged | None:
    """Dissolve tile polygons into ``(points, ring offsets, polygon offsets)`` in grid units.

    ``pts``, ``rings``, ``outers`` are contourpy's filled output of all tiles concatenated
    (closed rings, each tile polygon's rings together, its outer ring first); ``tile`` is the
    tile edge and ``shape`` the grid (rows, columns), both in cells. ``None`` when the tiles do
    not meet as assumed (see the module notes).
    """
    if rings.size < 2:
        return pts[:0], np.zeros(1, dtype=np.int64), np.zeros(1, dtype=np.int64)
    ring_poly = np.repeat(np.arange(outers.size - 1), np.diff(outers))
    lines = _on_lines(pts, tile)
    along = _edge_along_line(lines, rings)
    comp = _components(pts, rings, ring_poly, along, lines, shape)
    seq, begin, end, chain_ring = _chains(rings, along)
    cycles = _link(_point_keys(pts, seq[begin], lines, shape),
                   _point_keys(pts, seq[end] + 1, lines, shape))
    if cycles is None:
        return None
    order, ring_offsets = cycles
    # a joined ring: its chains' points in order (each chain's last point is the next one's
    # first, so it is the chain's last edge that is listed), then its first point to close it
    starts = np.insert(begin[order], ring_offsets[1:], begin[order][ring_offsets[:-1]])
    lengths = np.insert(end[order] - begin[order] + 1, ring_offsets[1:], 1)
    chained = seq[_ranges(starts, lengths)]
    chained_len = (np.add.reduceat(end[order] - begin[order] + 1, ring_offsets[:-1]) + 1
                   if order.size else np.zeros(0, dtype=np.int64))
    # rings that never run along a tile line stay as they are
    alone = np.flatnonzero(~np.logical_or.reduceat(along, rings[:-1]) & (np.diff(rings) > 1))
    vertex = np.concatenate([chained, _ranges(rings[alone], np.diff(rings)[alone])])
    length = np.concatenate([chained_len, np.diff(rings)[alone]])
    ring_comp = comp[ring_poly[np.concatenate([chain_ring[order[ring_offsets[:-1]]], alone])]]
    return _polygons(pts, vertex, length, ring_comp)


def _ranges(starts: Int, lengths: Int) -> Int:
    """``concatenate([arange(s, s + n) for s, n in zip(starts, lengths)])``, vectorised."""
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    return np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(total)


Lines = tuple[Int, Int, Bool, Bool]


def _on_lines(pts: NDArray[np.float64], tile: int) -> Lines:
    """Nearest tile line in x and in y of each point, and whether the point lies on it."""
    line_x = np.rint(pts[:, 0] / tile).astype(np.int64)
    line_y = np.rint(pts[:, 1] / tile).astype(np.int64)
    on_x = np.abs(pts[:, 0] - line_x * tile) < ON_LINE
    on_y = np.abs(pts[:, 1] - line_y * tile) < ON_LINE
    return line_x, line_y, on_x, on_y


def _edge_along_line(lines: Lines, rings: Int) -> Bool:
    """Per point: whether the edge from it to the next point runs along one tile line (False
    for the closing point of each ring, which starts no edge)."""
    line_x, line_y, on_x, on_y = lines
    a, b = slice(None, -1), slice(1, None)
    along = np.zeros(line_x.size, dtype=bool)
    along[a] = ((on_x[a] & on_x[b] & (line_x[a] == line_x[b]))
                | (on_y[a] & on_y[b] & (line_y[a] == line_y[b])))
    along[rings[1:] - 1] = False
    return along


def _key(line: Int, grid_edge: Int, vertical: Bool, shape: tuple[int, int]) -> Int:
    """One integer per (tile line, grid edge along it); vertical and horizontal lines apart."""
    span = max(shape) + 2
    return (line * span + grid_edge) * 2 + vertical


def _components(pts: NDArray[np.float64], rings: Int, ring_poly: Int, along: Bool, lines: Lines,
                shape: tuple[int, int]) -> Int:
    """Dissolved polygon of each tile polygon: tile polygons that share a grid edge are one."""
    line_x, line_y, on_x, _ = lines
    e = np.flatnonzero(along)
    vertical = on_x[e] & on_x[e + 1] & (line_x[e] == line_x[e + 1])
    pos = np.where(vertical, pts[e, 1], pts[e, 0])
    pos_next = np.where(vertical, pts[e + 1, 1], pts[e + 1, 0])
    lo = np.floor(np.minimum(pos, pos_next) + ON_LINE).astype(np.int64)
    count = np.maximum(np.ceil(np.maximum(pos, pos_next) - ON_LINE).astype(np.int64) - lo, 1)
    rep = np.repeat(np.arange(e.size), count)
    grid_edge = _ranges(lo, count)
    key = _key(np.where(vertical, line_x[e], line_y[e])[rep], grid_edge, vertical[rep], shape)
    poly = ring_poly[np.searchsorted(rings, e, side="right") - 1][rep]
    order = np.argsort(key, kind="stable")
    key, poly = key[order], poly[order]
    same = np.flatnonzero(key[1:] == key[:-1])
    n_poly = int(ring_poly[-1]) + 1
    graph = sp.coo_matrix((np.ones(same.size), (poly[same], poly[same + 1])),
                          shape=(n_poly, n_poly))
    labels: Int = connected_components(graph, directed=False)[1].astype(np.int64)
    return labels


def _point_keys(pts: NDArray[np.float64], idx: Int, lines: Lines, shape: tuple[int, int]) -> Int:
    """Key of the grid edge of a tile line that each crossing point ``idx`` lies in."""
    line_x, line_y, on_x, _ = lines
    vertical = on_x[idx]
    pos = np.where(vertical, pts[idx, 1], pts[idx, 0])
    line = np.where(vertical, line_x[idx], line_y[idx])
    return _key(line, np.floor(pos).astype(np.int64), vertical, shape)


def _chains(rings: Int, along: Bool) -> tuple[Int, Int, Int, Int]:
    """Open chains: the runs of edges off the tile lines in the rings that touch a line.

    Each such ring's edges (an edge is named by its first point) are listed from its first edge
    along a line on, so no run wraps around. Returns that edge sequence, the positions in it of
    each chain's first and last edge, and the ring of each chain.
    """
    n_edges = np.diff(rings) - 1
    touching = np.logical_or.reduceat(along, rings[:-1]) & (n_edges > 0)
    rows = np.flatnonzero(touching)
    size = n_edges[rows]
    # first edge along a line in each touching ring
    first = np.maximum.reduceat(np.where(along, -np.arange(along.size), -along.size),
                                rings[:-1])[rows] * -1
    rank = _ranges(np.zeros(rows.size, dtype=np.int64), size)
    start = np.repeat(rings[rows], size)
    seq = start + (np.repeat(first - rings[rows], size) + rank) % np.repeat(size, size)
    off = ~along[seq]
    begin = np.flatnonzero(off & ~np.r_[False, off[:-1]])
    end = np.flatnonzero(off & ~np.r_[off[1:], False])
    return seq, begin, end, np.repeat(rows, size)[begin]


def _link(start_key: Int, end_key: Int) -> tuple[Int, Int] | None:
    """Chains in ring order (each followed by the one starting where it ends), and the offsets
    of the rings in that order; ``None`` unless every end meets exactly one start."""
    n = start_key.size
    by_start = np.argsort(start_key)
    sorted_start = start_key[by_start]
    pos = np.minimum(np.searchsorted(sorted_start, end_key), max(n - 1, 0))
    if n and (np.any(sorted_start[1:] == sorted_start[:-1])
              or np.any(sorted_start[pos] != end_key)
              or np.unique(end_key).size != n):
        return None
    nxt = by_start[pos].tolist()
    seen = bytearray(n)
    order: list[int] = []
    offsets = [0]
    for s in range(n):
        c = s
        while not seen[c]:
            seen[c] = 1
            order.append(c)
            c = nxt[c]
        if len(order) > offsets[-1]:
            offsets.append(len(order))
    return np.array(order, dtype=np.int64), np.array(offsets, dtype=np.int64)


def _polygons(pts: NDArray[np.float64], vertex: Int, length: Int, comp: Int) -> Ragged | None:
    """Rings (``vertex`` ids, ``length`` each, dissolved polygon ``comp`` each) as ragged
    polygons, shell first; ``None`` unless each polygon has exactly one counter-clockwise ring."""
    offsets = np.r_[0, np.cumsum(length)]
    origin = np.repeat(pts[vertex[offsets[:-1]]], length, axis=0)
    x, y = (pts[vertex] - origin).T
    cross = np.append(x[:-1] * y[1:] - x[1:] * y[:-1], 0.0)
    cross[offsets[1:] - 1] = 0.0  # a ring's last point does not pair with the next ring's first
    area = 0.5 * np.add.reduceat(cross, offsets[:-1]) if length.size else cross[:0]
    keep = np.abs(area) >= MIN_RING_AREA
    hole = area < 0
    order = np.lexsort((hole, comp))
    order = order[keep[order]]
    n_comp = int(comp.max(initial=-1)) + 1
    shells = np.bincount(comp[order], weights=(~hole[order]).astype(np.float64), minlength=n_comp)
    used = np.bincount(comp[order], minlength=shells.size) > 0
    if np.any(shells[used] != 1):
        return None
    idx = _ranges(offsets[:-1][order], length[order])
    ring_off = np.r_[0, np.cumsum(length[order])]
    new_poly = np.r_[True, comp[order][1:] != comp[order][:-1]] if order.size else np.zeros(0, bool)
    return pts[vertex[idx]], ring_off, np.r_[np.flatnonzero(new_poly), order.size].astype(np.int64)
