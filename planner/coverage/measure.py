"""Demand-level nearest times and covered flags; unit-level covered/uncovered older adults."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from planner.coverage.tables import (
    DemandIndex,
    index_demand,
    nearest_facility,
    weighted_quantiles,
)
from planner.params import CoverageParams
from planner.schema import OLDER_POP, SETTLEMENT, UNIT_ID, UNIT_NAME

COVERAGE_COLUMNS = (
    "unit_id", "unit_name", "facility_type", "threshold_min", "older_pop", "covered_pop",
    "covered_share", "median_time_min", "p90_time_min", "nearest_facility_id",
    "uncovered_out_of_reach_pop", "uncovered_disconnected_pop", "uncovered_not_snapped_pop",
    "settlement",
)


def compute_unit_coverage(
    demand: pd.DataFrame,
    units: pd.DataFrame,
    facility_type: str,
    params: CoverageParams,
    *,
    index: DemandIndex | None = None,
) -> pd.DataFrame:
    """Coverage of one facility type per unit at the unit's own threshold.

    Parameters
    ----------
    demand
        One row per demand point: ``unit_id``, ``older_pop``, ``status`` (snap status),
        ``time_s`` (seconds to the nearest facility of the type, ``inf`` unreachable),
        ``facility_id`` (nearest facility or None).
    units
        ``unit_id``, ``name``, ``settlement``.
    facility_type
        The type the times belong to.
    params
        Thresholds per settlement and type.
    index
        ``demand`` already coded against ``units`` (:func:`planner.coverage.tables.index_demand`),
        to code it once for several types.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COVERAGE_COLUMNS`; times in minutes (NaN when the quantile is unreachable).
    """
    codes, ids = pd.factorize(demand["facility_id"], sort=True)
    return coverage_from_arrays(index or index_demand(demand, units), units, facility_type,
                                params, demand["time_s"].to_numpy(dtype=float),
                                codes.astype(np.int64), np.asarray(ids, dtype=object))


def coverage_from_arrays(index: DemandIndex, units: pd.DataFrame, facility_type: str,
                         params: CoverageParams, time_s: np.ndarray, fac_code: np.ndarray,
                         fac_ids: np.ndarray) -> pd.DataFrame:
    """:func:`compute_unit_coverage` on arrays: times per point, and each point's nearest
    facility as a position in ``fac_ids`` (sorted ids; -1 for none)."""
    return pd.DataFrame(coverage_columns(index, units, facility_type, params, time_s, fac_code,
                                         fac_ids))


def coverage_columns(index: DemandIndex, units: Mapping[str, Any], facility_type: str,
                     params: CoverageParams, time_s: np.ndarray, fac_code: np.ndarray,
                     fac_ids: np.ndarray) -> dict[str, np.ndarray]:
    """:func:`coverage_from_arrays` as numpy columns (:data:`COVERAGE_COLUMNS`, in order).

    ``units`` maps ``unit_id``, ``name``, ``settlement`` and ``older_pop`` to one value per
    unit (a DataFrame or a dict of arrays)."""
    settlement = np.asarray(units[SETTLEMENT])
    which, kinds = pd.factorize(settlement, use_na_sentinel=False)  # once per class
    thr_min = np.array([params.threshold_min(facility_type, k) for k in kinds],
                       dtype=float)[which] if settlement.size else np.zeros(0)
    known = index.unit >= 0
    covered = np.zeros(time_s.size, dtype=bool)
    covered[known] = time_s[known] <= thr_min[index.unit[known]] * 60.0
    pop = index.pop
    other = ~covered & ~index.not_snapped & ~index.disconnected
    names = ("covered_pop", "uncovered_out_of_reach_pop", "uncovered_disconnected_pop",
             "uncovered_not_snapped_pop")
    parts = index.sums(np.column_stack([np.where(m, pop, 0.0) for m in (
        covered, other, index.disconnected, index.not_snapped)]))
    sums = {name: parts[:, j] for j, name in enumerate(names)}
    older = np.asarray(units[OLDER_POP], dtype=float)
    placed = sum(sums.values())
    sums["uncovered_not_snapped_pop"] = sums["uncovered_not_snapped_pop"] + np.clip(
        older - placed, 0.0, None)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(older > 0, sums["covered_pop"] / older, 0.0)
    median, p90 = weighted_quantiles(index, time_s, (0.5, 0.9))
    cols: dict[str, np.ndarray] = {
        "unit_id": np.asarray(units[UNIT_ID]), "unit_name": np.asarray(units[UNIT_NAME]),
        "facility_type": np.full(older.size, facility_type, dtype=object),
        "threshold_min": thr_min, "older_pop": older, "settlement": settlement,
        **sums, "covered_share": np.clip(np.nan_to_num(share, nan=0.0), 0.0, 1.0),
        "median_time_min": np.where(np.isinf(median), np.nan, median / 60.0),
        "p90_time_min": np.where(np.isinf(p90), np.nan, p90 / 60.0),
        "nearest_facility_id": nearest_facility(index, fac_code, fac_ids),
    }
    return {c: cols[c] for c in COVERAGE_COLUMNS}


def compute_threshold_coverage(
    demand: pd.DataFrame, units: pd.DataFrame, facility_type: str,
    thresholds_min: tuple[float, ...], *, index: DemandIndex | None = None,
) -> pd.DataFrame:
    """Covered older adults per unit at each catchment threshold (long table).

    Returns columns ``unit_id, facility_type, threshold_min, older_pop, covered_pop, covered_share``.
    """
    return threshold_coverage_from_arrays(index or index_demand(demand, units), units,
                                          facility_type, thresholds_min,
                                          demand["time_s"].to_numpy(dtype=float))


def threshold_coverage_from_arrays(index: DemandIndex, units: pd.DataFrame, facility_type: str,
                                   thresholds_min: tuple[float, ...],
                                   time_s: np.ndarray) -> pd.DataFrame:
    """:func:`compute_threshold_coverage` on the coded demand and its times per point."""
    pop = units[OLDER_POP].to_numpy(dtype=float)
    frames = []
    parts = index.sums(np.column_stack([np.where(time_s <= t_min * 60.0, index.pop, 0.0)
                                        for t_min in thresholds_min]))
    for j, t_min in enumerate(thresholds_min):
        s = parts[:, j]
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(pop > 0, s / pop, 0.0)
        frames.append(pd.DataFrame({
            "unit_id": units[UNIT_ID].to_numpy(), "facility_type": facility_type,
            "threshold_min": t_min, "older_pop": pop, "covered_pop": s,
            "covered_share": np.clip(np.nan_to_num(share, nan=0.0), 0, 1),
        }))
    return pd.concat(frames, ignore_index=True)
