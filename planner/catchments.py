"""Reached edge pieces -> catchment polygons per facility and threshold, and dissolved per type.

Notes
-----
For a segment (u, v) of walking time w whose ends are reached at t_u and t_v, the part reached
within T is [0, r_u] from u and [1 - r_v, 1] from v (fractions of the segment), with
r_x = clip((T - t_x) / w, 0, 1); the whole segment when r_u + r_v >= 1. A facility's own segment
is reached from its snap point f for (T - a) / w either way (a: its access time). Polygons are
these pieces buffered by ``buffer_m`` (a home that far from the street counts as reached): never
a convex or concave hull.

They are built on a raster, because GEOS buffering of many pieces grows faster than linearly
(hundreds of thousands of pieces take minutes): the street is sampled every half cell with the
time each sample is reached (:func:`sample_street_times`); each cell keeps its earliest time; for
a threshold T the cells reached by T seed an exact Euclidean distance transform, and the polygon
is the filled contour (marching squares, contourpy) of that distance at ``buffer_m``. The edge is
resolved to about a cell and interpolated (no staircase); all thresholds share one sampling pass,
and the cost is linear in the raster size. :func:`pieces_to_polygon` is the exact GEOS buffer of
the same pieces, used as the test oracle. Coverage figures never use the polygons.
"""

from __future__ import annotations

from dataclasses import dataclass

import contourpy
import numpy as np
import scipy.sparse as sp
import shapely
from numpy.typing import NDArray
from scipy import ndimage

from planner.network import MIN_EDGE_S, WalkNetwork
from planner.snap import SnapResult

Samples = tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]
Pieces = tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]


@dataclass(frozen=True, slots=True)
class CatchmentParams:
    """Polygon construction.

    Parameters
    ----------
    buffer_m
        Buffer around reached street pieces, metres (default 50: a home up to 50 m off the
        street, the depth of a typical compound frontage, counts as inside).
    cell_m
        Raster cell for per-facility polygons, metres (default 10: area within a few per cent
        of the exact GEOS buffer on the Chengdu extract, at a tenth of its cost).
    dissolved_cell_m
        Raster cell for dissolved polygons per type, metres (default 10).
    workers
        Processes building dissolved polygons of different facility types at once (default 1;
        the command line uses up to 2, this machine's core count).
    """

    buffer_m: float = 50.0
    cell_m: float = 10.0
    dissolved_cell_m: float = 10.0
    workers: int = 1


Intervals = tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]


def _edge_intervals(network: WalkNetwork, edges: NDArray[np.int64], t_u: NDArray[np.float64],
                    t_v: NDArray[np.float64], threshold_s: float) -> Intervals:
    """Reached parts of the given segments as (segment, start fraction, end fraction)."""
    w = np.maximum(network.edge_walk_s[edges], MIN_EDGE_S)  # co-located nodes: 0 m segments
    r_u = np.clip((threshold_s - t_u) / w, 0.0, 1.0)
    r_v = np.clip((threshold_s - t_v) / w, 0.0, 1.0)
    full = r_u + r_v >= 1.0
    starts = np.concatenate([np.zeros(edges.size), 1.0 - r_v[~full]])
    ends = np.concatenate([np.where(full, 1.0, r_u), np.ones(int((~full).sum()))])
    which = np.concatenate([edges, edges[~full]])
    keep = ends > starts
    return which[keep], starts[keep], ends[keep]


def _own_edge_intervals(network: WalkNetwork, sources: SnapResult, which: NDArray[np.int64],
                        threshold_s: float) -> Intervals:
    """Parts of the sources' own segments reached directly from their snap points."""
    which = which[sources.routable[which]]
    e = sources.edge[which]
    walk_s = np.maximum(network.edge_walk_s[e], MIN_EDGE_S)
    reach = (threshold_s - sources.access_m[which] / network.speed_m_s) / walk_s
    ok = reach > 0
    f = sources.frac[which][ok]
    return e[ok], np.clip(f - reach[ok], 0, 1), np.clip(f + reach[ok], 0, 1)


def compute_reached_intervals(network: WalkNetwork, node_time_s: NDArray[np.float64],
                              threshold_s: float, sources: SnapResult, which: NDArray[np.int64],
                              edges: NDArray[np.int64] | None = None) -> Intervals:
    """All street parts within ``threshold_s`` of the sources ``which`` (may overlap).

    ``edges`` restricts the search to candidate segments (default all segments).
    """
    edges = np.arange(network.n_edges) if edges is None else edges
    t_u = node_time_s[network.edge_u[edges]]
    t_v = node_time_s[network.edge_v[edges]]
    hit = ((t_u < threshold_s) | (t_v < threshold_s)) & network.edge_in_main[edges]
    a = _edge_intervals(network, edges[hit], t_u[hit], t_v[hit], threshold_s)
    b = _own_edge_intervals(network, sources, which, threshold_s)
    return tuple(np.concatenate([p, q]) for p, q in zip(a, b, strict=True))  # type: ignore[return-value]


