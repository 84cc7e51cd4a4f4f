"""The numpy coverage tables equal the pandas group-bys they replaced (kept here as the oracle),
on random demand with tied times, equal weights, unknown units, every snap status and points
with no facility."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.coverage.measure import compute_threshold_coverage, compute_unit_coverage
from planner.params import CoverageParams
from planner.schema import OLDER_POP, SETTLEMENT, UNIT_ID, UNIT_NAME

COLUMNS = (
    "unit_id", "unit_name", "facility_type", "threshold_min", "older_pop", "covered_pop",
    "covered_share", "median_time_min", "p90_time_min", "nearest_facility_id",
    "uncovered_out_of_reach_pop", "uncovered_disconnected_pop", "uncovered_not_snapped_pop",
    "settlement",
)


def _old_quantiles(frame: pd.DataFrame, qs: tuple[float, ...]) -> pd.DataFrame:
    d = frame.sort_values([UNIT_ID, "time_s"], kind="mergesort")
    total = d.groupby(UNIT_ID, sort=False)[OLDER_POP].transform("sum")
    share = d.groupby(UNIT_ID, sort=False)[OLDER_POP].cumsum() / total.where(total > 0, 1.0)
    out = {}
    for q in qs:
        out[q] = d[share >= q - 1e-12].groupby(UNIT_ID, sort=False)["time_s"].first()
    return pd.DataFrame(out)


def _old_nearest(frame: pd.DataFrame) -> pd.Series:
    d = frame[frame["facility_id"].notna()]
    if d.empty:
        return pd.Series(dtype=object)
    w = d.groupby([UNIT_ID, "facility_id"], sort=True)[OLDER_POP].sum().reset_index()
    w = w.sort_values([UNIT_ID, OLDER_POP, "facility_id"], ascending=[True, False, True])
    return w.drop_duplicates(UNIT_ID).set_index(UNIT_ID)["facility_id"]


def old_unit_coverage(demand: pd.DataFrame, units: pd.DataFrame, ftype: str,
                      params: CoverageParams) -> pd.DataFrame:
    """compute_unit_coverage as it was before the numpy tables (the oracle)."""
    thr_min = units[SETTLEMENT].map(lambda s: params.threshold_min(ftype, s))
    thr = pd.Series(thr_min.to_numpy(), index=units[UNIT_ID].to_numpy())
    d = demand[[UNIT_ID, OLDER_POP, "status", "time_s", "facility_id"]].copy()
    d["thr_s"] = d[UNIT_ID].map(thr).to_numpy() * 60.0
    covered = d["time_s"] <= d["thr_s"]
    d["covered_pop"] = np.where(covered, d[OLDER_POP], 0.0)
    for col, mask in (
        ("uncovered_not_snapped_pop", d["status"] == "not_snapped"),
        ("uncovered_disconnected_pop", d["status"] == "disconnected"),
        ("uncovered_out_of_reach_pop", ~covered & (d["status"] != "not_snapped")
         & (d["status"] != "disconnected")),
    ):
        d[col] = np.where(mask, d[OLDER_POP], 0.0)
    cols = ["covered_pop", "uncovered_out_of_reach_pop", "uncovered_disconnected_pop",
            "uncovered_not_snapped_pop"]
    sums = d.groupby(UNIT_ID)[cols].sum()
    quant = _old_quantiles(d, (0.5, 0.9))
    out = pd.DataFrame({"unit_id": units[UNIT_ID].to_numpy(),
                        "unit_name": units[UNIT_NAME].to_numpy(), "facility_type": ftype,
                        "threshold_min": thr.to_numpy(),
                        "older_pop": units[OLDER_POP].to_numpy(dtype=float),
                        "settlement": units[SETTLEMENT].to_numpy()})
    out = out.join(sums, on="unit_id").fillna(dict.fromkeys(sums.columns, 0.0))
    unplaced = out["older_pop"] - out[list(sums.columns)].sum(axis=1)
    out["uncovered_not_snapped_pop"] += unplaced.clip(lower=0.0)
    share = out["covered_pop"] / out["older_pop"].where(out["older_pop"] > 0)
    out["covered_share"] = share.fillna(0.0).clip(0.0, 1.0)
    for q, name in ((0.5, "median_time_min"), (0.9, "p90_time_min")):
        minutes = out["unit_id"].map(quant[q]) / 60.0 if len(quant) else np.nan
        out[name] = pd.Series(minutes, index=out.index).replace(np.inf, np.nan)
    out["nearest_facility_id"] = out["unit_id"].map(_old_nearest(d))
    return out[list(COLUMNS)]


def _frames(seed: int, n_units: int, n_points: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    units = pd.DataFrame({UNIT_ID: [f"u{i:03d}" for i in rng.permutation(n_units)],
                          UNIT_NAME: [f"n{i}" for i in range(n_units)],
                          OLDER_POP: rng.choice([0.0, 50.0, 333.3, 1000.0], n_units),
                          SETTLEMENT: rng.choice(["urban", "rural"], n_units)})
    ids = np.r_[units[UNIT_ID].to_numpy(), ["elsewhere"]]
    times = rng.choice([60.0, 300.0, 300.0, 900.0, 1799.9, np.inf], n_points)
    times = np.where(rng.random(n_points) < 0.5, rng.uniform(0, 3000, n_points), times)
    fac = rng.choice(np.array(["f1", "f2", "f10", None], dtype=object), n_points)
    demand = pd.DataFrame({UNIT_ID: rng.choice(ids, n_points),
                           OLDER_POP: rng.choice([1.0, 1.0, 0.1, 7.3, 0.0], n_points),
                           "status": rng.choice(["ok"] * 6 + ["disconnected", "not_snapped"],
                                                n_points),
                           "time_s": times, "facility_id": np.where(np.isinf(times), None, fac)})
    return demand, units


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 100_000), n_units=st.integers(1, 30), n_points=st.integers(0, 600))
def test_unit_coverage_equals_the_pandas_group_bys(seed: int, n_units: int,
                                                   n_points: int) -> None:
    demand, units = _frames(seed, n_units, n_points)
    params = CoverageParams()
    for ftype in ("day_care", "meal_point"):
        want = old_unit_coverage(demand, units, ftype, params)
        got = compute_unit_coverage(demand, units, ftype, params)
        pd.testing.assert_frame_equal(got, want, check_exact=True, check_dtype=False)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 100_000), n_units=st.integers(1, 30), n_points=st.integers(0, 600))
def test_threshold_coverage_equals_the_pandas_group_bys(seed: int, n_units: int,
                                                        n_points: int) -> None:
    demand, units = _frames(seed, n_units, n_points)
    got = compute_threshold_coverage(demand, units, "day_care", (5.0, 15.0, 30.0))
    pop = units.set_index(UNIT_ID)[OLDER_POP].astype(float)
    for t_min, part in got.groupby("threshold_min"):
        cov = demand[OLDER_POP].where(demand["time_s"] <= t_min * 60.0, 0.0)
        s = cov.groupby(demand[UNIT_ID]).sum().reindex(pop.index, fill_value=0.0)
        np.testing.assert_array_equal(part["covered_pop"].to_numpy(), s.to_numpy())
        share = (s / pop.where(pop > 0)).fillna(0.0).clip(0, 1).to_numpy()
        np.testing.assert_array_equal(part["covered_share"].to_numpy(), share)
        np.testing.assert_array_equal(part["unit_id"].to_numpy(), pop.index.to_numpy())


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 100_000), n=st.integers(0, 500), k=st.integers(1, 40))
def test_unit_codes_and_running_sums_equal_pandas(seed: int, n: int, k: int) -> None:
    """Arrow's hash join equals get_indexer (string ids, unknown ids, missing values, integer
    ids); the grouped running sums equal Series.groupby().cumsum()."""
    from planner.coverage.tables import group_cumsums, unit_codes

    rng = np.random.default_rng(seed)
    ids = pd.Series([f"u{i}" for i in rng.permutation(k)], dtype="str")
    values = pd.Series(rng.choice(np.r_[ids.to_numpy(), ["nowhere"]], n), dtype="str")
    want = pd.Index(ids).get_indexer(values)
    np.testing.assert_array_equal(unit_codes(values, ids), want)
    with_na = values.where(rng.random(n) > 0.1)
    np.testing.assert_array_equal(unit_codes(with_na, ids), pd.Index(ids).get_indexer(with_na))
    ints = pd.Series(rng.integers(0, k + 3, n))
    np.testing.assert_array_equal(unit_codes(ints, pd.Series(np.arange(k))),
                                  pd.Index(np.arange(k)).get_indexer(ints))
    code = np.sort(rng.integers(0, max(1, k), n))
    w = rng.choice([0.1, 1.0, 7.3, 1e-9, 333.3], n)
    np.testing.assert_array_equal(group_cumsums(code, w, k),
                                  pd.Series(w).groupby(code, sort=False).cumsum().to_numpy())


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 100_000), n=st.integers(0, 2000), k=st.integers(1, 60))
def test_unit_time_order_is_a_stable_sort_by_unit_and_time(seed: int, n: int, k: int) -> None:
    """Padded per-size-class sorts equal one stable sort by (unit, time): tied times, inf,
    unknown units (-1), units of very different sizes."""
    from planner.coverage.tables import unit_time_order

    rng = np.random.default_rng(seed)
    unit = np.where(rng.random(n) < 0.1, -1, rng.zipf(1.5, n) % k).astype(np.int64)
    time_s = rng.choice([60.0, 300.0, np.inf, 0.0], n)
    time_s = np.where(rng.random(n) < 0.5, rng.uniform(0, 3000, n), time_s)
    want = np.lexsort((time_s, unit))
    want = want[unit[want] >= 0]
    np.testing.assert_array_equal(unit_time_order(unit, time_s, k), want)
