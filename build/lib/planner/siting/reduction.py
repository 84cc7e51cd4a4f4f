"""The reduced model form: only the demand rows a model can change, equal patterns aggregated.

Also the per-unit sums every model needs: the number of units and the older adults existing
facilities already serve in full.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from planner.siting.problem import SitingProblem

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ReducedProblem:
    """The rows a model needs: uncovered, coverable demand with identical patterns aggregated.

    ``row_of_demand`` maps each demand point to its reduced row, or -1 when it is left out
    (no weight, already covered by an uncapacitated existing facility, or covered by nothing).
    Infinite capacities are replaced by the total weight, which is never binding.
    """

    row_of_demand: NDArray[np.int64]
    weight_pop: NDArray[np.float64]
    cover: sp.csr_matrix
    existing: sp.csr_matrix | None
    unit: NDArray[np.int64] | None
    candidate_capacity_pop: NDArray[np.float64] | None
    existing_capacity_pop: NDArray[np.float64] | None

    @property
    def n_rows(self) -> int:
        """Number of reduced demand rows."""
        return int(self.weight_pop.size)


def sum_by_index(
    index: NDArray[np.integer[Any]], weights: NDArray[np.float64], size: int
) -> NDArray[np.float64]:
    """Sum ``weights`` by their ``index`` into ``size`` bins (more if an index is larger).

    Parameters
    ----------
    index
        Bin of each weight, integers >= 0.
    weights
        Values to add up, same length as ``index``.
    size
        Smallest number of bins returned.

    Returns
    -------
    numpy.ndarray
        Float sums per bin, ``np.bincount(index, weights=weights, minlength=size)``.
    """
    return np.asarray(np.bincount(index, weights=weights, minlength=size), dtype=np.float64)


def reduce_problem(problem: SitingProblem) -> ReducedProblem:
    """Drop rows a model cannot change and aggregate rows with the same unit and cover pattern.

    Parameters
    ----------
    problem
        The siting problem.

    Returns
    -------
    ReducedProblem
        Reduced rows with their summed weights, cover and existing-cover patterns and unit.
    """
    cover = problem.cover
    existing = problem.existing_cover
    reach = cover.getnnz(axis=1) > 0
    if existing is None:
        keep = reach & ~problem.existing_covered
    else:
        keep = reach | (existing.getnnz(axis=1) > 0)
    keep &= problem.weights_pop > 0
    units = problem.unit_of_demand
    groups: dict[tuple[int, bytes, bytes], int] = {}
    row_of_demand = np.full(problem.n_demand, -1, dtype=np.int64)
    first: list[int] = []
    for i in np.flatnonzero(keep):
        key_cover = cover.indices[cover.indptr[i] : cover.indptr[i + 1]].tobytes()
        key_ex = (
            b""
            if existing is None
            else existing.indices[existing.indptr[i] : existing.indptr[i + 1]].tobytes()
        )
        key = (0 if units is None else int(units[i]), key_cover, key_ex)
        row = groups.setdefault(key, len(first))
        if row == len(first):
            first.append(int(i))
        row_of_demand[i] = row
    rep = np.asarray(first, dtype=np.int64)
    kept = np.flatnonzero(keep)
    weight = sum_by_index(row_of_demand[kept], problem.weights_pop[kept], rep.size)
    big = float(problem.weights_pop.sum()) + 1.0

    def _finite(cap: NDArray[np.float64] | None) -> NDArray[np.float64] | None:
        return None if cap is None else np.minimum(cap, big)

    logger.debug("reduced %d demand points to %d model rows", problem.n_demand, rep.size)
    return ReducedProblem(
        row_of_demand=row_of_demand,
        weight_pop=weight,
        cover=sp.csr_matrix(cover[rep], dtype=np.float64),
        existing=None if existing is None else sp.csr_matrix(existing[rep], dtype=np.float64),
        unit=None if units is None else units[rep],
        candidate_capacity_pop=_finite(problem.candidate_capacity_pop),
        existing_capacity_pop=_finite(problem.existing_capacity_pop),
    )


def unit_count(problem: SitingProblem) -> int:
    """Return the number of units (largest ``unit_of_demand`` + 1), 0 without units.

    Parameters
    ----------
    problem
        The siting problem.

    Returns
    -------
    int
        Number of units.
    """
    return 0 if problem.unit_of_demand is None else int(problem.unit_of_demand.max(initial=-1)) + 1


def unit_base_pop(problem: SitingProblem, red: ReducedProblem) -> NDArray[np.float64]:
    """Per unit, older adults served in full by existing sites outside the reduced rows.

    Parameters
    ----------
    problem
        The siting problem.
    red
        Its reduced form; with an existing cover (capacitated) nothing is outside it.

    Returns
    -------
    numpy.ndarray
        Older adults per unit, shape ``(unit_count(problem),)``.
    """
    if red.existing is not None or problem.unit_of_demand is None:
        return np.zeros(unit_count(problem))
    base = np.where(problem.existing_covered, problem.weights_pop, 0.0)
    return sum_by_index(problem.unit_of_demand, base, unit_count(problem))
