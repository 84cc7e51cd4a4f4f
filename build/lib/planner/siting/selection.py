"""Greedy site selection: the pick loops behind :mod:`planner.siting.greedy`.

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

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from planner.siting.problem import TOL_POP, SitingProblem
from planner.siting.reduction import ReducedProblem, sum_by_index
from planner.siting.service import compute_service


def _row_residual_pop(
    problem: SitingProblem, red: ReducedProblem, served_pop: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Older adults of each reduced row not yet served, given those served per demand point."""
    inside = red.row_of_demand >= 0
    served_rows = sum_by_index(red.row_of_demand[inside], served_pop[inside], red.n_rows)
    return np.maximum(red.weight_pop - served_rows, 0.0)


def _capacity(problem: SitingProblem, red: ReducedProblem) -> NDArray[np.float64]:
    """Finite capacity of each candidate (zeros when uncapacitated)."""
    return (
        red.candidate_capacity_pop
        if red.candidate_capacity_pop is not None
        else np.zeros(problem.n_candidates)
    )


def _capped_unit_gains(
    unit_gain: sp.csc_matrix, deficit: NDArray[np.float64], n: int
) -> NDArray[np.float64]:
    """Per candidate ``sum_u min(deficit_u, unit_gain[u, j])`` over the ``n`` columns."""
    cols = np.repeat(np.arange(n), np.diff(unit_gain.indptr))
    capped = np.minimum(unit_gain.data, deficit[unit_gain.indices])
    return sum_by_index(cols, capped, n)


def select_covering(
    cover: sp.csr_matrix, weight: NDArray[np.float64], k: int
) -> tuple[list[int], float]:
    """Uncapacitated greedy: ``k`` columns maximising covered row weight, updating gains sparsely.

    Parameters
    ----------
    cover
        Reduced cover, rows x candidates.
    weight
        Older adults of each row.
    k
        Largest number of columns to pick; picking stops early when no column adds weight.

    Returns
    -------
    tuple
        Picked columns in pick order, and the online bound
        ``min_t f(S_t) + sum of the k largest gains at step t`` on the newly covered weight of
        any ``k`` columns (valid because coverage is submodular).
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


def select_capacitated(problem: SitingProblem, red: ReducedProblem, k: int) -> list[int]:
    """Capacitated greedy: gain ``min(capacity, residual demand in reach)``, proportional fill.

    Parameters
    ----------
    problem
        The siting problem (capacitated).
    red
        Its reduced form.
    k
        Largest number of sites to pick; picking stops early when no site adds older adults.

    Returns
    -------
    list
        Picked candidates in pick order.
    """
    residual = _row_residual_pop(
        problem, red, compute_service(problem, [], reduced=red).demand_served_pop
    )
    cap = _capacity(problem, red)
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


def select_for_targets(
    cover: sp.csr_matrix,
    unit: NDArray[np.int64],
    weight: NDArray[np.float64],
    need: NDArray[np.float64],
) -> list[int]:
    """Uncapacitated greedy for unit needs: gain ``sum_u min(need_u, newly covered in u)``.

    Parameters
    ----------
    cover
        Reduced cover, rows x candidates.
    unit
        Unit of each row.
    weight
        Weight of each row (older adults, or 1 to count rows).
    need
        Weight each unit still needs covered.

    Returns
    -------
    list
        Picked candidates in pick order, until every need is met or no candidate helps.
    """
    m, n = cover.shape
    to_unit = sp.csr_matrix((weight, (unit, np.arange(m))), shape=(need.size, m))
    by_col = cover.tocsc()
    unit_gain = sp.csc_matrix(to_unit @ cover)
    deficit = need.copy()
    open_w = weight.copy()
    chosen: list[int] = []
    while (deficit > TOL_POP).any() and unit_gain.nnz:
        gains = _capped_unit_gains(unit_gain, deficit, n)
        j = int(np.argmax(gains))
        if gains[j] <= TOL_POP:
            break
        rows = by_col.indices[by_col.indptr[j] : by_col.indptr[j + 1]]
        rows = rows[open_w[rows] > 0]
        newly = sp.csr_matrix((open_w[rows], (unit[rows], rows)), shape=(need.size, m))
        unit_gain = sp.csc_matrix(unit_gain - newly @ cover)
        unit_gain.eliminate_zeros()
        deficit = np.maximum(deficit - sum_by_index(unit[rows], open_w[rows], need.size), 0.0)
        open_w[rows] = 0.0
        chosen.append(j)
    return chosen


def select_capacitated_for_targets(
    problem: SitingProblem,
    red: ReducedProblem,
    target: NDArray[np.float64],
    achievable: NDArray[np.float64],
) -> list[int]:
    """Capacitated greedy for unit targets; the assignment is re-optimised by LP after each pick.

    Parameters
    ----------
    problem
        The siting problem (capacitated, with units).
    red
        Its reduced form.
    target, achievable
        Per unit: target older adults, and those reachable with every candidate open.

    Returns
    -------
    list
        Picked candidates in pick order, until every unit is served up to ``achievable`` or no
        candidate helps.
    """
    unit = red.unit if red.unit is not None else np.zeros(red.n_rows, dtype=np.int64)
    cap = _capacity(problem, red)
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
        capped = _capped_unit_gains(unit_gain, deficit, problem.n_candidates)
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
