"""Greedy siting heuristics (planner.siting.greedy): never better than exact, bounded by the LP."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from planner.siting import SitingProblem, greedy_mclp, greedy_set_cover, solve_mclp, solve_set_cover


def _random_problem(
    seed: int, *, n_cand: int = 8, n_demand: int = 40, capacitated: bool = False
) -> SitingProblem:
    rng = np.random.default_rng(seed)
    cover = sp.csr_matrix(rng.random((n_demand, n_cand)) < 0.2)
    weights = rng.integers(0, 60, n_demand).astype(float)
    capacity = rng.integers(20, 150, n_cand).astype(float) if capacitated else None
    return SitingProblem(
        weights,
        cover,
        rng.random(n_demand) < 0.15,
        candidate_capacity_pop=capacity,
        unit_of_demand=rng.integers(0, 4, n_demand),
    )


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("capacitated", [False, True])
def test_greedy_mclp_never_beats_exact_and_bound_holds(seed: int, capacitated: bool) -> None:
    problem = _random_problem(seed, capacitated=capacitated)
    greedy = greedy_mclp(problem, 3)
    exact = solve_mclp(problem, 3)
    assert greedy.method == "greedy" and greedy.status == "heuristic"
    assert greedy.bound >= exact.objective - 1e-6
    assert exact.objective >= greedy.objective - 1e-6
    assert greedy.objective >= (1 - 1 / np.e) * exact.objective - 1e-6 or capacitated
    assert sum(s.gain_pop for s in greedy.sites) == pytest.approx(greedy.covered_gain_pop, abs=1e-6)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("share", [None, 0.8])
def test_greedy_set_cover_feasible_and_not_smaller_than_exact(
    seed: int, share: float | None
) -> None:
    problem = _random_problem(seed)
    greedy = greedy_set_cover(problem, target_share=share)
    exact = solve_set_cover(problem, target_share=share)
    assert greedy.objective >= exact.objective >= greedy.bound
    assert greedy.covered_after_pop == pytest.approx(exact.covered_after_pop) or share is not None
    assert set(greedy.units_at_target) == set(exact.units_at_target)
    assert greedy.units_unreachable == exact.units_unreachable


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("share", [None, 0.7])
def test_greedy_capacitated_set_cover_reaches_targets(seed: int, share: float | None) -> None:
    problem = _random_problem(seed, n_cand=6, capacitated=True)
    greedy = greedy_set_cover(problem, target_share=share)
    exact = solve_set_cover(problem, target_share=share)
    assert greedy.objective >= exact.objective
    assert set(greedy.units_at_target) == set(exact.units_at_target)
    if share is None:
        assert greedy.covered_after_pop == pytest.approx(exact.covered_after_pop, abs=1e-5)


def test_greedy_large_sparse_instance_is_fast() -> None:
    rng = np.random.default_rng(7)
    n_demand, n_cand = 5_000, 500
    cover = (
        sp.random(
            n_demand, n_cand, density=0.01, random_state=np.random.RandomState(7), format="csr"
        )
        > 0
    )
    problem = SitingProblem(
        rng.integers(0, 30, n_demand).astype(float), cover, rng.random(n_demand) < 0.2
    )
    result = greedy_mclp(problem, 20)
    assert result.bound >= result.objective - 1e-6
    assert result.gap < 0.2
    assert len(result.sites) == 20
    assert result.runtime_s < 2.0
