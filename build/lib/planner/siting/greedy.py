"""Greedy maximal-coverage and set-cover heuristics on sparse cover matrices, with bounds.

The pick loops and their gain rules are in :mod:`planner.siting.selection`; this module runs
them, bounds the result (the LP relaxation and, uncapacitated MCLP, the submodular online bound)
and assembles the :class:`~planner.siting.result.SitingResult`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace

import numpy as np
from numpy.typing import NDArray

from planner.errors import SitingError
from planner.siting.optimise import compute_lp_bound
from planner.siting.problem import TOL_POP, SitingProblem, check_k, check_target
from planner.siting.reduction import ReducedProblem, reduce_problem, unit_base_pop
from planner.siting.result import ModelName, SitingResult, assemble_result
from planner.siting.selection import (
    select_capacitated,
    select_capacitated_for_targets,
    select_covering,
    select_for_targets,
)
from planner.siting.service import compute_unit_targets

logger = logging.getLogger(__name__)


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
        chosen = select_capacitated(problem, red, k)
    else:
        chosen, gain_bound = select_covering(red.cover, red.weight_pop, k)
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
    work = _unit_target_problem(problem, target_share)
    red = reduce_problem(work)
    target, achievable, unreachable = compute_unit_targets(work, red, share)
    if work.is_capacitated:
        chosen = select_capacitated_for_targets(work, red, target, achievable)
    else:
        chosen = _select_covering_targets(work, red, achievable, count_rows=target_share is None)
    runtime_s = time.perf_counter() - start
    bound = (
        compute_lp_bound(problem, target_share=target_share, time_limit_s=time_limit_s)
        if with_bound
        else float("nan")
    )
    name: ModelName = "lscp" if target_share is None else "unit_target"
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


def _unit_target_problem(problem: SitingProblem, target_share: float | None) -> SitingProblem:
    """The unit-target problem greedy set cover works on.

    LSCP (no ``target_share``) makes every demand point its own unit when uncapacitated, and all
    demand one unit when capacitated (served, not covered, older adults count there).
    """
    if target_share is not None:
        return problem
    n = problem.n_demand
    units = np.zeros(n, dtype=np.int64) if problem.is_capacitated else np.arange(n, dtype=np.int64)
    return replace(problem, unit_of_demand=units)


def _select_covering_targets(
    work: SitingProblem, red: ReducedProblem, achievable: NDArray[np.float64], *, count_rows: bool
) -> list[int]:
    """Uncapacitated greedy set cover on unit needs; ``count_rows`` counts rows, not adults."""
    need = np.maximum(achievable - unit_base_pop(work, red) - TOL_POP, 0.0)
    weight = red.weight_pop
    if count_rows:
        weight, need = np.ones(red.n_rows), np.where(need > 0, 1.0 - TOL_POP, 0.0)
    unit = red.unit if red.unit is not None else np.zeros(red.n_rows, dtype=np.int64)
    return select_for_targets(red.cover, unit, weight, need)
