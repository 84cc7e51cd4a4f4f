"""What a what-if keeps of an analysis, and what applying a scenario returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from planner.coverage.patch import CoverageRows, PatchIndex
from planner.coverage.tables import index_demand
from planner.errors import InputDataError
from planner.network.graph import WalkNetwork
from planner.network.snap import SnapResult
from planner.params import PlanParams
from planner.routing.travel import NearestTimes
from planner.whatif.core import WhatIfCore
from planner.whatif.table import FacilityTable


@dataclass(frozen=True, slots=True, eq=False)
class WhatIfState:
    """What a what-if needs of an analysis.

    In the network CRS. Nearest facilities are facility keys (``table.keys``; a key stays with
    its facility when others are removed, ``table.key_ids[key]`` is its id; -1 none): the
    ``nearest`` sources per node and ``point_keys`` per demand point, per type;
    ``point_time_s`` are the demand points' times per type.
    """

    network: WalkNetwork
    params: PlanParams
    table: FacilityTable
    fsnap: SnapResult
    demand: pd.DataFrame
    dsnap: SnapResult
    units: pd.DataFrame
    nearest: dict[str, NearestTimes]
    point_time_s: dict[str, NDArray[np.float64]]
    point_keys: dict[str, NDArray[np.int64]]
    coverage_by_type: dict[str, CoverageRows]
    index: PatchIndex
    core: WhatIfCore
    _cache: dict[str, Any] = field(default_factory=dict)

    @property
    def point_times(self) -> dict[str, tuple[NDArray[np.float64], NDArray[np.object_]]]:
        """Per type: each demand point's time and nearest facility id (None for none)."""
        if "point_times" not in self._cache:
            ids = np.concatenate([self.table.key_ids, np.array([None], dtype=object)])
            self._cache["point_times"] = {t: (s, ids[self.point_keys[t]])
                                          for t, s in self.point_time_s.items()}
        got: dict[str, tuple[NDArray[np.float64], NDArray[np.object_]]] = self._cache[
            "point_times"]
        return got

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


@dataclass(frozen=True, slots=True, eq=False)
class WhatIfResult:
    """A scenario applied: the new state, how many nodes were searched and, per type touched,
    the coverage rows before and after (:attr:`change` builds the table when asked for)."""

    name: str
    state: WhatIfState
    searched_nodes: int
    rows: tuple[tuple[CoverageRows, CoverageRows], ...]
    _cache: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def change(self) -> pd.DataFrame:
        """Per unit and type touched: ``covered_pop_before/after``,
        ``covered_share_before/after``, ``delta_pop``, ``delta_share`` (built once)."""
        if "change" not in self._cache:
            parts = [_coverage_change(a, b) for a, b in self.rows]
            if not parts:
                empty = CoverageRows.from_frame(self.state.coverage.iloc[:0])
                parts.append(_coverage_change(empty, empty))
            self._cache["change"] = (pd.concat(parts, ignore_index=True) if len(parts) > 1
                                     else parts[0])
        return self._cache["change"]


def _coverage_change(before: CoverageRows, after: CoverageRows) -> pd.DataFrame:
    """Per unit of one type: covered older adults and share before and after (same rows)."""
    cols = {c: before.columns[c] for c in ("unit_id", "facility_type", "older_pop")}
    for col in ("covered_pop", "covered_share"):
        cols[f"{col}_before"] = before.columns[col]
        cols[f"{col}_after"] = after.columns[col]
    cols["delta_pop"] = cols["covered_pop_after"] - cols["covered_pop_before"]
    cols["delta_share"] = cols["covered_share_after"] - cols["covered_share_before"]
    return pd.DataFrame(cols)


def _keys_of(table: FacilityTable, ids: pd.Series) -> NDArray[np.int64]:
    """Keys of the facility ``ids`` (-1 for none): Arrow's hash lookup for string ids (no
    Python string per row), ids compared as strings otherwise."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        got = pc.index_in(pa.array(ids, from_pandas=True), value_set=pa.array(table.ids))
        return np.asarray(got.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)
    except (pa.ArrowException, TypeError):  # e.g. integer ids
        values = pd.Series(ids.to_numpy(dtype=object), dtype=object)
        found = pd.Index(table.ids).get_indexer(values.astype(str))
        return np.where(values.isna().to_numpy(), -1, found).astype(np.int64)


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
    times = {str(t): g["time_s"].to_numpy(dtype=float) for t, g in groups}
    by_type = {str(t): CoverageRows.from_frame(g.reset_index(drop=True))
               for t, g in r.coverage.groupby("facility_type", sort=False)}
    index = PatchIndex.build(r.network, r.demand_snap, index_demand(demand, units))
    table = FacilityTable.from_frame(r.facilities)
    keys = {str(t): _keys_of(table, g["facility_id"]) for t, g in groups}
    core = WhatIfCore.build(r.network, r.params, r.demand_snap, units, sorted(set(times)
                                                                             | set(r.nearest)))
    return WhatIfState(r.network, r.params, table, r.facility_snap, demand, r.demand_snap, units,
                       dict(r.nearest), times, keys, by_type, index, core)