def compute_reached_pieces(network: WalkNetwork, node_time_s: NDArray[np.float64],
                           threshold_s: float, sources: SnapResult, which: NDArray[np.int64],
                           edges: NDArray[np.int64] | None = None) -> Pieces:
    """The reached street parts as straight pieces ``(x0, y0, x1, y1)`` in metres."""
    e, f0, f1 = compute_reached_intervals(network, node_time_s, threshold_s, sources, which, edges)
    xu, yu = network.x_m[network.edge_u[e]], network.y_m[network.edge_u[e]]
    dx = network.x_m[network.edge_v[e]] - xu
    dy = network.y_m[network.edge_v[e]] - yu
    return xu + f0 * dx, yu + f0 * dy, xu + f1 * dx, yu + f1 * dy


def reached_length_m(network: WalkNetwork, intervals: Intervals) -> float:
    """Street length covered by the union of (possibly overlapping) intervals, metres."""
    e, f0, f1 = intervals
    if e.size == 0:
        return 0.0
    order = np.lexsort((f0, e))
    e, f0, f1 = e[order], f0[order], f1[order]
    first = np.ones(e.size, dtype=bool)
    first[1:] = e[1:] != e[:-1]
    group = np.cumsum(first) - 1
    # running max of the end within each segment: offset groups by 2 so maxima never cross
    reach = np.maximum.accumulate(f1 + 2.0 * group) - 2.0 * group
    prev_end = np.concatenate([[0.0], reach[:-1]])
    start = np.where(first, f0, np.maximum(f0, prev_end))
    return float((np.clip(f1 - start, 0.0, None) * network.edge_length_m[e]).sum())


def pieces_to_polygon(pieces: Pieces, buffer_m: float) -> shapely.Geometry:
    """Exact (GEOS) union of the buffered pieces; an empty polygon when there are none."""
    x0, y0, x1, y1 = pieces
    if x0.size == 0:
        return shapely.Polygon()
    coords = np.stack([np.column_stack([x0, y0]), np.column_stack([x1, y1])], axis=1)
    lines = shapely.multilinestrings(shapely.linestrings(coords))
    return shapely.buffer(lines, buffer_m, quad_segs=4)


def _incidence(network: WalkNetwork) -> sp.csr_matrix:
    """Node-by-segment incidence matrix (n x m)."""
    m = network.n_edges
    rows = np.concatenate([network.edge_u, network.edge_v])
    cols = np.concatenate([np.arange(m), np.arange(m)])
    return sp.csr_matrix((np.ones(2 * m, dtype=np.int8), (rows, cols)),
                         shape=(network.n_nodes, m))


def build_facility_catchments(network: WalkNetwork, reach: sp.csr_matrix, sources: SnapResult,
                              thresholds_s: tuple[float, ...], params: CatchmentParams
                              ) -> list[tuple[int, float, shapely.Geometry, float]]:
    """Catchment polygons per source and threshold from a bounded-reach matrix.

    Only the segments touching a source's reached nodes (and its own segment) are examined, so
    the cost grows with the catchment, not the city. Returns ``(source position, threshold_s,
    polygon, reached street length in metres)`` tuples.
    """
    out = []
    reach = reach.tocsr()
    incidence = _incidence(network)
    row = np.full(network.n_nodes, np.inf)
    step_m = params.cell_m / 2
    for j in np.flatnonzero(sources.routable):
        nodes = reach.indices[reach.indptr[j]:reach.indptr[j + 1]]
        row[nodes] = reach.data[reach.indptr[j]:reach.indptr[j + 1]]
        edges = np.union1d(incidence[nodes].indices, sources.edge[j:j + 1])
        one = np.array([j])
        samples = sample_street_times(network, edges, row, max(thresholds_s), step_m, sources, one)
        polys = build_threshold_polygons(samples, thresholds_s, params.buffer_m, params.cell_m)
        for t_s, poly in zip(thresholds_s, polys, strict=True):
            parts = compute_reached_intervals(network, row, t_s, sources, one, edges)
            out.append((int(j), t_s, poly, reached_length_m(network, parts)))
        row[nodes] = np.inf
    return out


