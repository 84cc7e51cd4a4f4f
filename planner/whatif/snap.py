"""Snap the few facilities a scenario adds or moves, exactly as the full analysis would."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from planner.network.graph import WalkNetwork
from planner.network.snap import DISCONNECTED, NOT_SNAPPED, SNAPPED, SnapResult
from planner.network.snap_grid import nearest_segment_of_one, segment_fraction
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
               grid: NodeGrid) -> SnapResult:
    """Snap results of ``table``: old facilities keep theirs, ``fresh`` ones are snapped here."""
    n = len(table)
    kept = np.flatnonzero(new_pos >= 0)
    edge, frac = np.full(n, -1, dtype=np.int64), np.zeros(n)
    access, status = np.full(n, np.nan), np.full(n, NOT_SNAPPED, dtype="<U12")
    tgt = new_pos[kept]
    edge[tgt], frac[tgt] = old.edge[kept], old.frac[kept]
    access[tgt], status[tgt] = old.access_m[kept], old.status[kept]
    for j in np.flatnonzero(fresh):
        s = snap_local(network, float(table.x_m[j]), float(table.y_m[j]), max_snap_m, grid)
        edge[j], frac[j], access[j], status[j] = s.edge[0], s.frac[0], s.access_m[0], s.status[0]
    return SnapResult(edge, frac, access, status)
