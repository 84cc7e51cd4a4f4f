"""Attach points to the nearest walkable edge within max_snap_m; report the unsnapped."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray

from planner.network.graph import WalkNetwork

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
    """Spatial index over the network's segments (build once, snap many times)."""

    def __init__(self, network: WalkNetwork) -> None:
        self.network = network
        self.lines = build_edge_lines(network)
        self.tree = shapely.STRtree(self.lines)

    def snap(self, x_m: NDArray[np.float64], y_m: NDArray[np.float64], max_snap_m: float) -> SnapResult:
        """Snap projected points (metres, network CRS) to their nearest segment.

        Ties between equally near segments go to the lowest segment index, so results do not
        depend on input order.
        """
        n = int(np.asarray(x_m).shape[0])
        edge = np.full(n, -1, dtype=np.int64)
        frac = np.zeros(n)
        access = np.full(n, np.nan)
        status = np.full(n, NOT_SNAPPED, dtype="<U12")
        if n == 0:
            return SnapResult(edge, frac, access, status)
        points = shapely.points(x_m, y_m)
        (pi, ei), dist = self.tree.query_nearest(
            points, max_distance=max_snap_m, return_distance=True, all_matches=True
        )
        order = np.lexsort((ei, pi))
        pi, ei, dist = pi[order], ei[order], dist[order]
        first = np.ones(pi.shape[0], dtype=bool)
        first[1:] = pi[1:] != pi[:-1]
        pi, ei, dist = pi[first], ei[first], dist[first]
        edge[pi] = ei
        access[pi] = dist
        frac[pi] = shapely.line_locate_point(self.lines[ei], points[pi], normalized=True)
        frac = np.nan_to_num(frac, nan=0.0)
        on_main = self.network.edge_in_main[ei]
        status[pi] = np.where(on_main, SNAPPED, DISCONNECTED)
        logger.debug("snapped %d/%d points; %d disconnected", (status == SNAPPED).sum(), n,
                     (status == DISCONNECTED).sum())
        return SnapResult(edge, frac, access, status)
