"""Compare a batch run with one `careplan analyze` of the whole area."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

IDS = {"unit_id": str, "nearest_facility_id": str}
EXACT = ("older_pop", "covered_pop", "covered_share", "uncovered_out_of_reach_pop",
         "uncovered_disconnected_pop", "uncovered_not_snapped_pop")


def assert_equal_to_whole(whole: Path, batch: Path, horizon_min: float) -> int:
    """Per unit and type: covered populations equal; times equal up to the horizon, NaN beyond.

    Returns the number of unit-type rows compared.
    """
    a = pd.read_csv(whole / "coverage.csv", dtype=IDS)
    b = pd.read_csv(batch / "coverage.csv", dtype=IDS)
    m = a.merge(b, on=["unit_id", "facility_type"], how="outer", suffixes=("_w", "_b"),
                indicator=True)
    assert (m["_merge"] == "both").all(), m[m["_merge"] != "both"].head()
    for col in EXACT:
        np.testing.assert_allclose(m[f"{col}_b"], m[f"{col}_w"], rtol=1e-9, atol=1e-9, err_msg=col)
    for col in ("median_time_min", "p90_time_min"):
        w, bb = m[f"{col}_w"], m[f"{col}_b"]
        within = w <= horizon_min
        np.testing.assert_allclose(bb[within], w[within], rtol=1e-9, err_msg=col)
        assert bb[~within].isna().all(), col  # beyond the horizon: reported as not reached
    near = m["p90_time_min_w"] <= horizon_min  # all but a tenth of the unit within the horizon
    same = m.loc[near, "nearest_facility_id_w"] == m.loc[near, "nearest_facility_id_b"]
    assert same.mean() > 0.95, m.loc[near & ~same.reindex(m.index, fill_value=True)].head()
    t_w = pd.read_csv(whole / "coverage_thresholds.csv", dtype=IDS)
    t_b = pd.read_csv(batch / "coverage_thresholds.csv", dtype=IDS)
    keys = ["unit_id", "facility_type", "threshold_min"]
    t = t_w.merge(t_b, on=keys, suffixes=("_w", "_b"))
    assert len(t) == len(t_w) == len(t_b)
    np.testing.assert_allclose(t["covered_pop_b"], t["covered_pop_w"], rtol=1e-9, atol=1e-9)
    g_w = pd.read_csv(whole / "gaps.csv", dtype=IDS)
    g_b = pd.read_csv(batch / "gaps.csv", dtype=IDS)
    pd.testing.assert_frame_equal(g_b[list(g_w.columns)], g_w, check_exact=False, rtol=1e-9)
    return len(m)
