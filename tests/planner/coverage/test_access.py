"""E2SFCA accessibility (planner.coverage.access) against hand-worked and dense recomputations."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from planner.coverage.access import GaussianDecay, StepDecay, compute_e2sfca, compute_unit_access
from planner.errors import InputDataError

# Two facilities (A: 10 places, B: 6 places), three demand points (10, 20, 40 older adults).
# Zones 0-5, 5-10, 10-15 min weigh 1, 0.5, 0.25.
#   d(1,A)=100 s (w 1)   d(2,A)=400 s (w .5)   d(3,A)=unreachable
#   d(1,B)=1000 s (beyond 15 min, w 0)   d(2,B)=700 s (w .25)   d(3,B)=0 s (w 1, stored zero)
#   R_A = 10 / (10*1 + 20*.5) = 0.5        R_B = 6 / (20*.25 + 40*1) = 6/45
#   A_1 = .5    A_2 = .5*.5 + (6/45)*.25 = 0.28333...    A_3 = 6/45
DECAY = StepDecay.from_minutes((5, 10, 15), (1.0, 0.5, 0.25))
TIMES_S = sp.csr_matrix(
    (
        np.array([100.0, 1000.0, 400.0, 700.0, 0.0]),
        (np.array([0, 0, 1, 1, 2]), np.array([0, 1, 0, 1, 1])),
    ),
    shape=(3, 2),
)
SUPPLY = np.array([10.0, 6.0])
DEMAND = np.array([10.0, 20.0, 40.0])


def test_hand_worked_example() -> None:
    access = compute_e2sfca(TIMES_S, SUPPLY, DEMAND, decay=DECAY)
    assert access == pytest.approx([0.5, 0.25 + 6 / 45 * 0.25, 6 / 45])
    assert (DEMAND * access).sum() == pytest.approx(SUPPLY.sum())


def test_step_decay_zone_edges() -> None:
    weights = DECAY.weight(np.array([0.0, 300.0, 300.1, 600.0, 900.0, 900.1]))
    assert weights.tolist() == [1.0, 1.0, 0.5, 0.5, 0.25, 0.0]
    assert DECAY.catchment_s == 900.0


def _dense_e2sfca(
    times: np.ndarray, supply: np.ndarray, demand: np.ndarray, decay: object
) -> np.ndarray:
    n_demand, n_fac = times.shape
    ratio = np.zeros(n_fac)
    for j in range(n_fac):
        denominator = sum(
            demand[k] * decay.weight(np.array([times[k, j]]))[0]  # type: ignore[attr-defined]
            for k in range(n_demand)
            if np.isfinite(times[k, j])
        )
        ratio[j] = supply[j] / denominator if denominator > 0 else 0.0
    return np.array(
        [
            sum(
                ratio[j] * decay.weight(np.array([times[i, j]]))[0]  # type: ignore[attr-defined]
                for j in range(n_fac)
                if np.isfinite(times[i, j])
            )
            for i in range(n_demand)
        ]
    )


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("decay", [DECAY, GaussianDecay(900.0)])
def test_matches_dense_recomputation(seed: int, decay: StepDecay | GaussianDecay) -> None:
    rng = np.random.default_rng(seed)
    dense = rng.uniform(0, 1400, (30, 6))
    dense[rng.random(dense.shape) < 0.4] = np.inf
    rows, cols = np.nonzero(np.isfinite(dense))
    sparse = sp.csr_matrix((dense[rows, cols], (rows, cols)), shape=dense.shape)
    supply = rng.integers(5, 50, 6).astype(float)
    demand = rng.integers(0, 80, 30).astype(float)
    got = compute_e2sfca(sparse, supply, demand, decay=decay)
    assert got == pytest.approx(_dense_e2sfca(dense, supply, demand, decay), rel=1e-9, abs=1e-12)


def test_gaussian_decay_shape() -> None:
    weights = GaussianDecay(600.0).weight(np.array([0.0, 300.0, 600.0, 601.0]))
    assert weights[0] == pytest.approx(1.0)
    assert 0 < weights[1] < 1
    assert weights[2] == pytest.approx(0.0, abs=1e-12)
    assert weights[3] == 0.0


def test_unit_aggregation_is_population_weighted() -> None:
    access = np.array([1.0, 3.0, 5.0, 2.0])
    units, mean = compute_unit_access(
        access, np.array([1.0, 3.0, 0.0, 0.0]), np.array([4, 4, 4, 1])
    )
    assert units.tolist() == [1, 4]
    assert mean.tolist() == pytest.approx([2.0, 2.5])


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: compute_e2sfca(TIMES_S.toarray(), SUPPLY, DEMAND, decay=DECAY), "scipy.sparse"),
        (lambda: compute_e2sfca(TIMES_S, SUPPLY[:1], DEMAND, decay=DECAY), "align"),
        (lambda: compute_e2sfca(TIMES_S, -SUPPLY, DEMAND, decay=DECAY), "supply_pop"),
        (lambda: StepDecay((600.0, 300.0), (1.0, 0.5)), "increasing"),
        (lambda: StepDecay((300.0,), (1.0, 0.5)), "one weight"),
        (lambda: StepDecay((300.0,), (1.5,)), r"\[0, 1\]"),
        (lambda: GaussianDecay(0.0), "catchment_s"),
        (
            lambda: compute_unit_access(np.ones(2), np.ones(3), np.zeros(2, dtype=int)),
            "equal-length",
        ),
    ],
)
def test_bad_input_raises(call: object, match: str) -> None:
    with pytest.raises(InputDataError, match=match):
        call()  # type: ignore[operator]
