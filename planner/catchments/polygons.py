"""Reached edge pieces -> catchment polygons per facility and threshold, and dissolved per type.

Notes
-----
For a segment (u, v) of walking time w whose ends are reached at t_u and t_v, the part reached
within T is [0, r_u] from u and [1 - r_v, 1] from v (fractions of the segment), with
r_x = clip((T - t_x) / w, 0, 1); the whole segment when r_u + r_v >= 1. A facility's own segment
is reached from its snap point f for (T - a) / w either way (a: its access time). Polygons are
these pieces buffered by ``buffer_m`` (a home that far from the street counts as reached): never
a convex or concave hull.

They are built on a raster (:mod:`planner.catchments.raster`), because GEOS buffering of many
pieces grows faster than linearly (hundreds of thousands of pieces take minutes): the street is
sampled every half cell with the time each sample is reached, plus the exact points where the
reached street ends at each threshold (:mod:`planner.catchments.street_samples`); all thresholds
share one sampling pass, and the cost is linear in the raster size (dissolved polygons:
:mod:`planner.catchments.tiled`).
:func:`pieces_to_polygon` is the exact GEOS buffer of the same pieces, used as the test oracle.
Coverage figures never use the polygons.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import scipy.sparse as sp
import shapely
from numpy.typing import NDArray

from planner.catchments.raster import Pieces, build_local_polygons
from planner.catchments.street_samples import (
    concat_points,
    reached_piece,
    sample_chunks,
    sample_street,
    sample_street_xy,
    street_samples,
    threshold_ends,
)
from planner.catchments.tiled import (
    Timer,
    add_samples,
    empty_grid,
    grid_polygons,
    sample_levels,
    timed,
)
from planner.network.graph import MIN_EDGE_S, WalkNetwork
from planner.network.snap import SnapResult
from planner.routing.forkpool import fork_split
from planner.routing.travel import compute_source_reach


@dataclass(frozen=True, slots=True)
class CatchmentParams:
    """Polygon construction.

    Parameters
    ----------
    buffer_m
        Buffer around reached street pieces, metres (default 50: a home up to 50 m off the
        street, the depth of a typical compound frontage, counts as inside).
    cell_m
        Raster cell for per-facility polygons, metres (default 20: distances are measured to
        the street samples, so the area is within a few per cent of the exact GEOS buffer on
        the Chengdu extract; see :mod:`planner.catchments.raster`).
    dissolved_cell_m
        Raster cell for dissolved polygons per type, metres (default 10; distances to cell
        centres, tiled).
    workers
        Processes building polygons at once: dissolved polygons of different facility types,
        per-facility polygons of different facilities (default 1; the command line uses 2,
        this machine's core count).
    """

    buffer_m: float = 50.0
    cell_m: float = 20.0
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
    the cost grows with the catchment, not the city. Sources are shared among
    ``params.workers`` processes (this one and forked children). Returns ``(source position,
    threshold_s, polygon, reached street length in metres)`` tuples in source order.
    """
    reach = reach.tocsr()
    touched = sp.csr_matrix((np.ones(reach.indices.size, dtype=np.int8), reach.indices,
                             reach.indptr), shape=reach.shape) @ _incidence(network)
    touched.sort_indices()
    todo = np.flatnonzero(sources.routable)
    workers = max(1, min(params.workers, todo.size // 8))  # a handful is not worth a fork
    chunks = [todo[i::workers] for i in range(workers)]
    state = {"network": network, "reach": reach, "touched": touched, "sources": sources,
             "thresholds_s": thresholds_s, "params": params}
    built = [item for part in fork_split(_catchments_of, chunks, state) for item in part]
    return sorted(built, key=lambda item: item[0])


def build_catchments_of(network: WalkNetwork, sources: SnapResult, positions: NDArray[np.int64],
                        thresholds_s: tuple[float, ...], params: CatchmentParams
                        ) -> list[tuple[int, float, shapely.Geometry, float]]:
    """Catchments of the sources at ``positions`` only: what a map asks for on demand.

    One bounded search per source plus its polygons (a few milliseconds each, after an index of
    the segments at each node that costs O(segments), ~0.2 s at a million); returns the same
    tuples as :func:`build_facility_catchments` with positions into ``sources``.
    """
    positions = np.asarray(positions, dtype=np.int64)
    sub = sources.take(positions)
    reach = compute_source_reach(network, sub, limit_s=max(thresholds_s))
    return [(int(positions[j]), t_s, poly, length_m)
            for j, t_s, poly, length_m in build_facility_catchments(network, reach, sub,
                                                                    thresholds_s, params)]


def _catchments_of(state: Mapping[str, Any], which: NDArray[np.int64]
                   ) -> list[tuple[int, float, shapely.Geometry, float]]:
    """Polygons and reached lengths of the sources ``which`` (one worker's share)."""
    network: WalkNetwork = state["network"]
    reach, touched, sources = state["reach"], state["touched"], state["sources"]
    thresholds_s: tuple[float, ...] = state["thresholds_s"]
    params: CatchmentParams = state["params"]
    row = np.full(network.n_nodes, np.inf)
    out = []
    for j in which:
        nodes = reach.indices[reach.indptr[j]:reach.indptr[j + 1]]
        row[nodes] = reach.data[reach.indptr[j]:reach.indptr[j + 1]]
        edges = touched.indices[touched.indptr[j]:touched.indptr[j + 1]]
        if not np.any(edges == sources.edge[j]):
            edges = np.append(edges, sources.edge[j])
        one = np.array([j])
        points = concat_points(
            sample_street(network, edges, row, max(thresholds_s), params.cell_m / 2, sources, one),
            threshold_ends(network, edges, row, thresholds_s, sources, one))
        polys = build_local_polygons(
            street_samples(network, points), thresholds_s, params.buffer_m, params.cell_m,
            partial(reached_piece, network, row, sources, int(j), points))
        for t_s, poly in zip(thresholds_s, polys, strict=True):
            parts = compute_reached_intervals(network, row, t_s, sources, one, edges)
            out.append((int(j), t_s, poly, reached_length_m(network, parts)))
        row[nodes] = np.inf
    return out


def build_dissolved_catchments(network: WalkNetwork, node_time_s: NDArray[np.float64],
                               sources: SnapResult, which: NDArray[np.int64],
                               thresholds_s: tuple[float, ...], params: CatchmentParams,
                               timer: Timer = None) -> list[shapely.Geometry]:
    """One polygon per threshold for a set of sources from their nearest-time field.

    ``timer`` (a dict) receives the seconds spent per step: street samples, level raster,
    distance, contour, assembly (stitch) and repair (GEOS union where the stitch declined).
    """
    limit_s = max(thresholds_s)
    t_u = node_time_s[network.edge_u]
    t_v = node_time_s[network.edge_v]
    hit = (np.minimum(t_u, t_v) < limit_s) & network.edge_in_main
    hit[sources.edge[which[sources.routable[which]]]] = True
    edges = np.flatnonzero(hit)
    if edges.size == 0:
        return [shapely.MultiPolygon() for _ in thresholds_s]
    cell_m = params.dissolved_cell_m
    levels = np.sort(np.asarray(thresholds_s, dtype=np.float64))
    parts = []  # (x, y, level) of the samples, in cache-sized parts
    with timed(timer, "samples_s"):
        for chunk in sample_chunks(network, edges, cell_m / 2):
            x, y, t = sample_street_xy(network, chunk, node_time_s, limit_s, cell_m / 2, sources,
                                       which)
            parts.append((x, y, sample_levels(t, levels)))
        x, y, t = street_samples(network, threshold_ends(network, edges, node_time_s,
                                                         thresholds_s, sources, which))
        parts.append((x, y, sample_levels(t, levels)))
    with timed(timer, "level_raster_s"):
        parts = [p for p in parts if p[0].size]
        bounds = (min(p[0].min() for p in parts), min(p[1].min() for p in parts),
                  max(p[0].max() for p in parts), max(p[1].max() for p in parts))
        grid = empty_grid(bounds, params.buffer_m, cell_m)
        for xs, ys, ks in parts:
            add_samples(grid, xs, ys, ks)
    return grid_polygons(grid, thresholds_s, params.buffer_m, timer)
