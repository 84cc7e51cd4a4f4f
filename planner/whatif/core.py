"""What a what-if derives once per analysis so that a scenario does no setup work.

:class:`WhatIfCore` holds the network's arcs for the small-region searches
(:class:`planner.routing.local_search.Adjacency`), a segment grid for snapping one point, each
demand point's walk from its segment's end nodes, and each unit's threshold per facility type.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from planner.network.graph import WalkNetwork
from planner.network.snap import SnapResult
from planner.network.snap_grid import FIRST_CELL_M, SegmentGrid
from planner.params import PlanParams
from planner.routing.local_search import Adjacency
from planner.routing.nearest_update import NodeGrid
from planner.schema import SETTLEMENT

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class PointWalk:
    """Per demand point (columns): ``ints`` rows its segment and end nodes (-1 unroutable);
    ``floats`` rows the walk from each end to the point, the access leg (seconds; ``inf`` for
    unroutable points) and its fraction along the segment."""

    ints: I64
    floats: F64

    @classmethod
    def build(cls, network: WalkNetwork, points: SnapResult) -> PointWalk:
        """The walks of ``points`` (as :func:`planner.routing.travel.point_legs`, all points)."""
        p = points.edge.size
        ok = np.flatnonzero(points.routable)
        e = points.edge[ok]
        g = points.frac[ok]
        ints = np.full((3, p), -1, dtype=np.int64)
        floats = np.full((4, p), np.inf)
        ints[:, ok] = e, network.edge_u[e], network.edge_v[e]
        floats[0, ok] = network.time_along_s(e, g, np.zeros_like(g))
        floats[1, ok] = network.time_along_s(e, g, np.ones_like(g))
        floats[2, ok] = points.access_m[ok] / network.speed_m_s
        floats[3] = points.frac
        return cls(ints, floats)


def segment_times(network: WalkNetwork) -> F64:
    """The segments' walking times as rows: walk_s, then uv_s and vu_s on a network with
    terrain (direction-dependent times)."""
    rows = [network.edge_walk_s]
    if network.edge_uv_s is not None and network.edge_vu_s is not None:
        rows += [network.edge_uv_s, network.edge_vu_s]
    return np.vstack(rows)


@dataclass(frozen=True, slots=True, eq=False)
class WhatIfCore:
    """Per-analysis structures of the what-if hot path (built once, read-only); ``limit_s`` is
    the largest threshold (the first bound of the compiled add search, a fallback);
    ``segment_s`` the segments' walking times (rows walk_s, or walk_s, uv_s, vu_s with
    terrain)."""

    adjacency: Adjacency
    coords: tuple[F64, F64, F64, F64]
    walk: PointWalk
    threshold_s: dict[str, F64]
    limit_s: float
    network: WalkNetwork
    snap_cell_m: float
    segment_s: F64
    _cache: dict[str, Any] = field(default_factory=dict)

    def node_grid(self) -> NodeGrid:
        """The node grid of the compiled add search (built when a search first falls back)."""
        if "grid" not in self._cache:
            self._cache["grid"] = NodeGrid(self.network)
        got: NodeGrid = self._cache["grid"]
        return got

    def segments(self) -> SegmentGrid | None:
        """The segment grid that snaps added or moved sites (built at the first one; None
        for a network without segments)."""
        if "segments" not in self._cache:
            self._cache["segments"] = (SegmentGrid(*self.coords, self.snap_cell_m)
                                       if self.network.n_edges else None)
        got: SegmentGrid | None = self._cache["segments"]
        return got

    @classmethod
    def build(cls, network: WalkNetwork, params: PlanParams, dsnap: SnapResult,
              units: pd.DataFrame | dict[str, Any], types: list[str]) -> WhatIfCore:
        """The structures of one analysis (``units`` in unit order, with ``settlement``)."""
        g = network.graph
        coords = (network.x_m[network.edge_u], network.y_m[network.edge_u],
                  network.x_m[network.edge_v], network.y_m[network.edge_v])
        settlement = np.asarray(units[SETTLEMENT])
        which, kinds = pd.factorize(settlement, use_na_sentinel=False)
        thr = {t: np.array([params.coverage.threshold_min(t, k) for k in kinds],
                           dtype=float)[which] * 60.0 if settlement.size else np.zeros(0)
               for t in types}
        return cls(Adjacency.of_csr(g.indptr, g.indices, g.data), coords,
                   PointWalk.build(network, dsnap), thr, params.coverage.max_threshold_min * 60.0,
                   network, min(FIRST_CELL_M, float(params.snap.max_snap_m)),
                   segment_times(network))
