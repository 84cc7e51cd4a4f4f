"""Greedy maximal-coverage and set-cover heuristics on sparse cover matrices, with bounds.

Notes
-----
Uncapacitated MCLP: repeatedly open the candidate :math:`j^*` with the largest marginal gain
:math:`g_j = \\sum_i a_{ij} w_i [i \\text{ uncovered}]`, then subtract the rows it covers from every
gain (:math:`g \\mathrel{-}= A_{R}^\\top w_R`), so the whole run costs :math:`O(\\mathrm{nnz}(A))`
sparse work. Coverage is submodular, so greedy reaches at least :math:`1 - 1/e` of the optimum
(Nemhauser, Wolsey and Fisher 1978); the LP relaxation gives an upper bound, so the gap is known.

Set cover and unit targets: gain :math:`g_j = \\sum_u \\min(d_u, M_{uj})`, with :math:`d_u` the
older adults unit :math:`u` still needs and :math:`M_{uj}` those of unit :math:`u` that :math:`j`
would newly cover (Chvátal 1979). Capacitated variants cap each gain by the candidate's capacity
and track the residual demand left by an optimal assignment (re-solved by LP each step for
targets); the reported objective is always re-measured by an optimal assignment.
"""

from __future__ import annotations

import logging
import time

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from planner.errors import SitingError
from planner.siting.model import (
    TOL_POP,
    ReducedProblem,
    SitingProblem,
    SitingResult,
    check_k,
    check_target,
    reduce_problem,
)
from planner.siting.optimise import (
    assemble_result,
    compute_lp_bound,
    compute_service,
    compute_unit_targets,
)

logger = logging.getLogger(__name__)


def _row_residual_pop(
    problem: SitingProblem, red: ReducedProblem, served_pop: NDArray[np.float64]
) -> NDArray[np.float64]:
    inside = red.row_of_demand >= 0
    served_rows = np.bincount(
        red.row_of_demand[inside], weights=served_pop[inside], minlength=red.n_rows
    )
    return np.maximum(red.weight_pop - served_rows, 0.0)


def _greedy_covering(
    cover: sp.csr_matrix, weight: NDArray[np.float64], k: int
) -> tuple[list[int], float]:
    """Uncapacitated greedy: ``k`` columns maximising covered row weight, updating gains sparsely.

    Also returns the online bound ``min_t f(S_t) + sum of the k largest gains at step t`` on the
    newly covered weight of any ``k`` columns (valid because coverage is submodular).
    """
    by_col = cover.tocsc()
    open_w = weight.copy()
    gains = np.asarray(by_col.T @ open_w).ravel()
    chosen: list[int] = []
    value, bound = 0.0, float("inf")
    for _ in range(k + 1):
        top = np.sort(np.maximum(gains, 0.0))[::-1][:k] if gains.size else np.zeros(0)
        bound = min(bound, value + float(top.sum()))
        j = int(np.argmax(gains)) if gains.size else 0
        if len(chosen) == k or not gains.size or gains[j] <= TOL_POP:
            break
        value += float(gains[j])
        rows = by_col.indices[by_col.indptr[j] : by_col.indptr[j + 1]]
        rows = rows[open_w[rows] > 0]
        gains -= np.asarray(cover[rows].T @ open_w[rows]).ravel()
        open_w[rows] = 0.0
        gains[j] = -np.inf
        chosen.append(j)
    return chosen, bound


def _greedy_capacitated(problem: SitingProblem, red: ReducedProblem, k: int) -> list[int]:
    """Capacitated greedy: gain ``min(capacity, residual demand in reach)``, proportional fill."""
    residual = _row_residual_pop(
        problem, red, compute_service(problem, [], reduced=red).demand_served_pop
    )
    cap = (
        red.candidate_capacity_pop
        if red.candidate_capacity_pop is not None
        else np.zeros(problem.n_candidates)
    )
    by_col = red.cover.tocsc()
    is_open = np.zeros(problem.n_candidates, dtype=bool)
    chosen: list[int] = []
    for _ in range(k):
        reach = np.asarray(by_col.T @ residual).ravel()
        gains = np.where(is_open, -np.inf, np.minimum(cap, reach))
        j = int(np.argmax(gains)) if gains.size else 0
        if not gains.size or gains[j] <= TOL_POP:
            break
        rows = by_col.indices[by_col.indptr[j] : by_col.indptr[j + 1]]
        residual[rows] *= 1.0 - min(1.0, cap[j] / reach[j])
        is_open[j] = True
        chosen.append(j)
    return chosen


