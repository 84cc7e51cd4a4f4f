"""Exact siting models (planner.siting.optimise) against exhaustive enumeration."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp

from planner.errors import InputDataError, SitingError
from planner.siting import (
    SitingProblem,
    compute_lp_bound,
    compute_service,
    solve_mclp,
    solve_set_cover,
)


def _random_problem(
    seed: int,
    *,
    n_cand: int = 8,
    n_demand: int = 40,
    capacitated: bool = False,
    with_existing: bool = False,
) -> SitingProblem:
    rng = np.random.default_rng(seed)
    cover = sp.csr_matrix(rng.random((n_demand, n_cand)) < 0.2)
    weights = rng.integers(0, 60, n_demand).astype(float)
    units = rng.integers(0, 4, n_demand)
    if not capacitated:
        return SitingProblem(weights, cover, rng.random(n_demand) < 0.15, unit_of_demand=units)
    capacity = rng.integers(20, 150, n_cand).astype(float)
    if not with_existing:
        return SitingProblem(
            weights,
            cover,
            rng.random(n_demand) < 0.15,
            candidate_capacity_pop=capacity,
            unit_of_demand=units,
        )
    existing = sp.csr_matrix(rng.random((n_demand, 2)) < 0.15)
    covered = np.asarray(existing.getnnz(axis=1) > 0)
    return SitingProblem(
        weights,
        cover,
        covered,
        candidate_capacity_pop=capacity,
        existing_cover=existing,
        existing_capacity_pop=np.array([40.0, 60.0]),
        unit_of_demand=units,
    )


def _best_subset_value(problem: SitingProblem, k: int) -> float:
    values = [
        compute_service(problem, list(s)).total_pop
        for size in range(k + 1)
        for s in itertools.combinations(range(problem.n_candidates), size)
    ]
    return max(values)


def _smallest_cover(problem: SitingProblem, is_feasible: object) -> int:
    for size in range(problem.n_candidates + 1):
        if any(
            is_feasible(list(s)) for s in itertools.combinations(range(problem.n_candidates), size)
        ):  # type: ignore[operator]
            return size
    raise AssertionError


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("k", [1, 2, 4])
def test_mclp_equals_exhaustive_search(seed: int, k: int) -> None:
    problem = _random_problem(seed)
    result = solve_mclp(problem, k)
    assert result.status == "optimal"
    assert result.objective == pytest.approx(_best_subset_value(problem, k))
    assert result.covered_after_pop == pytest.approx(problem.covered_pop(result.chosen))
    assert len(result.sites) <= k


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("with_existing", [False, True])
def test_capacitated_mclp_equals_exhaustive_search(seed: int, with_existing: bool) -> None:
    problem = _random_problem(seed, n_cand=6, capacitated=True, with_existing=with_existing)
    result = solve_mclp(problem, 2)
    assert result.objective == pytest.approx(_best_subset_value(problem, 2), abs=1e-5)
    assert result.capacitated


@pytest.mark.parametrize("seed", range(4))
def test_capacity_never_exceeded_and_existing_kept(seed: int) -> None:
    problem = _random_problem(seed, n_cand=6, capacitated=True, with_existing=True)
    result = solve_mclp(problem, 3)
    assert result.candidate_load_pop is not None and result.existing_load_pop is not None
    assert problem.candidate_capacity_pop is not None and problem.existing_capacity_pop is not None
    assert (result.candidate_load_pop <= problem.candidate_capacity_pop + 1e-6).all()
    assert (result.existing_load_pop <= problem.existing_capacity_pop + 1e-6).all()
    closed = np.setdiff1d(np.arange(problem.n_candidates), result.chosen)
    assert np.allclose(result.candidate_load_pop[closed], 0.0)
    assert (result.demand_served_pop <= problem.weights_pop + 1e-6).all()
    # served only within reach of an open facility
    reach = problem.covered_mask(result.chosen)
    assert np.allclose(result.demand_served_pop[~reach], 0.0)
    assert result.covered_after_pop >= result.covered_before_pop - 1e-6


@pytest.mark.parametrize("seed", range(5))
def test_existing_coverage_is_never_dropped(seed: int) -> None:
    problem = _random_problem(seed)
    for k in (0, 1, 3):
        result = solve_mclp(problem, k)
        covered = result.demand_served_pop > 0
        assert covered[problem.existing_covered & (problem.weights_pop > 0)].all()
        assert result.covered_before_pop == pytest.approx(problem.covered_pop([]))


@pytest.mark.parametrize("seed", range(5))
def test_sites_ranked_by_marginal_gain(seed: int) -> None:
    problem = _random_problem(seed)
    result = solve_mclp(problem, 4)
    gains = [s.gain_pop for s in result.sites]
    assert gains == sorted(gains, reverse=True)
    assert [s.rank for s in result.sites] == list(range(1, len(gains) + 1))
    assert sum(gains) == pytest.approx(result.covered_gain_pop)
    first = result.sites[0]
    assert first.gain_pop == pytest.approx(
        max(problem.covered_pop([j]) for j in result.chosen) - problem.covered_pop([])
    )


@pytest.mark.parametrize("seed", range(6))
def test_lscp_equals_exhaustive_search(seed: int) -> None:
    problem = _random_problem(seed)
    full = problem.covered_mask(range(problem.n_candidates)) & (problem.weights_pop > 0)

    def feasible(sites: list[int]) -> bool:
        return bool(problem.covered_mask(sites)[full].all())

    result = solve_set_cover(problem)
    assert result.objective == _smallest_cover(problem, feasible)
    assert feasible(list(result.chosen))


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("share", [0.5, 0.9])
def test_unit_target_equals_exhaustive_search(seed: int, share: float) -> None:
    problem = _random_problem(seed)
    assert problem.unit_of_demand is not None
    total = np.bincount(problem.unit_of_demand, weights=problem.weights_pop)
    reach = np.bincount(
        problem.unit_of_demand,
        weights=np.where(problem.covered_mask(range(problem.n_candidates)), problem.weights_pop, 0),
    )
    goal = np.minimum(share * total, reach)

    def feasible(sites: list[int]) -> bool:
        got = np.bincount(
            problem.unit_of_demand,
            weights=np.where(problem.covered_mask(sites), problem.weights_pop, 0),
        )
        return bool((got >= goal - 1e-6).all())

    result = solve_set_cover(problem, target_share=share)
    assert result.objective == _smallest_cover(problem, feasible)
    assert feasible(list(result.chosen))
    unreachable = set(np.flatnonzero(reach < share * total - 1e-6).tolist())
    assert set(result.units_unreachable) == unreachable
    assert set(result.units_at_target) == set(range(total.size)) - unreachable
    brought = {u for s in result.sites for u in s.units_to_target}
    assert brought <= set(result.units_at_target)


@pytest.mark.parametrize("seed", range(3))
def test_capacitated_set_cover_reaches_max_service(seed: int) -> None:
    problem = _random_problem(seed, n_cand=6, capacitated=True, with_existing=True)
    best = compute_service(problem, list(range(problem.n_candidates))).total_pop

    def feasible(sites: list[int]) -> bool:
        return compute_service(problem, sites).total_pop >= best - 1e-5

    result = solve_set_cover(problem)
    assert result.objective == _smallest_cover(problem, feasible)
    assert result.covered_after_pop == pytest.approx(best, abs=1e-5)


@pytest.mark.parametrize("seed", range(3))
def test_lp_bound_dominates_exact(seed: int) -> None:
    problem = _random_problem(seed)
    assert compute_lp_bound(problem, k=3) >= solve_mclp(problem, 3).objective - 1e-6
    assert compute_lp_bound(problem) <= solve_set_cover(problem).objective
    capped = _random_problem(seed, n_cand=6, capacitated=True)
    assert compute_lp_bound(capped, k=2) >= solve_mclp(capped, 2).objective - 1e-6


def test_trivial_instances() -> None:
    empty = SitingProblem(np.ones(3), sp.csr_matrix((3, 2), dtype=bool), np.zeros(3, dtype=bool))
    result = solve_mclp(empty, 2)
    assert result.sites == () and result.objective == 0.0
    assert solve_set_cover(empty).objective == 0.0


def test_bad_arguments_raise() -> None:
    problem = _random_problem(0)
    with pytest.raises(InputDataError, match="k="):
        solve_mclp(problem, -2)
    with pytest.raises(SitingError, match="time_limit_s"):
        solve_mclp(problem, 2, time_limit_s=0)
    no_units = SitingProblem(problem.weights_pop, problem.cover, problem.existing_covered)
    with pytest.raises(InputDataError, match="unit_of_demand"):
        solve_set_cover(no_units, target_share=0.8)
