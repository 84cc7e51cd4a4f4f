"""What a what-if keeps of an analysis, and what applying a scenario returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from planner.coverage.patch import UNIT_COLUMNS, CoverageRows, PatchIndex
from planner.coverage.tables import index_demand
from planner.errors import InputDataError
from planner.network.graph import WalkNetwork
from planner.network.snap import SnapResult
from planner.params import PlanParams
from planner.routing.nearest_update import NodeGrid
from planner.routing.travel import NearestTimes
from planner.whatif.table import FacilityTable


@dataclass(frozen=True, slots=True)
class WhatIfState:
    """What a what-if needs of an analysis.

    In the network CRS; the ``nearest`` sources are positions in the facility table.
    """

    network: WalkNetwork
    params: PlanParams
    table: FacilityTable
    fsnap: SnapResult
    demand: pd.DataFrame
    dsnap: SnapResult
    units: pd.DataFrame
    nearest: dict[str, NearestTimes]
    point_times: dict[str, tuple[NDArray[np.float64], NDArray[np.object_]]]
    coverage_by_type: dict[str, CoverageRows]
    index: PatchIndex
    grid: NodeGrid
    unit_columns: dict[str, NDArray[Any]]

    @property
    def facilities(self) -> gpd.GeoDataFrame:
        """The facilities after the scenarios applied so far (network CRS)."""
        return self.table.frame()

    @property
    def demand_times(self) -> pd.DataFrame:
        """Long table ``demand_id, facility_type, time_s, facility_id`` (as ``run_plan``'s)."""
        ids = self.demand["demand_id"].to_numpy()
        return pd.concat([pd.DataFrame({"demand_id": ids, "facility_type": ftype, "time_s": t,
                                        "facility_id": f})
                          for ftype, (t, f) in self.point_times.items()], ignore_index=True)

    @property
    def coverage(self) -> pd.DataFrame:
        """Coverage per unit and type (as ``run_plan``'s)."""
        return pd.concat([c.frame() for c in self.coverage_by_type.values()], ignore_index=True)


@dataclass(frozen=True, slots=True)
class WhatIfResult:
    """A scenario applied: the new state, per-unit change and how many nodes were searched."""

    name: str
    state: WhatIfState
    change: pd.DataFrame
    searched_nodes: int


def state_from_result(result: object) -> WhatIfState:
    """The what-if state of a :class:`planner.pipeline.PlanResult`."""
    r: Any = result  # a PlanResult, read by attribute
    if r.facility_snap is None or r.demand_snap is None:
        raise InputDataError("the PlanResult has no snap results; rerun run_plan to get them")
    demand = pd.DataFrame(r.demand.drop(columns="geometry"))
    units = pd.DataFrame(r.units.drop(columns="geometry"))
    groups = list(r.demand_times.groupby("facility_type", sort=False))
    ids = demand["demand_id"].to_numpy()
    if any(len(g) != len(demand) or not np.array_equal(g["demand_id"].to_numpy(), ids)
           for _, g in groups):
        raise InputDataError("the PlanResult's demand times do not follow its demand points")
    times = {str(t): (g["time_s"].to_numpy(dtype=float), g["facility_id"].to_numpy(dtype=object))
             for t, g in groups}
    by_type = {str(t): CoverageRows.from_frame(g.reset_index(drop=True))
               for t, g in r.coverage.groupby("facility_type", sort=False)}
    index = PatchIndex.build(r.network, r.demand_snap, index_demand(demand, units))
    return WhatIfState(r.network, r.params, FacilityTable.from_frame(r.facilities),
                       r.facility_snap, demand, r.demand_snap, units, dict(r.nearest), times,
                       by_type, index, NodeGrid(r.network),
                       {c: units[c].to_numpy() for c in UNIT_COLUMNS})