def greedy_mclp(
    problem: SitingProblem, k: int, *, with_bound: bool = True, time_limit_s: float = 30.0
) -> SitingResult:
    """Greedy maximal coverage: up to ``k`` new sites, existing sites fixed, with an LP upper bound.

    Parameters
    ----------
    problem
        The siting problem; capacitated when it has ``candidate_capacity_pop``.
    k
        Number of new sites; fewer are returned once no candidate adds older adults.
    with_bound
        Also solve the LP relaxation (HiGHS) for an upper bound. Uncapacitated runs always carry
        the cheaper submodular online bound; the reported ``bound`` is the smaller valid one. If the
        LP misses its time limit the online bound is kept (capacitated: ``SitingError``).
        Without it, a capacitated ``bound`` is NaN.
    time_limit_s
        Time limit in seconds for the LP relaxation.

    Returns
    -------
    SitingResult
        ``method="greedy"``, ``status="heuristic"``; ``objective`` in older adults covered or
        served (an optimal assignment of the chosen sites), ``bound`` from the LP relaxation.

    Raises
    ------
    InputDataError
        If ``k`` is not a whole number >= 0.
    SitingError
        If a capacitated LP relaxation misses ``time_limit_s``.
    """
    k = check_k(k, problem)
    start = time.perf_counter()
    red = reduce_problem(problem)
    online = float("inf")
    if problem.is_capacitated:
        chosen = _greedy_capacitated(problem, red, k)
    else:
        chosen, gain_bound = _greedy_covering(red.cover, red.weight_pop, k)
        online = problem.covered_pop([]) + gain_bound
    runtime_s = time.perf_counter() - start
    bound = online if with_bound or online < np.inf else float("nan")
    if with_bound:
        try:
            bound = min(bound, compute_lp_bound(problem, k=k, time_limit_s=time_limit_s))
        except SitingError:
            logger.warning(
                "LP relaxation hit time_limit_s=%s; using the submodular greedy bound", time_limit_s
            )
            if not np.isfinite(bound):
                raise
    logger.info("greedy MCLP k=%d: %d sites in %.2f s", k, len(chosen), runtime_s)
    return assemble_result(
        problem,
        "mclp",
        "greedy",
        chosen,
        status="heuristic",
        bound=bound,
        runtime_s=runtime_s,
        reduced=red,
        is_ranked=True,
    )


def _greedy_targets(
    cover: sp.csr_matrix,
    unit: NDArray[np.int64],
    weight: NDArray[np.float64],
    need: NDArray[np.float64],
) -> list[int]:
    """Uncapacitated greedy for unit needs: gain ``sum_u min(need_u, newly covered in u)``."""
    m, n = cover.shape
    to_unit = sp.csr_matrix((weight, (unit, np.arange(m))), shape=(need.size, m))
    by_col = cover.tocsc()
    unit_gain = sp.csc_matrix(to_unit @ cover)
    deficit = need.copy()
    open_w = weight.copy()
    chosen: list[int] = []
    while (deficit > TOL_POP).any() and unit_gain.nnz:
        cols = np.repeat(np.arange(n), np.diff(unit_gain.indptr))
        gains = np.bincount(
            cols, weights=np.minimum(unit_gain.data, deficit[unit_gain.indices]), minlength=n
        )
        j = int(np.argmax(gains))
        if gains[j] <= TOL_POP:
            break
        rows = by_col.indices[by_col.indptr[j] : by_col.indptr[j + 1]]
        rows = rows[open_w[rows] > 0]
        newly = sp.csr_matrix((open_w[rows], (unit[rows], rows)), shape=(need.size, m))
        unit_gain = sp.csc_matrix(unit_gain - newly @ cover)
        unit_gain.eliminate_zeros()
        deficit = np.maximum(
            deficit - np.bincount(unit[rows], weights=open_w[rows], minlength=need.size), 0.0
        )
        open_w[rows] = 0.0
        chosen.append(j)
    return chosen


