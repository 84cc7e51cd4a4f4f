"""Snap the few facilities a scenario adds or moves, exactly as the full analysis would."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from planner.network.graph import WalkNetwork
from planner.network.snap import DISCONNECTED, NOT_SNAPPED, SNAPPED, SnapResult
from planner.network.snap_grid import (
    TIE_M,
    SegmentGrid,
    nearest_segment_of_one,
    segment_fraction,
)
from planner.routing.nearest_update import NodeGrid
from planner.whatif.table import FacilityTable


def snap_local(network: WalkNetwork, x_m: float, y_m: float, max_snap_m: float,
               grid: NodeGrid | None = None) -> SnapResult:
    """Snap one projected point exactly like :class:`planner.network.snap.EdgeIndex`, looking
    only at the segments near it (found on ``grid``)."""
    edges = (grid.edges_within(x_m, y_m, max_snap_m) if grid is not None
             else np.arange(network.n_edges))
    none = SnapResult(np.array([-1]), np.zeros(1), np.array([np.nan]), np.array([NOT_SNAPPED]))
    if edges.size == 0:
        return none
    coords = (network.x_m[network.edge_u[edges]], network.y_m[network.edge_u[edges]],
              network.x_m[network.edge_v[edges]], network.y_m[network.edge_v[edges]])
    local, dist_m = nearest_segment_of_one(x_m, y_m, coords, max_snap_m)
    if local < 0:
        return none
    edge = int(edges[local])
    frac = segment_fraction(np.array([x_m]), np.array([y_m]), *(c[[local]] for c in coords))
    status = SNAPPED if network.edge_in_main[edge] else DISCONNECTED
    return SnapResult(np.array([edge]), frac, np.array([dist_m]), np.array([status], dtype="<U12"))


def snap_table(network: WalkNetwork, old: SnapResult, table: FacilityTable,
               new_pos: NDArray[np.int64], fresh: NDArray[np.bool_], max_snap_m: float,
               grid: Callable[[], SegmentGrid | None],
               coords: tuple[NDArray[np.float64], ...]) -> SnapResult:
    """Snap results of ``table``: old facilities keep theirs, ``fresh`` ones are snapped here
    (:func:`snap_point` on the segment grid of ``coords`` that ``grid`` gives)."""
    kept = new_pos >= 0
    n_add = len(table) - int(kept.sum())
    edge = np.concatenate([old.edge[kept], np.full(n_add, -1, dtype=np.int64)])
    frac = np.concatenate([old.frac[kept], np.zeros(n_add)])
    access = np.concatenate([old.access_m[kept], np.full(n_add, np.nan)])
    wide = np.result_type(old.status.dtype, "<U12")
    status = np.concatenate([old.status[kept], np.full(n_add, NOT_SNAPPED, dtype=wide)])
    for j in np.flatnonzero(fresh).tolist():
        edge[j], frac[j], access[j], status[j] = snap_point(
            network, grid(), coords, float(table.x_m[j]), float(table.y_m[j]), max_snap_m)
    return SnapResult(edge, frac, access, status)

def _grid_entries(grid: SegmentGrid, x_m: float, y_m: float, reach_m: float) -> NDArray[np.int64]:
    """Grid entries of the cells the square of half-side ``reach_m`` around (x, y) touches."""
    lo_x = max(int(np.floor((x_m - reach_m - grid.x0) / grid.cell_m)), 0)
    hi_x = min(int(np.floor((x_m + reach_m - grid.x0) / grid.cell_m)), grid.nx - 1)
    lo_y = max(int(np.floor((y_m - reach_m - grid.y0) / grid.cell_m)), 0)
    hi_y = min(int(np.floor((y_m + reach_m - grid.y0) / grid.cell_m)), grid.ny - 1)
    if lo_x > hi_x or lo_y > hi_y:
        return np.zeros(0, dtype=np.int64)
    start = grid.start
    spans = [(int(start[r + lo_x]), int(start[r + hi_x + 1]))
             for r in range(lo_y * grid.nx, hi_y * grid.nx + 1, grid.nx)]
    return np.concatenate([np.arange(a, b) for a, b in spans])


def segment_distance_one(px: float, py: float, ax: float, ay: float, bx: float,
                         by: float) -> float:
    """:func:`~planner.network.snap_grid.segment_distance` of one point and segment in Python
    floats (the same operations, so the same bits)."""
    dx, dy = bx - ax, by - ay
    len2 = dx * dx + dy * dy
    to_a = math.sqrt((px - ax) * (px - ax) + (py - ay) * (py - ay))
    if len2 == 0:
        return to_a
    r = ((px - ax) * dx + (py - ay) * dy) / len2
    if r <= 0:
        return to_a
    if r >= 1:
        return math.sqrt((px - bx) * (px - bx) + (py - by) * (py - by))
    return abs(((ay - py) * dx - (ax - px) * dy) / len2) * math.sqrt(len2)


def segment_fraction_one(px: float, py: float, ax: float, ay: float, bx: float,
                         by: float) -> float:
    """:func:`~planner.network.snap_grid.segment_fraction` of one point and segment in Python
    floats (0 for a segment of zero length)."""
    dx, dy = bx - ax, by - ay
    len2 = dx * dx + dy * dy
    if len2 == 0:
        return 0.0
    length = math.sqrt(len2)
    if px == ax and py == ay:
        r = 0.0
    elif px == bx and py == by:
        r = 1.0
    else:
        r = ((px - ax) * dx + (py - ay) * dy) / len2
    along = 0.0 if r <= 0 else (r * length if r <= 1 else length)
    return along / length


def snap_point(network: WalkNetwork, grid: SegmentGrid | None,
               coords: tuple[NDArray[np.float64], ...], x_m: float, y_m: float,
               max_snap_m: float) -> tuple[int, float, float, str]:
    """Snap one projected point exactly like :class:`planner.network.snap.EdgeIndex` (nearest
    segment within ``max_snap_m``, lowest index on ties): edge, fraction, access (m), status.

    The nearest segment registered in the 3 x 3 cells of ``grid`` around the point bounds the
    distance; when that bound is within a cell width those cells hold every nearer segment,
    else the cells within the bound are read. They are screened with the grid's
    cheap squared distance; those within twice
    :data:`~planner.network.snap_grid.TIE_M` of the screened nearest are measured with
    GEOS's formula, and near ties (within ``TIE_M``, not equal) are decided by GEOS itself."""
    none = (-1, 0.0, float("nan"), NOT_SNAPPED)
    if grid is None:
        return none
    px, py = np.array([x_m]), np.array([y_m])
    entries = _grid_entries(grid, x_m, y_m, grid.cell_m)  # its cell and the 8 around it
    d2 = grid.sq_distance(entries, px, py)
    bound = math.sqrt(float(d2.min())) if entries.size else math.inf
    if not bound + TIE_M <= grid.cell_m:  # the nearest may lie beyond the 3 x 3 block
        entries = _grid_entries(grid, x_m, y_m, min(bound, max_snap_m) + TIE_M)
        if entries.size == 0:
            return none
        d2 = grid.sq_distance(entries, px, py)
    reach = math.sqrt(float(d2.min())) + 2 * TIE_M
    edges = np.unique(grid.seg[entries[d2 <= reach * reach]]).tolist()
    ends = [tuple(float(c[e]) for c in coords) for e in edges]
    dist = [segment_distance_one(x_m, y_m, *xy) for xy in ends]
    dmin = min(dist)
    if not dmin <= max_snap_m:
        return none
    local = dist.index(dmin)  # edges ascending: the lowest index at exactly dmin
    if any(dmin < d <= dmin + TIE_M for d in dist):
        cand = tuple(np.array([xy[i] for xy in ends]) for i in range(4))
        local, dmin = nearest_segment_of_one(x_m, y_m, cand, max_snap_m)  # type: ignore[arg-type]
        if local < 0:
            return none
    edge = edges[local]
    status = SNAPPED if network.edge_in_main[edge] else DISCONNECTED
    return edge, segment_fraction_one(x_m, y_m, *ends[local]), dmin, status
