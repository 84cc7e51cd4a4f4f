"""Older adults covered, or served under capacity, with a given set of open sites.

Uncapacitated, a demand point is covered in full when an open site covers it. Capacitated, older
adults are assigned to the facilities that cover them by an LP (see :mod:`planner.siting.flow`)
that maximises the total served; the per-unit targets of unit-target models come from the same
assignment with every candidate open.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from planner.errors import SitingError
from planner.siting.flow import build_flow_constraints, flow_row_bounds
from planner.siting.problem import TOL_POP, SitingProblem
from planner.siting.reduction import (
    ReducedProblem,
    reduce_problem,
    sum_by_index,
    unit_base_pop,
    unit_count,
)
from planner.siting.solver import LinearModel, solve_linear


@dataclass(frozen=True, slots=True)
class ServiceResult:
    """Older adults covered or served with a given set of open candidates.

    Parameters
    ----------
    total_pop
        Older adults covered (uncapacitated) or served (capacitated) in total.
    demand_served_pop
        Per demand point, shape ``(n_demand,)``.
    unit_served_pop
        Per unit (``unit_of_demand`` value), or an empty array without units.
    candidate_load_pop, existing_load_pop
        Older adults assigned per candidate and existing facility; ``None`` if uncapacitated.
    """

    total_pop: float
    demand_served_pop: NDArray[np.float64]
    unit_served_pop: NDArray[np.float64]
    candidate_load_pop: NDArray[np.float64] | None
    existing_load_pop: NDArray[np.float64] | None


def compute_service(
    problem: SitingProblem,
    open_candidates: Sequence[int],
    *,
    unit_cap_pop: NDArray[np.float64] | None = None,
    reduced: ReducedProblem | None = None,
) -> ServiceResult:
    """Older adults covered, or served under capacity, with ``open_candidates`` and existing open.

    Parameters
    ----------
    problem
        The siting problem.
    open_candidates
        Candidate indices to open.
    unit_cap_pop
        Capacitated only: per-unit older adults beyond which service is not rewarded, so the
        assignment maximises :math:`\\sum_u \\min(\\text{served}_u, \\text{cap}_u)` first.
    reduced
        A precomputed ``reduce_problem(problem)``, to save time in loops.

    Returns
    -------
    ServiceResult
        Totals, per demand point, per unit and per facility loads.
    """
    if not problem.is_capacitated:
        served = np.where(problem.covered_mask(open_candidates), problem.weights_pop, 0.0)
        return ServiceResult(float(served.sum()), served, _unit_pop(problem, served), None, None)
    red = reduced if reduced is not None else reduce_problem(problem)
    return _capacitated_service(problem, red, open_candidates, unit_cap_pop)


def _unit_pop(problem: SitingProblem, served: NDArray[np.float64]) -> NDArray[np.float64]:
    """Per unit sum of ``served`` (one value per demand point); empty without units."""
    units = problem.unit_of_demand
    return np.zeros(0) if units is None else sum_by_index(units, served, unit_count(problem))


def _assignment_model(
    problem: SitingProblem,
    red: ReducedProblem,
    open_candidates: Sequence[int],
    unit_cap_pop: NDArray[np.float64] | None,
) -> LinearModel:
    """LP assigning older adults to ``open_candidates`` and existing sites, most served first."""
    n = problem.n_candidates
    k_units = 0 if unit_cap_pop is None else unit_cap_pop.size
    if unit_cap_pop is not None:
        unit_cap_pop = np.maximum(unit_cap_pop - unit_base_pop(problem, red), 0.0)
    matrix, nc, ne = build_flow_constraints(red, k_units)
    is_open = np.zeros(n)
    is_open[np.asarray(list(open_candidates), dtype=np.int64)] = 1.0
    n_col = n + nc + ne + k_units
    lower = np.concatenate([is_open, np.zeros(nc + ne + k_units)])
    upper = np.concatenate(
        [is_open, np.full(nc + ne, np.inf), np.zeros(0) if unit_cap_pop is None else unit_cap_pop]
    )
    cost = np.concatenate([np.zeros(n), np.ones(nc + ne), np.zeros(k_units)])
    if k_units:
        cost = cost * 1e-4
        cost[n + nc + ne :] = 1.0
    rows = flow_row_bounds(red, k_units)
    return LinearModel(cost, (lower, upper), matrix, rows, np.zeros(n_col, dtype=bool), True, 0.0)


def _capacitated_service(
    problem: SitingProblem,
    red: ReducedProblem,
    open_candidates: Sequence[int],
    unit_cap_pop: NDArray[np.float64] | None,
) -> ServiceResult:
    model = _assignment_model(problem, red, open_candidates, unit_cap_pop)
    n_col = model.cost.size
    if model.matrix.shape[0] == 0 or n_col == 0:
        x = np.zeros(n_col)
    else:
        x = solve_linear(model, relax=False, time_limit_s=600.0).x
    n = problem.n_candidates
    cov, ex = red.cover.tocoo(), (red.existing.tocoo() if red.existing is not None else None)
    nc, ne = cov.nnz, (0 if ex is None else ex.nnz)
    xn, xe = x[n : n + nc], x[n + nc : n + nc + ne]
    row_served = sum_by_index(cov.row, xn, red.n_rows)
    cand_load = sum_by_index(cov.col, xn, n)
    ex_load = np.zeros(problem.n_existing)
    if ex is not None:
        row_served += sum_by_index(ex.row, xe, red.n_rows)
        ex_load = sum_by_index(ex.col, xe, problem.n_existing)
    served = _demand_pop_from_rows(problem, red, row_served)
    return ServiceResult(
        float(served.sum()), served, _unit_pop(problem, served), cand_load, ex_load
    )


def _demand_pop_from_rows(
    problem: SitingProblem, red: ReducedProblem, row_served: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Spread the older adults served per reduced row back over its demand points."""
    served = (
        np.where(problem.existing_covered, problem.weights_pop, 0.0)
        if red.existing is None
        else np.zeros(problem.n_demand)
    )
    inside = red.row_of_demand >= 0
    rows = red.row_of_demand[inside]
    share = np.divide(
        row_served, red.weight_pop, out=np.zeros_like(row_served), where=red.weight_pop > 0
    )
    served[inside] = problem.weights_pop[inside] * np.clip(share[rows], 0.0, 1.0)
    return served