def _greedy_capacitated_targets(
    problem: SitingProblem,
    red: ReducedProblem,
    target: NDArray[np.float64],
    achievable: NDArray[np.float64],
) -> list[int]:
    """Capacitated greedy for unit targets; the assignment is re-optimised by LP after each pick."""
    unit = red.unit if red.unit is not None else np.zeros(red.n_rows, dtype=np.int64)
    cap = (
        red.candidate_capacity_pop
        if red.candidate_capacity_pop is not None
        else np.zeros(problem.n_candidates)
    )
    is_open = np.zeros(problem.n_candidates, dtype=bool)
    chosen: list[int] = []
    while not is_open.all():
        service = compute_service(problem, chosen, unit_cap_pop=target, reduced=red)
        deficit = np.maximum(achievable - service.unit_served_pop, 0.0)
        if (deficit <= 10 * TOL_POP).all():
            break
        residual = _row_residual_pop(problem, red, service.demand_served_pop)
        residual = np.where(deficit[unit] > 10 * TOL_POP, residual, 0.0)
        to_unit = sp.csr_matrix(
            (residual, (unit, np.arange(red.n_rows))), shape=(target.size, red.n_rows)
        )
        unit_gain = sp.csc_matrix(to_unit @ red.cover)
        cols = np.repeat(np.arange(problem.n_candidates), np.diff(unit_gain.indptr))
        capped = np.bincount(
            cols,
            weights=np.minimum(unit_gain.data, deficit[unit_gain.indices]),
            minlength=problem.n_candidates,
        )
        gains = np.where(is_open, -np.inf, np.minimum(cap, capped))
        j = int(np.argmax(gains))
        if gains[j] <= TOL_POP:
            reach = np.asarray(red.cover.T @ residual).ravel()
            gains = np.where(is_open, -np.inf, np.minimum(cap, reach))
            j = int(np.argmax(gains))
            if gains[j] <= TOL_POP:
                break
        is_open[j] = True
        chosen.append(j)
    return chosen


def greedy_set_cover(
    problem: SitingProblem,
    *,
    target_share: float | None = None,
    with_bound: bool = True,
    time_limit_s: float = 600.0,
) -> SitingResult:
    """Greedy set cover: add sites until every coverable demand (or every unit's target) is covered.

    Parameters
    ----------
    problem
        The siting problem; capacitated when it has ``candidate_capacity_pop``.
    target_share
        ``None`` for LSCP; otherwise the share (0, 1] of each unit's older adults to reach, or its
        largest reachable share (those units are listed in ``units_unreachable``).
    with_bound
        Solve the LP relaxation for a lower bound on the number of sites; otherwise NaN.
    time_limit_s
        Time limit in seconds for the LP relaxation.

    Returns
    -------
    SitingResult
        ``objective`` is the number of sites, ``bound`` the LP lower bound (rounded up).

    Raises
    ------
    InputDataError
        If ``target_share`` is outside (0, 1] or the problem has no units.
    """
    if target_share is not None:
        check_target(target_share, problem)
    start = time.perf_counter()
    share = 1.0 if target_share is None else target_share
    work = problem
    if target_share is None:
        units = np.arange(problem.n_demand, dtype=np.int64)
        if problem.is_capacitated:
            units = np.zeros(problem.n_demand, dtype=np.int64)
        work = SitingProblem(
            problem.weights_pop,
            problem.cover,
            problem.existing_covered,
            problem.candidate_capacity_pop,
            problem.existing_cover,
            problem.existing_capacity_pop,
            units,
        )
    red = reduce_problem(work)
    target, achievable, unreachable = compute_unit_targets(work, red, share)
    if work.is_capacitated:
        chosen = _greedy_capacitated_targets(work, red, target, achievable)
    else:
        base = np.bincount(
            work.unit_of_demand,
            weights=np.where(work.existing_covered, work.weights_pop, 0.0),
            minlength=target.size,
        )
        need = np.maximum(achievable - base - TOL_POP, 0.0)
        weight = red.weight_pop
        if target_share is None:
            weight, need = np.ones(red.n_rows), np.where(need > 0, 1.0 - TOL_POP, 0.0)
        unit = red.unit if red.unit is not None else np.zeros(red.n_rows, dtype=np.int64)
        chosen = _greedy_targets(red.cover, unit, weight, need)
    runtime_s = time.perf_counter() - start
    bound = (
        compute_lp_bound(problem, target_share=target_share, time_limit_s=time_limit_s)
        if with_bound
        else float("nan")
    )
    name = "lscp" if target_share is None else "unit_target"
    logger.info("greedy %s: %d sites in %.2f s", name, len(chosen), runtime_s)
    return assemble_result(
        problem,
        name,
        "greedy",
        chosen,
        status="heuristic",
        bound=bound,
        runtime_s=runtime_s,
        target_share=target_share,
        unreachable=unreachable if target_share is not None else (),
    )
