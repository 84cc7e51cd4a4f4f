"""Coverage tables measured in two threads equal the tables measured one type at a time."""

from __future__ import annotations

import warnings

import pandas as pd

from planner.errors import DataQualityWarning
from planner.params import PlanParams
from planner.pipeline import _coverage_tables, run_plan
from planner.routing.type_times import type_times_at
from planner.synthetic.district import build_demo_district


def test_two_threads_give_the_same_tables_in_type_order() -> None:
    inputs = build_demo_district(seed=5, target_nodes=6000, n_facilities=60)
    params = PlanParams()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        result = run_plan(inputs, params, max_catchment_facilities=0, build_dissolved=False)
    fac, fsnap, dsnap = result.facilities, result.facility_snap, result.demand_snap
    assert fsnap is not None and dsnap is not None
    # reversed type order: the output must follow the order of the mapping, not of completion
    times = {t: type_times_at(result.network, fac, fsnap, dsnap, t)[1:]
             for t in reversed(list(result.nearest))}
    one = _coverage_tables(result.demand, fac, times, result.units, params, threads=1)
    two = _coverage_tables(result.demand, fac, times, result.units, params, threads=2)
    for a, b in zip(one, two, strict=True):
        pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert list(dict.fromkeys(two[0]["facility_type"])) == list(times)
    assert len(times) >= 3
    # the pipeline's own table (threads by default) is the same numbers in the pipeline's order
    ordered = result.coverage.sort_values(["facility_type", "unit_id"]).reset_index(drop=True)
    mine = one[0].sort_values(["facility_type", "unit_id"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(ordered[mine.columns], mine, check_exact=True)
