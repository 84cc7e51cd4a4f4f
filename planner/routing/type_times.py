"""Nearest walking times per facility type, per node and per demand point (the travel step of
:func:`planner.pipeline.run_plan`).

On a large network with two workers allowed, :func:`start_types` hands four of the six facility
types' node searches to a forked child as soon as the facilities are snapped; it works while
this process builds and snaps the demand points and searches the other two, and
:func:`all_type_times` collects its node times. Demand-point times are then taken from the node
times in this process for every type (the same arithmetic either way).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np

from planner.network.graph import WalkNetwork
from planner.network.snap import SnapResult
from planner.params import FACILITY_TYPES
from planner.routing.forkpool import Started
from planner.routing.travel import (
    NearestTimes,
    PointLegs,
    compute_nearest_times,
    compute_point_times,
    point_legs,
)
from planner.schema import FACILITY_TYPE

#: Networks from this many nodes search facility types in a forked child (workers >= 2).
FORK_TRAVEL_NODES = 200_000
#: Types this process searches itself after building the demand; the child takes the others.
OWN_TYPES = 2


def type_nearest(network: WalkNetwork, facilities: gpd.GeoDataFrame, fsnap: SnapResult,
                 ftype: str) -> NearestTimes:
    """Time from every node to its nearest facility of ``ftype`` (positions local to the type)."""
    mask = (facilities[FACILITY_TYPE] == ftype).to_numpy()
    return compute_nearest_times(network, fsnap.take(mask))


def type_points(network: WalkNetwork, facilities: gpd.GeoDataFrame, fsnap: SnapResult,
                dsnap: SnapResult, ftype: str, nearest: NearestTimes, horizon_s: float | None,
                legs: PointLegs | None) -> tuple[NearestTimes, np.ndarray, np.ndarray]:
    """Demand-point times from one type's node times, and node and point facilities as row
    positions of ``facilities`` (-1 none)."""
    mask = (facilities[FACILITY_TYPE] == ftype).to_numpy()
    t_s, src = compute_point_times(network, nearest, dsnap, fsnap.take(mask), legs)
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


def type_times_at(network: WalkNetwork, facilities: gpd.GeoDataFrame, fsnap: SnapResult,
                  dsnap: SnapResult, ftype: str, horizon_s: float | None = None,
                  legs: PointLegs | None = None) -> tuple[NearestTimes, np.ndarray, np.ndarray]:
    """Nearest times per node and per demand point for one facility type, with each point's
    nearest facility as a row position of ``facilities`` (-1 none).

    Point times beyond ``horizon_s`` (when given) become ``inf`` with no facility; ``legs``
    are the demand points' :func:`planner.routing.travel.point_legs` when already computed.
    """
    nearest = type_nearest(network, facilities, fsnap, ftype)
    return type_points(network, facilities, fsnap, dsnap, ftype, nearest, horizon_s, legs)


@dataclass
class EarlyTypes:
    """Types whose node searches run in a forked child (none when ``started`` is None)."""

    types: list[str]
    started: Started[list[NearestTimes]] | None = None

    def cancel(self) -> None:
        """End the child if its result was not collected (safe to call always)."""
        if self.started is not None:
            self.started.cancel()


def _child_types(state: Mapping[str, Any], types: list[str]) -> list[NearestTimes]:
    return [type_nearest(state["network"], state["fac"], state["fsnap"], t) for t in types]


def start_types(network: WalkNetwork, fac: gpd.GeoDataFrame, fsnap: SnapResult,
                workers: int) -> EarlyTypes:
    """Start the node searches of all types but the first :data:`OWN_TYPES` in a forked child
    on a network of at least :data:`FORK_TRAVEL_NODES` nodes when ``workers`` >= 2 (else
    nothing is started). This process builds and snaps the demand points meanwhile (on the
    1M-node district about as long as three searches), then searches its own types."""
    if workers < 2 or network.n_nodes < FORK_TRAVEL_NODES:
        return EarlyTypes([])
    theirs = list(FACILITY_TYPES)[OWN_TYPES:]
    state = {"network": network, "fac": fac, "fsnap": fsnap}
    return EarlyTypes(theirs, Started(_child_types, theirs, state))


def all_type_times(network: WalkNetwork, fac: gpd.GeoDataFrame, fsnap: SnapResult,
                   dsnap: SnapResult, horizon_s: float | None, early: EarlyTypes | None = None
                   ) -> tuple[dict[str, NearestTimes], dict[str, tuple[np.ndarray, np.ndarray]]]:
    """Nearest times per node and per demand point for every type: the node searches of
    ``early.types`` collected from the child :func:`start_types` began, the others run here."""
    early = early or EarlyTypes([])
    near = {t: type_nearest(network, fac, fsnap, t) for t in FACILITY_TYPES
            if t not in early.types}
    if early.started is not None:
        near.update(zip(early.types, early.started.result(), strict=True))
    legs = point_legs(network, dsnap)
    done = {t: type_points(network, fac, fsnap, dsnap, t, near[t], horizon_s, legs)
            for t in FACILITY_TYPES}
    return ({t: done[t][0] for t in FACILITY_TYPES},
            {t: (done[t][1], done[t][2]) for t in FACILITY_TYPES})
