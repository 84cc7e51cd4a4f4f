"""Attach points to the nearest walkable edge within max_snap_m; report the unsnapped."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray

from planner.network.graph import WalkNetwork
from planner.network.snap_grid import SegmentGrid, nearest_segments, segment_fraction

logger = logging.getLogger(__name__)

SNAPPED = "ok"
NOT_SNAPPED = "not_snapped"
DISCONNECTED = "disconnected"


@dataclass(frozen=True, slots=True)
class SnapResult:
    """Where each point meets the network.

    Attributes
    ----------
    edge
        Segment index per point (-1 when not snapped), shape (p,).
    frac
        Position along the segment from ``edge_u`` (0) to ``edge_v`` (1).
    access_m
        Straight-line access leg from the point to the segment, metres (NaN when not snapped).
    status
        ``ok``; ``not_snapped`` (farther than ``max_snap_m`` from every segment); or
        ``disconnected`` (nearest segment is on a part of the network cut off from the main part).
    """

    edge: NDArray[np.int64]
    frac: NDArray[np.float64]
    access_m: NDArray[np.float64]
    status: NDArray[np.str_]

    @property
    def routable(self) -> NDArray[np.bool_]:
        """True for points snapped onto the main (routing) part."""
        routable: NDArray[np.bool_] = self.status == SNAPPED  # numpy types array == as Any
        return routable

    def take(self, which: NDArray[np.int64] | NDArray[np.bool_]) -> SnapResult:
        """The points selected by ``which`` (positions or a mask), in that order."""
        return SnapResult(self.edge[which], self.frac[which], self.access_m[which],
                          self.status[which])


def build_edge_lines(network: WalkNetwork) -> NDArray[np.object_]:
    """Projected LineString per segment (straight, from ``edge_u`` to ``edge_v``)."""
    coords = np.empty((network.n_edges * 2, 2))
    coords[0::2, 0] = network.x_m[network.edge_u]
    coords[0::2, 1] = network.y_m[network.edge_u]
    coords[1::2, 0] = network.x_m[network.edge_v]
    coords[1::2, 1] = network.y_m[network.edge_v]
    lines: NDArray[np.object_] = shapely.linestrings(
        coords, indices=np.repeat(np.arange(network.n_edges), 2))
    return lines


class EdgeIndex:
    """Grid index over the network's segments (build once, snap many times).

    The search is exact and vectorised (:mod:`planner.network.snap_grid`); it returns what a
    GEOS STRtree nearest query with ``line_locate_point`` returns, ties to the lowest index.
    """

    def __init__(self, network: WalkNetwork) -> None:
        self.network = network
        self.coords = (network.x_m[network.edge_u], network.y_m[network.edge_u],
                       network.x_m[network.edge_v], network.y_m[network.edge_v])
        self._grids: dict[float, SegmentGrid] = {}

    def snap(self, x_m: NDArray[np.float64], y_m: NDArray[np.float64],
             max_snap_m: float) -> SnapResult:
        """Snap projected points (metres, network CRS) to their nearest segment.

        Ties between equally near segments go to the lowest segment index, so results do not
        depend on input order.
        """
        x = np.asarray(x_m, dtype=np.float64)
        y = np.asarray(y_m, dtype=np.float64)
        n = int(x.shape[0])
        frac = np.zeros(n)
        status = np.full(n, NOT_SNAPPED, dtype="<U12")
        if n == 0 or self.network.n_edges == 0:
            return SnapResult(np.full(n, -1, dtype=np.int64), frac, np.full(n, np.nan), status)
        edge, access = np.full(n, -1, dtype=np.int64), np.full(n, np.nan)
        ok = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
        edge[ok], access[ok] = nearest_segments(x[ok], y[ok], self.coords, max_snap_m, self._grids)
        pi = np.flatnonzero(edge >= 0)
        ei = edge[pi]
        frac[pi] = segment_fraction(x[pi], y[pi], *(c[ei] for c in self.coords))
        status[pi] = np.where(self.network.edge_in_main[ei], SNAPPED, DISCONNECTED)
        logger.debug("snapped %d/%d points; %d disconnected", (status == SNAPPED).sum(), n,
                     (status == DISCONNECTED).sum())
        return SnapResult(edge, frac, access, status)
