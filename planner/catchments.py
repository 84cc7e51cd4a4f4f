"""Reached edge pieces -> catchment polygons per facility and threshold, and dissolved per type.

Notes
-----
For a segment (u, v) of walking time w whose ends are reached at t_u and t_v, the part reached
within T is [0, r_u] from u and [1 - r_v, 1] from v (fractions of the segment), with
r_x = clip((T - t_x) / w, 0, 1); the whole segment when r_u + r_v >= 1. A facility's own segment
is reached from its snap point f for (T - a) / w either way (a: its access time). Polygons are
these pieces buffered by ``buffer_m`` (a home that far from the street counts as reached): never
a convex or concave hull. Dissolved polygons per type at city scale are built on a raster of
``cell_m`` cells (pieces sampled every half cell, dilated by a disc of ``buffer_m``, polygonised),
because GEOS buffering of hundreds of thousands of pieces grows faster than linearly; the raster
edge lies within one cell of the exact buffer. Coverage figures never use the polygons.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import rasterio.features
import scipy.sparse as sp
import shapely
from numpy.typing import NDArray
from rasterio.transform import Affine
from scipy import ndimage

from planner.network import MIN_EDGE_S, WalkNetwork
from planner.snap import SnapResult

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
    """

    buffer_m: float = 50.0
    cell_m: float = 10.0
    dissolved_cell_m: float = 10.0


def _edge_pieces(network: WalkNetwork, edges: NDArray[np.int64], t_u: NDArray[np.float64],
                 t_v: NDArray[np.float64], threshold_s: float) -> Pieces:
    """Reached pieces of the given segments as start/end fractions and their coordinates."""
    w = np.maximum(network.edge_walk_s[edges], MIN_EDGE_S)  # co-located nodes: 0 m segments
    r_u = np.clip((threshold_s - t_u) / w, 0.0, 1.0)
    r_v = np.clip((threshold_s - t_v) / w, 0.0, 1.0)
    full = r_u + r_v >= 1.0
    starts = np.concatenate([np.where(full, 0.0, 0.0), 1.0 - r_v[~full]])
    ends = np.concatenate([np.where(full, 1.0, r_u), np.ones(int((~full).sum()))])
    which = np.concatenate([edges, edges[~full]])
    keep = ends > starts
    return _piece_coords(network, which[keep], starts[keep], ends[keep])


def _piece_coords(network: WalkNetwork, edges: NDArray[np.int64], f0: NDArray[np.float64],
                  f1: NDArray[np.float64]) -> Pieces:
    xu, yu = network.x_m[network.edge_u[edges]], network.y_m[network.edge_u[edges]]
    dx = network.x_m[network.edge_v[edges]] - xu
    dy = network.y_m[network.edge_v[edges]] - yu
    return xu + f0 * dx, yu + f0 * dy, xu + f1 * dx, yu + f1 * dy


def _own_edge_pieces(network: WalkNetwork, sources: SnapResult, which: NDArray[np.int64],
                     threshold_s: float) -> Pieces:
    """Pieces of the sources' own segments reached directly from their snap points."""
    which = which[sources.routable[which]]
    e = sources.edge[which]
    walk_s = np.maximum(network.edge_walk_s[e], MIN_EDGE_S)
    reach = (threshold_s - sources.access_m[which] / network.speed_m_s) / walk_s
    ok = reach > 0
    f = sources.frac[which][ok]
    return _piece_coords(network, e[ok], np.clip(f - reach[ok], 0, 1), np.clip(f + reach[ok], 0, 1))


def compute_reached_pieces(network: WalkNetwork, node_time_s: NDArray[np.float64],
                           threshold_s: float, sources: SnapResult, which: NDArray[np.int64],
                           edges: NDArray[np.int64] | None = None) -> Pieces:
    """All street pieces within ``threshold_s`` given node times from the sources ``which``.

    ``edges`` restricts the search to candidate segments (default all segments).
    """
    edges = np.arange(network.n_edges) if edges is None else edges
    t_u = node_time_s[network.edge_u[edges]]
    t_v = node_time_s[network.edge_v[edges]]
    hit = ((t_u < threshold_s) | (t_v < threshold_s)) & network.edge_in_main[edges]
    a = _edge_pieces(network, edges[hit], t_u[hit], t_v[hit], threshold_s)
    b = _own_edge_pieces(network, sources, which, threshold_s)
    return tuple(np.concatenate([p, q]) for p, q in zip(a, b, strict=True))  # type: ignore[return-value]


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

    Only the segments touching a source's reached nodes are examined, so the cost grows with
    the catchment, not the city. Returns ``(source position, threshold_s, polygon, reached
    street length in metres)`` tuples.
    """
    out = []
    reach = reach.tocsr()
    incidence = _incidence(network)
    row = np.full(network.n_nodes, np.inf)
    for j in np.flatnonzero(sources.routable):
        nodes = reach.indices[reach.indptr[j]:reach.indptr[j + 1]]
        row[nodes] = reach.data[reach.indptr[j]:reach.indptr[j + 1]]
        edges = np.unique(incidence[nodes].indices)
        for t_s in thresholds_s:
            pieces = compute_reached_pieces(network, row, t_s, sources, np.array([j]), edges)
            length_m = float(np.hypot(pieces[2] - pieces[0], pieces[3] - pieces[1]).sum())
            out.append((int(j), t_s, rasterize_pieces(pieces, params.buffer_m, params.cell_m),
                        length_m))
        row[nodes] = np.inf
    return out


def rasterize_pieces(pieces: Pieces, buffer_m: float, cell_m: float) -> shapely.Geometry:
    """Union of the pieces buffered by ``buffer_m``, built on a raster of ``cell_m`` (see Notes)."""
    x0, y0, x1, y1 = pieces
    if x0.size == 0:
        return shapely.MultiPolygon()
    cell = cell_m
    length = np.hypot(x1 - x0, y1 - y0)
    n = np.maximum(2, np.ceil(length / (cell / 2)).astype(np.int64) + 1)
    seg = np.repeat(np.arange(x0.size), n)
    t = (np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)) / np.repeat(n - 1, n)
    px = x0[seg] + t * (x1 - x0)[seg]
    py = y0[seg] + t * (y1 - y0)[seg]
    pad = buffer_m + 2 * cell
    minx, maxy = px.min() - pad, py.max() + pad
    cols = int(np.ceil((px.max() + pad - minx) / cell))
    rows = int(np.ceil((maxy - (py.min() - pad)) / cell))
    grid = np.zeros((rows, cols), dtype=bool)
    grid[((maxy - py) / cell).astype(np.int64), ((px - minx) / cell).astype(np.int64)] = True
    radius_m = max(buffer_m - cell / 4, 0.0)  # whole cells are drawn: offset the bias
    r = int(np.ceil(radius_m / cell))
    yy, xx = np.mgrid[-r:r + 1, -r:r + 1]
    grid = ndimage.binary_dilation(grid, structure=(xx**2 + yy**2) * cell**2 <= radius_m**2)
    transform = Affine(cell, 0, minx, 0, -cell, maxy)
    polys = [
        shapely.geometry.shape(geom)
        for geom, _ in rasterio.features.shapes(grid.astype(np.uint8), mask=grid, transform=transform)
    ]
    return shapely.simplify(shapely.MultiPolygon(polys), cell / 2)