def compute_unit_targets(
    problem: SitingProblem, red: ReducedProblem, target_share: float
) -> tuple[NDArray[np.float64], NDArray[np.float64], tuple[int, ...]]:
    """Per unit: target and achievable older adults (all candidates open), and unreachable units.

    ``achievable`` is ``min(target, reachable)`` with reachable the covered (or best-assigned
    served) older adults when every candidate is open; units where it falls short are unreachable.

    Parameters
    ----------
    problem
        The siting problem, with ``unit_of_demand``.
    red
        Its reduced form.
    target_share
        Share of each unit's older adults to reach, in (0, 1].

    Returns
    -------
    tuple
        ``target`` and ``achievable`` older adults per unit, and the unreachable units.

    Raises
    ------
    SitingError
        If the problem has no units.
    """
    units, w, n_units = problem.unit_of_demand, problem.weights_pop, unit_count(problem)
    if units is None:
        msg = (
            "unit-target model needs SitingProblem.unit_of_demand; give each demand point its unit"
        )
        raise SitingError(msg)
    target = target_share * sum_by_index(units, w, n_units)
    every = range(problem.n_candidates)
    reach = compute_service(problem, every, unit_cap_pop=target, reduced=red).unit_served_pop
    achievable = np.minimum(target, reach)
    unreachable = tuple(int(u) for u in np.flatnonzero(achievable < target - TOL_POP))
    return target, achievable, unreachable