def build_dissolved_catchments(network: WalkNetwork, node_time_s: NDArray[np.float64],
                               sources: SnapResult, which: NDArray[np.int64],
                               thresholds_s: tuple[float, ...], params: CatchmentParams
                               ) -> list[shapely.Geometry]:
    """One polygon per threshold for a set of sources from their nearest-time field."""
    t_u = node_time_s[network.edge_u]
    t_v = node_time_s[network.edge_v]
    hit = (np.minimum(t_u, t_v) < max(thresholds_s)) & network.edge_in_main
    edges = np.union1d(np.flatnonzero(hit), sources.edge[which[sources.routable[which]]])
    samples = sample_street_times(network, edges, node_time_s, max(thresholds_s),
                                  params.dissolved_cell_m / 2, sources, which)
    return build_threshold_polygons(samples, thresholds_s, params.buffer_m,
                                    params.dissolved_cell_m)


def sample_street_times(network: WalkNetwork, edges: NDArray[np.int64],
                        node_time_s: NDArray[np.float64], limit_s: float, step_m: float,
                        sources: SnapResult, which: NDArray[np.int64]) -> Samples:
    """Points every ``step_m`` along ``edges`` with their walking time (those <= ``limit_s``).

    A point at fraction f of (u, v) is reached at min(t_u + f*w, t_v + (1-f)*w); on the own
    segment of a source in ``which`` also at a + |f - f_s|*w (its direct walk along the segment).
    """
    n = np.maximum(2, np.ceil(network.edge_length_m[edges] / step_m).astype(np.int64) + 1)
    seg = np.repeat(np.arange(edges.size), n)
    frac = (np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)) / np.repeat(n - 1, n)
    e = edges[seg]
    u, v = network.edge_u[e], network.edge_v[e]
    w = np.maximum(network.edge_walk_s[e], MIN_EDGE_S)
    t = np.minimum(node_time_s[u] + frac * w, node_time_s[v] + (1.0 - frac) * w)
    which = which[sources.routable[which]]
    if which.size:
        _walk_own_segments(t, e, frac, w, network, sources, which)
    keep = t <= limit_s
    x = network.x_m[u] + frac * (network.x_m[v] - network.x_m[u])
    y = network.y_m[u] + frac * (network.y_m[v] - network.y_m[u])
    return x[keep], y[keep], t[keep]


#: Raster tile edge in cells; larger rasters are processed tile by tile (see Notes).
TILE_CELLS = 256


def _walk_own_segments(t: NDArray[np.float64], e: NDArray[np.int64], frac: NDArray[np.float64],
                       w: NDArray[np.float64], network: WalkNetwork, sources: SnapResult,
                       which: NDArray[np.int64]) -> None:
    """Lower ``t`` in place to the direct walk a + |f - f_s|*w on each source's own segment."""
    src_edge = sources.edge[which]
    order = np.argsort(src_edge, kind="stable")
    src_sorted = src_edge[order]
    on = np.flatnonzero(np.isin(e, src_sorted))
    lo = np.searchsorted(src_sorted, e[on], side="left")
    hi = np.searchsorted(src_sorted, e[on], side="right")
    k = 0
    while True:  # one pass per source sharing a segment (almost always one)
        valid = lo + k < hi
        if not valid.any():
            return
        i = on[valid]
        j = which[order[lo[valid] + k]]
        direct = sources.access_m[j] / network.speed_m_s + np.abs(frac[i] - sources.frac[j]) * w[i]
        t[i] = np.minimum(t[i], direct)
        k += 1


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


def _filled_contour(xs: NDArray[np.float64], ys: NDArray[np.float64], z: NDArray[np.float64],
                    level: float) -> shapely.Geometry:
    """MultiPolygon of the region where ``z <= level`` (marching squares, vectorised build)."""
    gen = contourpy.contour_generator(x=xs, y=ys, z=z,
                                      fill_type=contourpy.FillType.ChunkCombinedOffsetOffset)
    points, ring_offsets, outer_offsets = gen.filled(-1.0, level)
    if points[0] is None or len(points[0]) == 0:
        return shapely.MultiPolygon()
    outers = np.asarray(outer_offsets[0], dtype=np.int64)
    geom = shapely.from_ragged_array(
        shapely.GeometryType.MULTIPOLYGON, np.asarray(points[0], dtype=np.float64),
        (np.asarray(ring_offsets[0], dtype=np.int64), outers, np.array([0, outers.size - 1])))
    return geom[0]
