"""Supply-demand ratio per unit and facility type (E2SFCA on network walking times)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from planner.coverage.access import StepDecay, compute_e2sfca, compute_unit_access
from planner.network.graph import WalkNetwork
from planner.network.snap import SnapResult
from planner.params import AccessParams
from planner.routing.cover_times import compute_cover_times
from planner.schema import CAPACITY, FACILITY_TYPE, OLDER_POP, UNIT_ID

ACCESS_COLUMNS = ("unit_id", "facility_type", "older_pop", "e2sfca_ratio",
                  "facilities_with_capacity", "facilities_without_capacity")


def compute_supply_demand(network: WalkNetwork, facilities: gpd.GeoDataFrame,
                          facility_snap: SnapResult, demand: pd.DataFrame,
                          demand_snap: SnapResult, params: AccessParams) -> pd.DataFrame:
    """E2SFCA ratio (capacity per older adult, decay-weighted) per unit for types with capacity.

    Notes
    -----
    Step 1: each facility j gets R_j = S_j / sum_k W(t_kj) P_k over demand points k within the
    catchment (S_j capacity, P_k older adults, W the zone weight of walking time t_kj). Step 2:
    each demand point i gets A_i = sum_j W(t_ij) R_j; a unit's ratio is the older-adult-weighted
    mean of A_i (Luo and Qi 2009). Times are exact network walking times (seconds); facilities
    without a capacity are left out and counted. A ratio of 1.0 means one place per older adult.

    Returns
    -------
    pandas.DataFrame
        :data:`ACCESS_COLUMNS`, one row per unit and facility type that has any capacity.
    """
    decay = StepDecay.from_minutes(params.zone_upper_min, params.zone_weights)
    units = pd.Index(pd.unique(demand[UNIT_ID]))
    unit_of_demand = units.get_indexer(demand[UNIT_ID])
    pop = demand[OLDER_POP].to_numpy(dtype=float)
    frames = []
    for ftype, group in facilities.groupby(FACILITY_TYPE, sort=True):
        cap = group[CAPACITY].to_numpy(dtype=float)
        has = np.isfinite(cap) & (cap > 0)
        if not has.any():
            continue
        idx = group.index.to_numpy()[has]
        sites = facility_snap.take(idx)
        times = compute_cover_times(network, sites, demand_snap, decay.catchment_s)
        access = compute_e2sfca(times, cap[has], pop, decay=decay)
        uidx, mean = compute_unit_access(access, pop, unit_of_demand)
        unit_pop = np.bincount(unit_of_demand, weights=pop, minlength=units.size)
        frames.append(pd.DataFrame({
            "unit_id": units[uidx], "facility_type": str(ftype), "older_pop": unit_pop[uidx],
            "e2sfca_ratio": mean, "facilities_with_capacity": int(has.sum()),
            "facilities_without_capacity": int((~has).sum())}))
    if not frames:
        return pd.DataFrame(columns=list(ACCESS_COLUMNS))
    return pd.concat(frames, ignore_index=True)[list(ACCESS_COLUMNS)]
