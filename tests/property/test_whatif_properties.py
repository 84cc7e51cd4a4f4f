"""Random add / move / remove sequences applied incrementally equal a full recomputation
(run_plan on the changed facility list) after every step: point times, node times, coverage."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from planner.whatif import FacilityChange, Scenario, WhatIfState, apply_scenario, state_from_result
from tests.conftest import lonlat_points
from tests.planner.test_coverage_pipeline import plan, small_inputs

TYPES = ("day_care", "meal_point")
BASE = [(150.0, 150.0, "day_care"), (1050.0, 1050.0, "meal_point"), (500.0, 500.0, "day_care"),
        (950.0, 250.0, "meal_point"), (820.0, 610.0, "day_care")]
coord = st.floats(-100.0, 1300.0).map(lambda v: round(v, 1))  # off-grid and off the network too
op = st.one_of(
    st.tuples(st.just("add"), coord, coord, st.sampled_from(TYPES)),
    st.tuples(st.just("move"), coord, coord, st.integers(0, 50)),
    st.tuples(st.just("remove"), st.integers(0, 50)),
    st.tuples(st.just("on_node"), st.integers(0, 12), st.integers(0, 12), st.sampled_from(TYPES)),
)


def _lonlat(x_m: float, y_m: float) -> tuple[float, float]:
    p = lonlat_points(np.array([x_m]), np.array([y_m])).iloc[0]
    return float(p.x), float(p.y)


def _check(state: WhatIfState, fac: list[tuple[str, float, float, str]]) -> None:
    want = plan(small_inputs([(x, y, t) for _, x, y, t in fac]))
    frame = state.facilities  # built lazily from the chain of scenarios: same rows, same order
    assert list(frame["facility_id"]) == [f[0] for f in fac] == list(state.table.ids)
    assert list(frame["type"]) == [f[3] for f in fac] == list(state.table.types)
    np.testing.assert_allclose(frame.geometry.x, want.facilities.geometry.x, atol=1e-6)
    np.testing.assert_allclose(frame.geometry.y, want.facilities.geometry.y, atol=1e-6)
    key = ["demand_id", "facility_type"]
    a = state.demand_times.sort_values(key).reset_index(drop=True)
    b = want.demand_times.sort_values(key).reset_index(drop=True)
    np.testing.assert_allclose(a["time_s"], b["time_s"], rtol=1e-9, atol=1e-6)
    cols = ["unit_id", "facility_type", "covered_pop", "covered_share", "median_time_min",
            "p90_time_min", "uncovered_out_of_reach_pop"]
    ca = state.coverage[cols].sort_values(cols[:2]).reset_index(drop=True)
    cb = want.coverage[cols].sort_values(cols[:2]).reset_index(drop=True)
    pd.testing.assert_frame_equal(ca, cb, check_exact=False, atol=1e-6, check_dtype=False)
    for ftype, near in want.nearest.items():
        np.testing.assert_allclose(state.nearest[ftype].node_time_s, near.node_time_s,
                                   atol=1e-6)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow],
          phases=[Phase.explicit, Phase.reuse, Phase.generate])
@given(ops=st.lists(op, min_size=1, max_size=3))
def test_random_sequences_equal_full_recomputation(ops: list[tuple]) -> None:  # type: ignore[type-arg]
    fac = [(f"f{i}", x, y, t) for i, (x, y, t) in enumerate(BASE)]
    state = state_from_result(plan(small_inputs(BASE)))
    for k, step in enumerate(ops):
        if step[0] in ("add", "on_node"):
            x, y = (step[1], step[2]) if step[0] == "add" else (step[1] * 100.0, step[2] * 100.0)
            sc = Scenario("s", add=(FacilityChange(f"n{k}", *_lonlat(x, y), step[3]),))
            fac.append((f"n{k}", x, y, step[3]))
        elif step[0] == "move":
            j = step[3] % len(fac)
            sc = Scenario("s", move=(FacilityChange(fac[j][0], *_lonlat(step[1], step[2])),))
            fac[j] = (fac[j][0], step[1], step[2], fac[j][3])
        else:
            if len(fac) == 1:
                continue
            j = step[1] % len(fac)
            sc = Scenario("s", remove=(fac[j][0],))
            fac.pop(j)
        state = apply_scenario(state, sc).state
        _check(state, fac)
