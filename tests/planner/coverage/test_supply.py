"""E2SFCA supply-demand ratio per unit: against a direct dense recomputation on network times."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from planner.errors import DataQualityWarning
from planner.params import AccessParams, PlanParams
from planner.pipeline import run_plan
from planner.routing.travel import compute_nearest_times, compute_point_times
from tests.planner.test_coverage_pipeline import small_inputs


def test_e2sfca_equals_dense_recomputation() -> None:
    inputs = small_inputs([(150, 150, "day_care"), (700, 300, "day_care"), (1050, 1050, "meal_point")])
    inputs.facilities["capacity"] = [40.0, 25.0, np.nan]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        result = run_plan(inputs, PlanParams(), max_catchment_facilities=0)
    access = result.access
    assert set(access["facility_type"]) == {"day_care"}  # meal point has no capacity
    net, fsnap, dsnap = result.network, result.facility_snap, result.demand_snap
    pop = result.demand["older_pop"].to_numpy()
    zones_s, weights = np.array([300.0, 600.0, 900.0]), np.array([1.0, 0.68, 0.22, 0.0])
    times = []
    for j in (0, 1):  # one facility at a time: exact point times from that facility alone
        one = np.zeros(len(result.facilities), dtype=bool)
        one[j] = True
        sub = fsnap.take(one)
        times.append(compute_point_times(net, compute_nearest_times(net, sub), dsnap, sub)[0])
    w = weights[np.searchsorted(zones_s, np.stack(times, axis=1), side="left")]
    ratio = np.array([40.0, 25.0]) / (w * pop[:, None]).sum(axis=0)
    a = (w * ratio).sum(axis=1)
    want = pd.Series(a * pop).groupby(result.demand["unit_id"].to_numpy()).sum() / pd.Series(
        pop).groupby(result.demand["unit_id"].to_numpy()).sum()
    got = access.set_index("unit_id")["e2sfca_ratio"]
    for uid, value in want.items():
        assert got[uid] == pytest.approx(value, rel=1e-9, abs=1e-12)
    # total supply is conserved: sum over units of ratio * pop = total capacity reached
    assert (access["e2sfca_ratio"] * access["older_pop"]).sum() == pytest.approx(65.0, rel=1e-9)


def test_access_params_validated() -> None:
    from planner.errors import InputDataError

    with pytest.raises(InputDataError, match="one weight per zone"):
        AccessParams(zone_upper_min=(5.0, 10.0), zone_weights=(1.0,))
