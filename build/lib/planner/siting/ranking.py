"""Rank chosen sites by marginal gain: older adults each adds given the higher-ranked ones."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import scipy.sparse as sp

from planner.siting.problem import SitingProblem
from planner.siting.reduction import ReducedProblem
from planner.siting.service import compute_service

#: Capacitated: up to this many sites are ranked by re-solving every marginal gain exactly.
_EXACT_RANK_MAX = 12


def rank_by_marginal_gain(
    chosen: Sequence[int], value_of: Callable[[list[int]], float]
) -> list[tuple[int, float]]:
    """Order ``chosen`` greedily by marginal gain of ``value_of`` and return ``(idx, gain)`` pairs.

    Sites whose gain is within ``TOL_POP`` of zero at every step are still returned, last.

    Parameters
    ----------
    chosen
        Candidate indices; repeats are dropped.
    value_of
        Value (older adults) of a list of open candidates.

    Returns
    -------
    list
        ``(candidate_idx, gain)`` pairs, largest gain at each step first.
    """
    remaining = list(dict.fromkeys(int(j) for j in chosen))
    ranked: list[tuple[int, float]] = []
    current = value_of([])
    while remaining:
        values = [value_of([*(j for j, _ in ranked), c]) for c in remaining]
        best = int(np.argmax(values))
        ranked.append((remaining.pop(best), values[best] - current))
        current = values[best]
    return ranked


def rank_covering_sites(
    problem: SitingProblem, chosen: Sequence[int], *, is_ranked: bool = False
) -> list[tuple[int, float]]:
    """Greedy order of ``chosen`` by marginal covered older adults, as ``(idx, gain)`` pairs.

    Parameters
    ----------
    problem
        The siting problem (uncapacitated gains: newly covered older adults).
    chosen
        Candidate indices; repeats are dropped.
    is_ranked
        Keep the given order and only compute the marginal gains.

    Returns
    -------
    list
        ``(candidate_idx, gain)`` pairs in rank order.
    """
    order = list(dict.fromkeys(int(j) for j in chosen))
    sub = sp.csc_matrix(problem.cover[:, order], dtype=np.float64)
    open_w = np.where(problem.existing_covered, 0.0, problem.weights_pop)
    gains = np.asarray(sub.T @ open_w).ravel()
    ranked: list[tuple[int, float]] = []
    left = np.ones(len(order), dtype=bool)
    for t in range(len(order)):
        col = t if is_ranked else int(np.argmax(np.where(left, gains, -np.inf)))
        left[col] = False
        rows = sub.indices[sub.indptr[col] : sub.indptr[col + 1]]
        gain = float(open_w[rows].sum())
        ranked.append((order[col], gain))
        if gain > 0:
            gains -= np.asarray(sub[rows].T @ open_w[rows]).ravel()
            open_w[rows] = 0.0
    return ranked


def rank_sites(
    problem: SitingProblem, chosen: Sequence[int], red: ReducedProblem, *, is_ranked: bool
) -> list[tuple[int, float]]:
    """Rank ``chosen`` by marginal older adults covered, or served when capacitated.

    A capacitated ranking of more than a few sites orders them by what each serves alone and
    measures gains as differences of the served totals of growing prefixes.

    Parameters
    ----------
    problem
        The siting problem.
    chosen
        Candidate indices.
    red
        Its reduced form, for the capacitated assignments.
    is_ranked
        Keep the given order and only compute the marginal gains.

    Returns
    -------
    list
        ``(candidate_idx, gain)`` pairs in rank order.
    """
    if not problem.is_capacitated:
        return rank_covering_sites(problem, chosen, is_ranked=is_ranked)

    def served(open_sites: list[int]) -> float:
        return compute_service(problem, open_sites, reduced=red).total_pop

    if len(chosen) <= _EXACT_RANK_MAX and not is_ranked:
        return rank_by_marginal_gain(chosen, served)
    order = list(chosen)
    if not is_ranked:
        alone = [served([j]) for j in order]
        order = [order[t] for t in np.argsort(alone, kind="stable")[::-1]]
    values = [served(order[:t]) for t in range(len(order) + 1)]
    return [(j, values[t + 1] - values[t]) for t, j in enumerate(order)]
