"""Exact maximal-coverage and set-cover models on HiGHS (highspy); the only solver import.

Notes
-----
Let :math:`w_i` be the older adults at demand row :math:`i`, :math:`a_{ij} = 1` when candidate
:math:`j` covers row :math:`i`, :math:`y_j \\in \\{0, 1\\}` open candidate :math:`j`, and
:math:`z_i \\in [0, 1]` row :math:`i` newly covered. Rows already covered by existing facilities
and rows no candidate covers are dropped; rows with equal patterns are aggregated.

MCLP (Church and ReVelle 1974), existing facilities fixed:

.. math:: \\max \\sum_i w_i z_i \\quad z_i \\le \\sum_j a_{ij} y_j, \\quad \\sum_j y_j \\le k.

LSCP (Toregas et al. 1971): :math:`\\min \\sum_j y_j` s.t. :math:`\\sum_j a_{ij} y_j \\ge 1`
for every coverable row. Unit target: for each unit :math:`u` with older adults :math:`W_u`,
:math:`\\sum_{i \\in u} w_i z_i \\ge \\min(t W_u, R_u) - B_u`, where :math:`R_u` is the largest
reachable covered population (all candidates open) and :math:`B_u` that covered by existing sites.

Capacitated (served, not covered): :math:`x_{ie} \\ge 0` older adults of row :math:`i` assigned to
facility :math:`e` (candidate or existing) with :math:`a_{ie} = 1`;
:math:`\\sum_e x_{ie} \\le w_i`, :math:`\\sum_i x_{ij} \\le c_j y_j` (candidates),
:math:`\\sum_i x_{ie} \\le c_e` (existing, always open); the MCLP objective is
:math:`\\max \\sum x`. Capacitated targets are the per-unit service of an LP with all candidates
open that maximises :math:`\\sum_u \\min(\\text{served}_u, t W_u)`; the MILP then minimises
:math:`\\sum_j y_j` subject to reaching them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

import highspy
import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from planner.errors import SitingError
from planner.siting.model import (
    TOL_POP,
    ChosenSite,
    LinearModel,
    Method,
    ModelName,
    ReducedProblem,
    ServiceResult,
    SitingProblem,
    SitingResult,
    build_flow_constraints,
    build_mclp_model,
    check_k,
    check_target,
    flow_row_bounds,
    rank_by_marginal_gain,
    rank_covering_sites,
    reduce_problem,
    unit_base_pop,
    unit_count,
)

logger = logging.getLogger(__name__)

_STATUS = {
    highspy.HighsModelStatus.kOptimal: "optimal",
    highspy.HighsModelStatus.kTimeLimit: "time_limit",
    highspy.HighsModelStatus.kInterrupt: "time_limit",
    highspy.HighsModelStatus.kInfeasible: "infeasible",
    highspy.HighsModelStatus.kModelEmpty: "optimal",
}


@dataclass(frozen=True, slots=True)
class _Solution:
    status: str
    x: NDArray[np.float64]
    objective: float
    bound: float
    gap: float
    runtime_s: float


def _run_highs(
    cost: NDArray[np.float64],
    bounds: tuple[NDArray[np.float64], NDArray[np.float64]],
    matrix: sp.spmatrix,
    rows: tuple[NDArray[np.float64], NDArray[np.float64]],
    integer: NDArray[np.bool_],
    *,
    maximise: bool,
    time_limit_s: float,
) -> _Solution:
    csc = sp.csc_matrix(matrix, dtype=np.float64)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = int(cost.size), int(csc.shape[0])
    lp.col_cost_, lp.col_lower_, lp.col_upper_ = cost, bounds[0], bounds[1]
    lp.row_lower_, lp.row_upper_ = rows[0], rows[1]
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = csc.indptr.astype(np.int32)
    lp.a_matrix_.index_ = csc.indices.astype(np.int32)
    lp.a_matrix_.value_ = csc.data
    lp.sense_ = highspy.ObjSense.kMaximize if maximise else highspy.ObjSense.kMinimize
    is_mip = bool(integer.any())
    if is_mip:
        kinds = (highspy.HighsVarType.kContinuous, highspy.HighsVarType.kInteger)
        lp.integrality_ = [kinds[int(b)] for b in integer]
    solver = highspy.Highs()
    solver.setOptionValue("output_flag", False)
    solver.setOptionValue("time_limit", float(time_limit_s))
    solver.setOptionValue("mip_rel_gap", 1e-6)
    solver.passModel(lp)
    start = time.perf_counter()
    solver.run()
    runtime_s = time.perf_counter() - start
    status = _STATUS.get(solver.getModelStatus(), "error")
    info = solver.getInfo()
    has_x = info.primal_solution_status == 2
    if status in ("infeasible", "error") or not has_x:
        name = solver.modelStatusToString(solver.getModelStatus())
        msg = (
            f"HiGHS found no solution (status {name!r}) in {time_limit_s} s; "
            "raise time_limit_s or use greedy"
        )
        raise SitingError(msg)
    x = np.asarray(solver.getSolution().col_value, dtype=np.float64)
    objective = float(info.objective_function_value)
    bound = float(info.mip_dual_bound) if is_mip else objective
    gap = float(info.mip_gap) if is_mip else 0.0
    return _Solution(status, x, objective, bound, gap, runtime_s)


def _demand_pop_from_rows(
    problem: SitingProblem, red: ReducedProblem, row_served: NDArray[np.float64]
) -> NDArray[np.float64]:
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
    n_units = unit_count(problem)
    units = problem.unit_of_demand
    if not problem.is_capacitated:
        served = np.where(problem.covered_mask(open_candidates), problem.weights_pop, 0.0)
        per_unit = (
            np.bincount(units, weights=served, minlength=n_units)
            if units is not None
            else np.zeros(0)
        )
        return ServiceResult(float(served.sum()), served, per_unit, None, None)
    red = reduced if reduced is not None else reduce_problem(problem)
    return _capacitated_service(problem, red, open_candidates, unit_cap_pop)


def _capacitated_service(
    problem: SitingProblem,
    red: ReducedProblem,
    open_candidates: Sequence[int],
    unit_cap_pop: NDArray[np.float64] | None,
) -> ServiceResult:
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
    if matrix.shape[0] == 0 or n_col == 0:
        x = np.zeros(n_col)
    else:
        x = _run_highs(
            cost,
            (lower, upper),
            matrix,
            flow_row_bounds(red, k_units),
            np.zeros(n_col, dtype=bool),
            maximise=True,
            time_limit_s=600.0,
        ).x
    cov, ex = red.cover.tocoo(), (red.existing.tocoo() if red.existing is not None else None)
    xn, xe = x[n : n + nc], x[n + nc : n + nc + ne]
    row_served = np.bincount(cov.row, weights=xn, minlength=red.n_rows)
    cand_load = np.bincount(cov.col, weights=xn, minlength=n)
    ex_load = np.zeros(problem.n_existing)
    if ex is not None:
        row_served += np.bincount(ex.row, weights=xe, minlength=red.n_rows)
        ex_load = np.bincount(ex.col, weights=xe, minlength=problem.n_existing)
    served = _demand_pop_from_rows(problem, red, row_served)
    units = problem.unit_of_demand
    per_unit = (
        np.bincount(units, weights=served, minlength=unit_count(problem))
        if units is not None
        else np.zeros(0)
    )
    return ServiceResult(float(served.sum()), served, per_unit, cand_load, ex_load)


def compute_unit_targets(
    problem: SitingProblem, red: ReducedProblem, target_share: float
) -> tuple[NDArray[np.float64], NDArray[np.float64], tuple[int, ...]]:
    """Per unit: target and achievable older adults (all candidates open), and unreachable units.

    ``achievable`` is ``min(target, reachable)`` with reachable the covered (or best-assigned
    served) older adults when every candidate is open; units where it falls short are unreachable.
    """
    units, w, n_units = problem.unit_of_demand, problem.weights_pop, unit_count(problem)
    if units is None:
        msg = (
            "unit-target model needs SitingProblem.unit_of_demand; give each demand point its unit"
        )
        raise SitingError(msg)
    target = target_share * np.bincount(units, weights=w, minlength=n_units)
    every = range(problem.n_candidates)
    reach = compute_service(problem, every, unit_cap_pop=target, reduced=red).unit_served_pop
    achievable = np.minimum(target, reach)
    unreachable = tuple(int(u) for u in np.flatnonzero(achievable < target - TOL_POP))
    return target, achievable, unreachable


def _build_cover(
    problem: SitingProblem, red: ReducedProblem, target_share: float | None
) -> LinearModel:
    n, inf = problem.n_candidates, highspy.kHighsInf
    if target_share is None and not problem.is_capacitated:
        m = red.n_rows
        cost = np.ones(n)
        return LinearModel(
            cost,
            (np.zeros(n), np.ones(n)),
            red.cover,
            (np.ones(m), np.full(m, inf)),
            np.ones(n, dtype=bool),
            False,
            0.0,
        )
    share = 1.0 if target_share is None else target_share
    target, achievable, unreachable = compute_unit_targets(problem, red, share)
    need = np.maximum(achievable - unit_base_pop(problem, red) - TOL_POP, 0.0)
    if problem.is_capacitated:
        flow, nc, ne = build_flow_constraints(red, need.size)
        lower, upper = flow_row_bounds(red, need.size)
        cost = np.concatenate([np.ones(n), np.zeros(nc + ne + need.size)])
        col_lo = np.concatenate([np.zeros(n + nc + ne), need])
        col_hi = np.concatenate([np.ones(n), np.full(nc + ne, inf), need])
        matrix, rows = flow, (lower, upper)
    else:
        m = red.n_rows
        unit = red.unit if red.unit is not None else np.zeros(m, dtype=np.int64)
        unit_rows = sp.coo_matrix((red.weight_pop, (unit, np.arange(m))), (need.size, m))
        matrix = sp.vstack(
            [
                sp.hstack([-red.cover, sp.identity(m)]),
                sp.hstack([sp.coo_matrix((need.size, n)), unit_rows]),
            ]
        )
        rows = (
            np.concatenate([np.full(m, -inf), need]),
            np.concatenate([np.zeros(m), np.full(need.size, inf)]),
        )
        cost = np.concatenate([np.ones(n), np.zeros(m)])
        col_lo, col_hi = np.zeros(n + m), np.ones(n + m)
    integer = np.zeros(cost.size, dtype=bool)
    integer[:n] = True
    return LinearModel(cost, (col_lo, col_hi), matrix, rows, integer, False, 0.0, unreachable)


def _solve_model(model: LinearModel, *, relax: bool, time_limit_s: float) -> _Solution:
    integer = np.zeros_like(model.integer) if relax else model.integer
    return _run_highs(
        model.cost,
        model.bounds,
        model.matrix,
        model.rows,
        integer,
        maximise=model.maximise,
        time_limit_s=time_limit_s,
    )


def _check_time_limit(time_limit_s: float) -> None:
    if not (np.isfinite(time_limit_s) and time_limit_s > 0):
        msg = f"time_limit_s={time_limit_s!r} must be a positive number of seconds; e.g. 60"
        raise SitingError(msg)


def _cover_problem(problem: SitingProblem, target_share: float | None) -> SitingProblem:
    """Plain capacitated LSCP is the unit-target model with one unit and a target of 1."""
    if target_share is None and problem.is_capacitated:
        return replace(problem, unit_of_demand=np.zeros(problem.n_demand, dtype=np.int64))
    return problem


def compute_lp_bound(
    problem: SitingProblem,
    *,
    k: int | None = None,
    target_share: float | None = None,
    time_limit_s: float = 600.0,
) -> float:
    """LP-relaxation bound: an upper bound on MCLP coverage, a lower bound on set-cover sites.

    Parameters
    ----------
    problem
        The siting problem.
    k
        Number of new sites for MCLP; ``None`` means a set-cover model.
    target_share
        Unit target share for the unit-target model; ``None`` with ``k=None`` means plain LSCP.
    time_limit_s
        HiGHS time limit in seconds.

    Returns
    -------
    float
        MCLP: older adults covered or served (including existing); set cover: sites (rounded up).

    Raises
    ------
    SitingError
        If the LP is not solved to optimality within ``time_limit_s`` (no valid bound).
    """
    _check_time_limit(time_limit_s)
    if k is not None:
        problem_k = check_k(k, problem)
        model = build_mclp_model(problem, reduce_problem(problem), problem_k)
        return (
            _optimal(_solve_model(model, relax=True, time_limit_s=time_limit_s), time_limit_s)
            + model.offset
        )
    if target_share is not None:
        check_target(target_share, problem)
    cover_problem = _cover_problem(problem, target_share)
    model = _build_cover(cover_problem, reduce_problem(cover_problem), target_share)
    return float(
        np.ceil(
            _optimal(_solve_model(model, relax=True, time_limit_s=time_limit_s), time_limit_s)
            - 1e-6
        )
    )


def _optimal(solution: _Solution, time_limit_s: float) -> float:
    """Objective of a relaxation, which is a valid bound only when solved to optimality."""
    if solution.status != "optimal":
        msg = (
            f"LP relaxation not solved within time_limit_s={time_limit_s} "
            f"({solution.status}); raise the limit"
        )
        raise SitingError(msg)
    return solution.objective


def solve_mclp(problem: SitingProblem, k: int, *, time_limit_s: float = 60.0) -> SitingResult:
    """Choose up to ``k`` new sites maximising older adults covered (or served), existing fixed.

    Parameters
    ----------
    problem
        The siting problem; capacitated when it has ``candidate_capacity_pop``.
    k
        Number of new sites (capped at the number of candidates). Sites that add nothing are
        not proposed, so fewer than ``k`` may be returned.
    time_limit_s
        HiGHS time limit in seconds; on timeout the best solution found is returned with its gap.

    Returns
    -------
    SitingResult
        ``method="exact"``; ``objective`` and ``bound`` in older adults, including existing cover.

    Raises
    ------
    InputDataError
        If ``k`` is not a whole number >= 0.
    SitingError
        If HiGHS finds no feasible solution within the time limit.
    """
    _check_time_limit(time_limit_s)
    k = check_k(k, problem)
    red = reduce_problem(problem)
    model = build_mclp_model(problem, red, k)
    sol = _solve_model(model, relax=False, time_limit_s=time_limit_s)
    chosen = np.flatnonzero(sol.x[: problem.n_candidates] > 0.5).tolist()
    logger.info("exact MCLP k=%d: %s in %.2f s, gap %.2g", k, sol.status, sol.runtime_s, sol.gap)
    return assemble_result(
        problem,
        "mclp",
        "exact",
        chosen,
        status=sol.status,
        bound=sol.bound + model.offset,
        runtime_s=sol.runtime_s,
        reduced=red,
    )


def solve_set_cover(
    problem: SitingProblem, *, target_share: float | None = None, time_limit_s: float = 60.0
) -> SitingResult:
    """Fewest new sites so all coverable demand is covered, or every unit reaches ``target_share``.

    Parameters
    ----------
    problem
        The siting problem; capacitated when it has ``candidate_capacity_pop`` (then "covered"
        means served, and the target is the largest service reachable with all candidates open).
    target_share
        ``None`` for LSCP; otherwise the share (0, 1] of each unit's older adults to cover. Units
        that cannot reach it get their largest reachable share and are listed in
        ``units_unreachable``.
    time_limit_s
        HiGHS time limit in seconds.

    Returns
    -------
    SitingResult
        ``objective`` and ``bound`` count sites.

    Raises
    ------
    InputDataError
        If ``target_share`` is outside (0, 1] or the problem has no units.
    SitingError
        If HiGHS finds no feasible solution within the time limit.
    """
    _check_time_limit(time_limit_s)
    if target_share is not None:
        check_target(target_share, problem)
    cover_problem = _cover_problem(problem, target_share)
    red = reduce_problem(cover_problem)
    model = _build_cover(cover_problem, red, target_share)
    sol = _solve_model(model, relax=False, time_limit_s=time_limit_s)
    chosen = np.flatnonzero(sol.x[: problem.n_candidates] > 0.5).tolist()
    name: ModelName = "lscp" if target_share is None else "unit_target"
    logger.info("exact %s: %d sites, %s in %.2f s", name, len(chosen), sol.status, sol.runtime_s)
    return assemble_result(
        problem,
        name,
        "exact",
        chosen,
        status=sol.status,
        bound=sol.bound,
        runtime_s=sol.runtime_s,
        target_share=target_share,
        unreachable=model.unreachable if target_share is not None else (),
    )


def _ranked_sites(
    problem: SitingProblem, chosen: Sequence[int], red: ReducedProblem, *, is_ranked: bool
) -> list[tuple[int, float]]:
    if not problem.is_capacitated:
        return rank_covering_sites(problem, chosen, is_ranked=is_ranked)

    def served(open_sites: list[int]) -> float:
        return compute_service(problem, open_sites, reduced=red).total_pop

    if len(chosen) <= 12 and not is_ranked:
        return rank_by_marginal_gain(chosen, served)
    order = list(chosen)
    if not is_ranked:
        alone = [served([j]) for j in order]
        order = [order[t] for t in np.argsort(alone, kind="stable")[::-1]]
    values = [served(order[:t]) for t in range(len(order) + 1)]
    return [(j, values[t + 1] - values[t]) for t, j in enumerate(order)]


def assemble_result(
    problem: SitingProblem,
    model: ModelName,
    method: Method,
    chosen: Sequence[int],
    *,
    status: str,
    bound: float,
    runtime_s: float,
    target_share: float | None = None,
    unreachable: tuple[int, ...] = (),
    reduced: ReducedProblem | None = None,
    is_ranked: bool = False,
) -> SitingResult:
    """Rank ``chosen`` by marginal gain and measure before/after coverage into a ``SitingResult``.

    With ``is_ranked=True`` the order of ``chosen`` is kept and gains are prefix differences.
    """
    red = reduced if reduced is not None else reduce_problem(problem)
    ranked = _ranked_sites(problem, chosen, red, is_ranked=is_ranked)
    if model == "mclp" or not problem.is_capacitated:
        ranked = [(j, g) for j, g in ranked if g > TOL_POP]
    order = [j for j, _ in ranked]
    target = None
    if target_share is not None and problem.unit_of_demand is not None:
        target = target_share * np.bincount(problem.unit_of_demand, weights=problem.weights_pop)
    reached = [_at_target(problem, order[:t], target, red) for t in range(len(order) + 1)]
    sites = tuple(
        ChosenSite(int(j), t + 1, float(g), tuple(sorted(reached[t + 1] - reached[t])))
        for t, (j, g) in enumerate(ranked)
    )
    before = compute_service(problem, [], reduced=red)
    after = compute_service(problem, order, reduced=red)
    objective = after.total_pop if model == "mclp" else float(len(sites))
    gap = abs(bound - objective) / max(abs(bound), abs(objective), 1e-9)
    return SitingResult(
        model=model,
        method=method,
        capacitated=problem.is_capacitated,
        sites=sites,
        status=status,
        objective=objective,
        bound=float(bound),
        gap=float(gap),
        runtime_s=float(runtime_s),
        total_pop=float(problem.weights_pop.sum()),
        covered_before_pop=before.total_pop,
        covered_after_pop=after.total_pop,
        demand_served_pop=after.demand_served_pop,
        candidate_load_pop=after.candidate_load_pop,
        existing_load_pop=after.existing_load_pop,
        target_share=target_share,
        units_at_target=tuple(sorted(reached[-1])),
        units_unreachable=unreachable,
    )


def _at_target(
    problem: SitingProblem,
    open_sites: list[int],
    target_pop: NDArray[np.float64] | None,
    red: ReducedProblem,
) -> set[int]:
    """Units whose covered (or, capacitated, best-assigned served) older adults reach the target."""
    if target_pop is None:
        return set()
    service = compute_service(problem, open_sites, unit_cap_pop=target_pop, reduced=red)
    return {int(u) for u in np.flatnonzero(service.unit_served_pop >= target_pop - TOL_POP)}
