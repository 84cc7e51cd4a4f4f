"""The travel step's fast paths equal the plain ones: the types searched half in a forked child
equal all in this process; the demand-time table and status column built from Arrow takes equal
the ones built from Python objects (the old code, kept here as the oracle)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from planner.errors import DataQualityWarning
from planner.params import PlanParams
from planner.pipeline import _demand_times, _status_column, run_plan
from planner.routing import type_times
from planner.schema import FACILITY_ID
from planner.synthetic.district import build_demo_district


@pytest.fixture(scope="module")
def district_result():  # type: ignore[no-untyped-def]
    inputs = build_demo_district(seed=11, target_nodes=4000, n_facilities=40)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        return run_plan(inputs, PlanParams(), max_catchment_facilities=0, build_dissolved=False)


def test_forked_types_equal_one_process(district_result, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    r = district_result
    args = (r.network, r.facilities, r.facility_snap, r.demand_snap)
    one = type_times.all_type_times(*args, None)
    assert type_times.start_types(*args[:3], 2).started is None  # a small network: no fork
    monkeypatch.setattr(type_times, "FORK_TRAVEL_NODES", 0)
    early = type_times.start_types(*args[:3], 2)
    assert early.types and early.started is not None
    two = type_times.all_type_times(*args, 1200.0, early)
    early.cancel()  # after the result: a no-op
    ref = type_times.all_type_times(*args, 1200.0)
    assert list(two[0]) == list(one[0]) == list(ref[0])
    for t in one[0]:
        np.testing.assert_array_equal(one[0][t].node_time_s, r.nearest[t].node_time_s)
        np.testing.assert_array_equal(one[0][t].node_source, r.nearest[t].node_source)
        np.testing.assert_array_equal(two[0][t].node_time_s, ref[0][t].node_time_s)
        np.testing.assert_array_equal(two[0][t].node_source, ref[0][t].node_source)
        for a, b in zip(two[1][t], ref[1][t], strict=True):
            np.testing.assert_array_equal(a, b)
        for a, b in zip(one[1][t], type_times.type_times_at(*args, t)[1:], strict=True):
            np.testing.assert_array_equal(a, b)


def test_started_child_is_cancelled_or_raises() -> None:
    from planner.routing.forkpool import Started

    def boom(state, job):  # type: ignore[no-untyped-def]
        raise ValueError(f"bad job {job}")

    with pytest.raises(ValueError, match="bad job 3"):
        Started(boom, 3, {}).result()
    slow = Started(lambda state, job: __import__("time").sleep(job), 60, {})
    slow.cancel()  # ends the child at once
    assert slow._child is None


def _old_demand_times(demand, fac, point_times):  # type: ignore[no-untyped-def]
    ids = np.append(fac[FACILITY_ID].to_numpy().astype(object), np.array([None], dtype=object))
    n = len(demand)
    return pd.DataFrame({
        "demand_id": np.tile(demand["demand_id"].to_numpy(), len(point_times)),
        "facility_type": np.repeat(np.array(list(point_times), dtype=object), n),
        "time_s": np.concatenate([t for t, _ in point_times.values()]),
        "facility_id": np.concatenate([ids[p] for _, p in point_times.values()])})


@pytest.mark.parametrize("ids", ["str", "int"])
def test_demand_times_equal_the_object_built_table(district_result, ids: str) -> None:  # type: ignore[no-untyped-def]
    r = district_result
    fac = r.facilities.copy()
    if ids == "int":
        fac[FACILITY_ID] = np.arange(len(fac)) * 7
    rng = np.random.default_rng(3)
    times = {t: (rng.uniform(0, 900, len(r.demand)),
                 np.where(rng.random(len(r.demand)) < 0.2, -1,
                          rng.integers(0, len(fac), len(r.demand)))) for t in r.nearest}
    pd.testing.assert_frame_equal(_demand_times(r.demand, fac, times),
                                  _old_demand_times(r.demand, fac, times))


def test_status_column_equals_the_strings() -> None:
    status = np.array(["ok", "not_snapped", "disconnected", "ok"] * 5, dtype="<U12")
    pd.testing.assert_series_equal(_status_column(status), pd.Series(status))
    assert _status_column(status[:0]).empty
