"""Nearest walking times per facility type, per node and per demand point (the travel step of
:func:`planner.pipeline.run_plan`), the types split between this process and a forked child on
large networks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np

from planner.network.graph import WalkNetwork
from planner.network.snap import SnapResult
from planner.params import FACILITY_TYPES
from planner.routing.forkpool import fork_split
from planner.routing.travel import (
    NearestTimes,
    PointLegs,
    compute_nearest_times,
    compute_point_times,
    point_legs,
)
from planner.schema import FACILITY_TYPE

#: Networks from this many nodes search half the facility types in a forked child (workers >= 2).
FORK_TRAVEL_NODES = 200_000


def type_times_at(network: WalkNetwork, facilities: gpd.GeoDataFrame, fsnap: SnapResult,
                  dsnap: SnapResult, ftype: str, horizon_s: float | None = None,
                  legs: PointLegs | None = None) -> tuple[NearestTimes, np.ndarray, np.ndarray]:
    """Nearest times per node and per demand point for one facility type, with each point's
    nearest facility as a row position of ``facilities`` (-1 none).

    Point times beyond ``horizon_s`` (when given) become ``inf`` with no facility; ``legs``
    are the demand points' :func:`planner.routing.travel.point_legs` when already computed.
    """
    mask = (facilities[FACILITY_TYPE] == ftype).to_numpy()
    sub = fsnap.take(mask)
    nearest = compute_nearest_times(network, sub)
    t_s, src = compute_point_times(network, nearest, dsnap, sub, legs)
    if horizon_s is not None:
        beyond = t_s > horizon_s
        t_s = np.where(beyond, np.inf, t_s)
        src = np.where(beyond, -1, src)
    positions = np.flatnonzero(mask)  # positions of this type's facilities in ``facilities``
    pos = np.full(src.shape, -1, dtype=np.int64)
    pos[src >= 0] = positions[src[src >= 0]]
    node_src = np.full_like(nearest.node_source, -1)
    reached = nearest.node_source >= 0
    node_src[reached] = positions[nearest.node_source[reached]]
    return NearestTimes(nearest.node_time_s, node_src), t_s, pos


def _travel_types(state: Mapping[str, Any], types: list[str]
                  ) -> list[tuple[NearestTimes, np.ndarray, np.ndarray]]:
    """:func:`type_times_at` for some types (run in this process or a forked child)."""
    return [type_times_at(state["network"], state["fac"], state["fsnap"], state["dsnap"], t,
                          state["horizon_s"], state["legs"]) for t in types]


def all_type_times(network: WalkNetwork, fac: gpd.GeoDataFrame, fsnap: SnapResult,
                   dsnap: SnapResult, horizon_s: float | None, workers: int
                   ) -> tuple[dict[str, NearestTimes], dict[str, tuple[np.ndarray, np.ndarray]]]:
    """Nearest times per node and per demand point for every type; on a network of at least
    :data:`FORK_TRAVEL_NODES` nodes and with ``workers`` >= 2, half the types are searched in
    a forked child meanwhile (each search is one single-threaded scipy Dijkstra)."""
    types = list(FACILITY_TYPES)
    parts = ([types[0::2], types[1::2]] if workers >= 2 and network.n_nodes >= FORK_TRAVEL_NODES
             else [types])
    state = {"network": network, "fac": fac, "fsnap": fsnap, "dsnap": dsnap,
             "horizon_s": horizon_s, "legs": point_legs(network, dsnap)}
    done = dict(zip([t for p in parts for t in p],
                    [r for rs in fork_split(_travel_types, parts, state) for r in rs], strict=True))
    return ({t: done[t][0] for t in types}, {t: (done[t][1], done[t][2]) for t in types})
