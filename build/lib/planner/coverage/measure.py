"""Demand-level nearest times and covered flags; unit-level covered/uncovered older adults."""

from __future__ import annotations

import numpy as np
import pandas as pd

from planner.network.snap import DISCONNECTED, NOT_SNAPPED
from planner.params import CoverageParams
from planner.schema import OLDER_POP, SETTLEMENT, UNIT_ID, UNIT_NAME

COVERAGE_COLUMNS = (
    "unit_id", "unit_name", "facility_type", "threshold_min", "older_pop", "covered_pop",
    "covered_share", "median_time_min", "p90_time_min", "nearest_facility_id",
    "uncovered_out_of_reach_pop", "uncovered_disconnected_pop", "uncovered_not_snapped_pop",
)


def _weighted_quantiles(frame: pd.DataFrame, qs: tuple[float, ...]) -> pd.DataFrame:
    """Population-weighted quantiles of ``time_s`` per unit (inf where unreachable)."""
    d = frame.sort_values([UNIT_ID, "time_s"], kind="mergesort")
    total = d.groupby(UNIT_ID, sort=False)[OLDER_POP].transform("sum")
    share = d.groupby(UNIT_ID, sort=False)[OLDER_POP].cumsum() / total.where(total > 0, 1.0)
    out = {}
    for q in qs:
        reached = d[share >= q - 1e-12]
        out[q] = reached.groupby(UNIT_ID, sort=False)["time_s"].first()
    return pd.DataFrame(out)


def _nearest_facility(frame: pd.DataFrame) -> pd.Series:
    """Per unit, the facility that is nearest for the largest share of its older adults."""
    d = frame[frame["facility_id"].notna()]
    if d.empty:
        return pd.Series(dtype=object)
    w = d.groupby([UNIT_ID, "facility_id"], sort=True)[OLDER_POP].sum().reset_index()
    w = w.sort_values([UNIT_ID, OLDER_POP, "facility_id"], ascending=[True, False, True])
    return w.drop_duplicates(UNIT_ID).set_index(UNIT_ID)["facility_id"]


def compute_unit_coverage(
    demand: pd.DataFrame,
    units: pd.DataFrame,
    facility_type: str,
    params: CoverageParams,
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

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COVERAGE_COLUMNS`; times in minutes (NaN when the quantile is unreachable).
    """
    thr_min = units[SETTLEMENT].map(lambda s: params.threshold_min(facility_type, s))
    thr = pd.Series(thr_min.to_numpy(), index=units[UNIT_ID].to_numpy())
    d = demand[[UNIT_ID, OLDER_POP, "status", "time_s", "facility_id"]].copy()
    d["thr_s"] = d[UNIT_ID].map(thr).to_numpy() * 60.0
    covered = d["time_s"] <= d["thr_s"]
    d["covered_pop"] = np.where(covered, d[OLDER_POP], 0.0)
    for col, mask in (
        ("uncovered_not_snapped_pop", d["status"] == NOT_SNAPPED),
        ("uncovered_disconnected_pop", d["status"] == DISCONNECTED),
        ("uncovered_out_of_reach_pop", ~covered & (d["status"] != NOT_SNAPPED)
         & (d["status"] != DISCONNECTED)),
    ):
        d[col] = np.where(mask, d[OLDER_POP], 0.0)
    sums = d.groupby(UNIT_ID)[[
        "covered_pop", "uncovered_out_of_reach_pop", "uncovered_disconnected_pop",
        "uncovered_not_snapped_pop",
    ]].sum()
    quant = _weighted_quantiles(d, (0.5, 0.9))
    out = pd.DataFrame({
        "unit_id": units[UNIT_ID].to_numpy(),
        "unit_name": units[UNIT_NAME].to_numpy(),
        "facility_type": facility_type,
        "threshold_min": thr.to_numpy(),
        "older_pop": units[OLDER_POP].to_numpy(dtype=float),
    })
    out = out.join(sums, on="unit_id").fillna({c: 0.0 for c in sums.columns})
    unplaced = out["older_pop"] - out[list(sums.columns)].sum(axis=1)
    out["uncovered_not_snapped_pop"] += unplaced.clip(lower=0.0)
    share = out["covered_pop"] / out["older_pop"].where(out["older_pop"] > 0)
    out["covered_share"] = share.fillna(0.0).clip(0.0, 1.0)
    for q, name in ((0.5, "median_time_min"), (0.9, "p90_time_min")):
        minutes = out["unit_id"].map(quant[q]) / 60.0 if len(quant) else np.nan
        out[name] = pd.Series(minutes, index=out.index).replace(np.inf, np.nan)
    out["nearest_facility_id"] = out["unit_id"].map(_nearest_facility(d))
    return out[list(COVERAGE_COLUMNS)]


def compute_threshold_coverage(
    demand: pd.DataFrame, units: pd.DataFrame, facility_type: str, thresholds_min: tuple[float, ...]
) -> pd.DataFrame:
    """Covered older adults per unit at each catchment threshold (long table).

    Returns columns ``unit_id, facility_type, threshold_min, older_pop, covered_pop, covered_share``.
    """
    frames = []
    pop = units.set_index(UNIT_ID)[OLDER_POP].astype(float)
    for t_min in thresholds_min:
        cov = demand[OLDER_POP].where(demand["time_s"] <= t_min * 60.0, 0.0)
        s = cov.groupby(demand[UNIT_ID]).sum().reindex(pop.index, fill_value=0.0)
        frames.append(pd.DataFrame({
            "unit_id": pop.index, "facility_type": facility_type, "threshold_min": t_min,
            "older_pop": pop.to_numpy(), "covered_pop": s.to_numpy(),
            "covered_share": (s / pop.where(pop > 0)).fillna(0.0).clip(0, 1).to_numpy(),
        }))
    return pd.concat(frames, ignore_index=True)
