"""Identify and rank coverage gaps per unit (社区/村) for the required facility types."""

from __future__ import annotations

import numpy as np
import pandas as pd

REASONS = {
    "no_facility_of_type": "no facility of this type in the data",
    "out_of_reach": "no facility in reach within the threshold",
    "disconnected": "homes on a disconnected part of the network",
    "not_snapped": "homes too far from any walkable street (not snapped)",
}
GAP_COLUMNS = (
    "rank", "unit_id", "unit_name", "facility_type", "threshold_min", "older_pop", "covered_pop",
    "covered_share", "target_share", "uncovered_pop", "reason", "reason_text",
    "uncovered_out_of_reach_pop", "uncovered_disconnected_pop", "uncovered_not_snapped_pop",
)


def find_gaps(
    coverage: pd.DataFrame,
    *,
    required_types: tuple[str, ...],
    target_share: float,
    facility_counts: dict[str, int],
) -> pd.DataFrame:
    """Units whose covered share of a required type is below the target, ranked by uncovered pop.

    Parameters
    ----------
    coverage
        Output of :func:`planner.coverage.measure.compute_unit_coverage` for all types.
    required_types
        Types every unit must reach (e.g. day_care, meal_point).
    target_share
        Share of older adults that must be covered (0-1).
    facility_counts
        Facilities per type in the data (a type with none gets reason ``no_facility_of_type``).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`GAP_COLUMNS`; ``rank`` 1 is the largest uncovered population.
    """
    cov = coverage[coverage["facility_type"].isin(required_types)]
    gaps = cov[(cov["covered_share"] < target_share - 1e-12) & (cov["older_pop"] > 0)].copy()
    gaps["target_share"] = target_share
    gaps["uncovered_pop"] = gaps["older_pop"] - gaps["covered_pop"]
    parts = gaps[["uncovered_out_of_reach_pop", "uncovered_disconnected_pop",
                  "uncovered_not_snapped_pop"]].to_numpy()
    names = np.array(["out_of_reach", "disconnected", "not_snapped"])
    reason = names[np.argmax(parts, axis=1)] if len(gaps) else np.array([], dtype=str)
    none = gaps["facility_type"].map(lambda t: facility_counts.get(t, 0) == 0).to_numpy(dtype=bool)
    gaps["reason"] = np.where(none, "no_facility_of_type", reason)
    gaps["reason_text"] = gaps["reason"].map(REASONS)
    gaps = gaps.sort_values(["uncovered_pop", "unit_id", "facility_type"],
                            ascending=[False, True, True], kind="mergesort")
    gaps["rank"] = np.arange(1, len(gaps) + 1)
    return gaps[list(GAP_COLUMNS)].reset_index(drop=True)
