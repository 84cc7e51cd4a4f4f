"""Hypothesis properties of siting: monotone in k, greedy <= exact <= LP, existing kept."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.siting import SitingProblem, compute_lp_bound, greedy_mclp, solve_mclp

problems = st.builds(
    lambda seed, n_cand, n_demand, density: _problem(seed, n_cand, n_demand, density),
    st.integers(0, 2**31 - 1),
    st.integers(1, 7),
    st.integers(1, 30),
    st.floats(0.05, 0.6),
)


def _problem(seed: int, n_cand: int, n_demand: int, density: float) -> SitingProblem:
    rng = np.random.default_rng(seed)
    cover = sp.csr_matrix(rng.random((n_demand, n_cand)) < density)
    return SitingProblem(
        rng.integers(0, 40, n_demand).astype(float), cover, rng.random(n_demand) < 0.2
    )


@settings(max_examples=40, deadline=None)
@given(problems)
def test_exact_coverage_is_monotone_in_k(problem: SitingProblem) -> None:
    values = [solve_mclp(problem, k).objective for k in range(problem.n_candidates + 1)]
    assert all(b >= a - 1e-6 for a, b in zip(values, values[1:], strict=False))
    assert values[-1] == problem.covered_pop(range(problem.n_candidates))


@settings(max_examples=40, deadline=None)
@given(problems, st.integers(0, 4))
def test_lp_bound_exact_greedy_order(problem: SitingProblem, k: int) -> None:
    exact = solve_mclp(problem, k)
    greedy = greedy_mclp(problem, k)
    assert compute_lp_bound(problem, k=k) >= exact.objective - 1e-6
    assert exact.objective >= greedy.objective - 1e-6
    assert greedy.covered_before_pop == exact.covered_before_pop == problem.covered_pop([])


@settings(max_examples=30, deadline=None)
@given(problems, st.integers(0, 4))
def test_existing_facilities_never_dropped(problem: SitingProblem, k: int) -> None:
    for result in (solve_mclp(problem, k), greedy_mclp(problem, k, with_bound=False)):
        kept = problem.existing_covered & (problem.weights_pop > 0)
        assert (result.demand_served_pop[kept] == problem.weights_pop[kept]).all()
        assert result.covered_after_pop >= result.covered_before_pop
