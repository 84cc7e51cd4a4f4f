"""Exact maximal-coverage and set-cover models as linear models for :mod:`planner.siting.solver`.

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

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from planner.siting.flow import build_flow_constraints, flow_row_bounds
from planner.siting.problem import TOL_POP, SitingProblem
from planner.siting.reduction import ReducedProblem, unit_base_pop
from planner.siting.service import compute_unit_targets
from planner.siting.solver import LinearModel

#: Cost, column bounds, constraint matrix and row bounds of a model.
_Parts = tuple[
    NDArray[np.float64],
    tuple[NDArray[np.float64], NDArray[np.float64]],
    sp.spmatrix,
    tuple[NDArray[np.float64], NDArray[np.float64]],
]


def _site_columns(n_columns: int, n_candidates: int) -> NDArray[np.bool_]:
    """Integrality of the columns: the first ``n_candidates`` (open a site, y) are integer."""
    integer = np.zeros(n_columns, dtype=bool)
    integer[:n_candidates] = True
    return integer


def build_mclp_model(problem: SitingProblem, red: ReducedProblem, k: int) -> LinearModel:
    """MCLP (capacitated: max served) with at most ``k`` new sites; see the module Notes.

    Parameters
    ----------
    problem
        The siting problem.
    red
        Its reduced form, ``reduce_problem(problem)``.
    k
        Largest number of new sites.

    Returns
    -------
    LinearModel
        A maximisation whose objective plus ``offset`` counts older adults covered or served.
    """
    n, inf = problem.n_candidates, np.inf
    if problem.is_capacitated:
        flow, nc, ne = build_flow_constraints(red, 0)
        matrix = sp.vstack([flow, sp.hstack([np.ones((1, n)), sp.coo_matrix((1, nc + ne))])])
        lower, upper = flow_row_bounds(red, 0)
        rows = (np.append(lower, -inf), np.append(upper, k))
        cost = np.concatenate([np.zeros(n), np.ones(nc + ne)])
        bounds = (np.zeros(cost.size), np.concatenate([np.ones(n), np.full(nc + ne, inf)]))
        offset = (
            float(problem.weights_pop[problem.existing_covered].sum())
            if red.existing is None
            else 0.0
        )
    else:
        m = red.n_rows
        matrix = sp.vstack(
            [
                sp.hstack([-red.cover, sp.identity(m)]),
                sp.hstack([np.ones((1, n)), sp.coo_matrix((1, m))]),
            ]
        )
        rows = (np.full(m + 1, -inf), np.append(np.zeros(m), k))
        cost = np.concatenate([np.zeros(n), red.weight_pop])
        bounds = (np.zeros(n + m), np.ones(n + m))
        offset = problem.covered_pop([])
    return LinearModel(cost, bounds, matrix, rows, _site_columns(cost.size, n), True, offset)


def build_cover_model(
    problem: SitingProblem, red: ReducedProblem, target_share: float | None
) -> LinearModel:
    """LSCP, or the unit-target model, minimising the number of new sites.

    Parameters
    ----------
    problem
        The siting problem; a capacitated LSCP must already have one unit for all demand.
    red
        Its reduced form, ``reduce_problem(problem)``.
    target_share
        ``None`` for LSCP; otherwise the share of each unit's older adults to reach.

    Returns
    -------
    LinearModel
        A minimisation of sites, with the units no choice of sites brings to target.
    """
    n = problem.n_candidates
    if target_share is None and not problem.is_capacitated:
        m = red.n_rows
        cost = np.ones(n)
        return LinearModel(
            cost,
            (np.zeros(n), np.ones(n)),
            red.cover,
            (np.ones(m), np.full(m, np.inf)),
            np.ones(n, dtype=bool),
            False,
            0.0,
        )
    share = 1.0 if target_share is None else target_share
    _, achievable, unreachable = compute_unit_targets(problem, red, share)
    need = np.maximum(achievable - unit_base_pop(problem, red) - TOL_POP, 0.0)
    if problem.is_capacitated:
        cost, bounds, matrix, rows = _served_need(red, n, need)
    else:
        cost, bounds, matrix, rows = _covered_need(red, n, need)
    integer = _site_columns(cost.size, n)
    return LinearModel(cost, bounds, matrix, rows, integer, False, 0.0, unreachable)


def _served_need(red: ReducedProblem, n: int, need: NDArray[np.float64]) -> _Parts:
    """Capacitated unit needs: each unit's served total ``s_u`` is fixed at its need."""
    flow, nc, ne = build_flow_constraints(red, need.size)
    lower, upper = flow_row_bounds(red, need.size)
    cost = np.concatenate([np.ones(n), np.zeros(nc + ne + need.size)])
    col_lo = np.concatenate([np.zeros(n + nc + ne), need])
    col_hi = np.concatenate([np.ones(n), np.full(nc + ne, np.inf), need])
    return cost, (col_lo, col_hi), flow, (lower, upper)


def _covered_need(red: ReducedProblem, n: int, need: NDArray[np.float64]) -> _Parts:
    """Uncapacitated unit needs: covered older adults of each unit at least its need."""
    m, inf = red.n_rows, np.inf
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
    return cost, (np.zeros(n + m), np.ones(n + m)), matrix, rows
