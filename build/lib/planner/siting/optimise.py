"""Exact maximal-coverage and set-cover solves (HiGHS), and their LP-relaxation bounds.

The models are built in :mod:`planner.siting.formulation` (see its Notes) and solved by
:mod:`planner.siting.solver`.
"""

from __future__ import annotations

import logging
from dataclasses import replace

import numpy as np

from planner.errors import SitingError
from planner.siting.formulation import build_cover_model, build_mclp_model
from planner.siting.problem import SitingProblem, check_k, check_target
from planner.siting.reduction import reduce_problem
from planner.siting.result import ModelName, SitingResult, assemble_result
from planner.siting.service import ServiceResult, compute_service, compute_unit_targets
from planner.siting.solver import Solution, solve_linear

# ServiceResult, compute_service, compute_unit_targets and assemble_result now live in
# planner.siting.service and planner.siting.result; they stay importable from here.
__all__ = [
    "ServiceResult",
    "assemble_result",
    "compute_lp_bound",
    "compute_service",
    "compute_unit_targets",
    "solve_mclp",
    "solve_set_cover",
]

logger = logging.getLogger(__name__)


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
            _optimal(solve_linear(model, relax=True, time_limit_s=time_limit_s), time_limit_s)
            + model.offset
        )
    if target_share is not None:
        check_target(target_share, problem)
    cover_problem = _cover_problem(problem, target_share)
    model = build_cover_model(cover_problem, reduce_problem(cover_problem), target_share)
    return float(
        np.ceil(
            _optimal(solve_linear(model, relax=True, time_limit_s=time_limit_s), time_limit_s)
            - 1e-6
        )
    )


def _optimal(solution: Solution, time_limit_s: float) -> float:
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
    sol = solve_linear(model, relax=False, time_limit_s=time_limit_s)
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
    model = build_cover_model(cover_problem, red, target_share)
    sol = solve_linear(model, relax=False, time_limit_s=time_limit_s)
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
