"""The what-if unit patch equals the full coverage columns bit for bit: random units, times
exactly on the thresholds, unreachable, disconnected and unsnapped points, tied facilities."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.coverage.measure import coverage_columns
from planner.coverage.patch import CoverageRows, PatchIndex, patch_coverage
from planner.coverage.tables import DemandIndex
from planner.params import CoverageParams
from planner.schema import OLDER_POP, SETTLEMENT, UNIT_ID, UNIT_NAME

TYPE = "day_care"


def _index(rng: np.random.Generator, n_pts: int, n_units: int) -> PatchIndex:
    unit = rng.integers(-1, n_units, n_pts)
    kind = rng.choice([1, 1, 1, 2, 3], n_pts)
    pop = rng.choice([0.0, 1.0, 2.5, 3.3, 10.0], n_pts) * rng.uniform(0.5, 1.5, n_pts).round(2)
    d = DemandIndex(unit, pop, kind == 3, kind == 2, n_units)
    u_order = np.argsort(unit, kind="stable")
    u_order = u_order[unit[u_order] >= 0]
    ptr = np.zeros(n_units + 1, dtype=np.int64)
    np.cumsum(np.bincount(unit[u_order], minlength=n_units), out=ptr[1:])
    none = np.zeros(0, dtype=np.int64)
    return PatchIndex(d, none, none, none, none, u_order, ptr, kind)


def _times(rng: np.random.Generator, index: PatchIndex, thr_s: np.ndarray) -> np.ndarray:
    n = index.kind.size
    t = rng.uniform(0, 3000, n).round(int(rng.integers(0, 3)))
    on = rng.random(n) < 0.2  # exactly on the unit's threshold (covered: <=)
    u = index.demand.unit
    t[on & (u >= 0)] = thr_s[u[on & (u >= 0)]]
    t[rng.random(n) < 0.1] = np.inf
    t[index.kind != 1] = np.inf
    return t


def _full(index: PatchIndex, units: dict[str, np.ndarray], params: CoverageParams,
          t: np.ndarray, key: np.ndarray, key_ids: np.ndarray) -> dict[str, np.ndarray]:
    ids, code = np.unique(key_ids, return_inverse=True)  # codes in id sort order
    fac = np.where(key >= 0, np.append(code, -1)[key], -1)
    return coverage_columns(index.demand, units, TYPE, params, t, fac, ids)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 100_000), n_units=st.integers(1, 9), n_pts=st.integers(1, 300))
def test_patch_equals_full_columns(seed: int, n_units: int, n_pts: int) -> None:
    rng = np.random.default_rng(seed)
    params = CoverageParams()
    index = _index(rng, n_pts, n_units)
    units = {UNIT_ID: np.array([f"u{i}" for i in range(n_units)], dtype=object),
             UNIT_NAME: np.array([f"n{i}" for i in range(n_units)], dtype=object),
             SETTLEMENT: rng.choice(["urban", "rural"], n_units).astype(object),
             OLDER_POP: rng.choice([0.0, 50.0, 400.0], n_units)}
    thr_s = np.array([params.threshold_min(TYPE, s) for s in units[SETTLEMENT]]) * 60.0
    key_ids = rng.permutation(np.array([f"f{i:02d}" for i in range(12)], dtype=object))
    t0 = _times(rng, index, thr_s)
    k0 = np.where(np.isfinite(t0), rng.integers(0, 3, n_pts), -1)  # few keys: tied sums
    old = CoverageRows(_full(index, units, params, t0, k0, key_ids))
    changed = np.flatnonzero(rng.random(n_pts) < rng.uniform(0.05, 1.0))
    t1, k1 = t0.copy(), k0.copy()
    t1[changed] = _times(rng, index, thr_s)[changed]
    k1[changed] = np.where(np.isfinite(t1[changed]), rng.integers(0, 12, changed.size), -1)
    want = _full(index, units, params, t1, k1, key_ids)
    flipped = bool(((t0[changed] <= thr_s[index.demand.unit[changed]])
                    != (t1[changed] <= thr_s[index.demand.unit[changed]])).any())
    for flag in {flipped, True}:
        got = patch_coverage(index, old, thr_s, changed, t1, k1, key_ids, flag).columns
        for col, values in want.items():
            if values.dtype == object:  # NaN (no facility) compared as missing
                assert pd.isna(got[col]).tolist() == pd.isna(values).tolist(), col
                values, got_col = values[pd.notna(values)], got[col][pd.notna(got[col])]
                assert got_col.tolist() == values.tolist(), col
            else:
                np.testing.assert_array_equal(got[col], values, err_msg=col)


def test_tied_facilities_take_the_first_id_in_sort_order() -> None:
    """Two facilities nearest for equally many older adults (2.0 each): the unit's nearest
    facility is the first id in sort order, as in the full table; a third unit has one
    facility ahead (3.0 against 1.0)."""
    params = CoverageParams()
    unit = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    pop = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0])
    none = np.zeros(0, dtype=np.int64)
    kind = np.ones(8, dtype=np.int64)
    d = DemandIndex(unit, pop, kind == 3, kind == 2, 2)
    index = PatchIndex(d, none, none, none, none, np.arange(8), np.array([0, 4, 8]), kind)
    units = {UNIT_ID: np.array(["u0", "u1"], dtype=object),
             UNIT_NAME: np.array(["n0", "n1"], dtype=object),
             SETTLEMENT: np.array(["urban", "urban"], dtype=object),
             OLDER_POP: np.array([4.0, 4.0])}
    thr_s = np.array([params.threshold_min(TYPE, "urban")] * 2) * 60.0
    key_ids = np.array(["f_b", "f_a", "f_c"], dtype=object)
    t = np.array([60.0, 120.0, 180.0, 240.0, 60.0, 120.0, 180.0, 240.0])
    k0 = np.full(8, 2)
    old = CoverageRows(_full(index, units, params, t, k0, key_ids))
    k1 = np.array([0, 1, 0, 1, 0, 0, 0, 1])  # unit 0: f_b 2.0 = f_a 2.0; unit 1: f_b 3.0
    want = _full(index, units, params, t, k1, key_ids)
    got = patch_coverage(index, old, thr_s, np.arange(8), t, k1, key_ids, False).columns
    assert want["nearest_facility_id"].tolist() == ["f_a", "f_b"]
    assert got["nearest_facility_id"].tolist() == ["f_a", "f_b"]
