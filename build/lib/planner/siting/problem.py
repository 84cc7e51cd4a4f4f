"""The siting problem: demand, candidate cover and existing facilities, validated once.

Positional indices (``idx``) are used throughout ``planner.siting``: demand point ``i`` is row
``i`` of the cover matrix and candidate ``j`` is its column ``j``. The caller (``propose.py``)
translates them to ``demand_id`` and ``site_id`` at the package boundary.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from planner.errors import InputDataError

#: Tolerance on older-adult counts when comparing covered or served populations.
TOL_POP = 1e-6


def _as_bool_csr(matrix: object, name: str, n_rows: int) -> sp.csr_matrix:
    if not sp.issparse(matrix):
        msg = (
            f"{name} is {type(matrix).__name__}, not a scipy.sparse matrix; pass sp.csr_matrix(...)"
        )
        raise InputDataError(msg)
    csr = sp.csr_matrix(matrix, dtype=bool)
    csr.eliminate_zeros()
    csr.sort_indices()
    if csr.shape[0] != n_rows:
        msg = f"{name} has {csr.shape[0]} rows but there are {n_rows} demand points; align its rows"
        raise InputDataError(msg)
    return csr


def _as_capacity(values: object, name: str, n: int) -> NDArray[np.float64]:
    arr = np.asarray(values, dtype=np.float64).reshape(-1)
    if arr.shape != (n,):
        msg = f"{name} has {arr.size} values but {n} facilities; give one capacity per column"
        raise InputDataError(msg)
    if np.isnan(arr).any() or (arr < 0).any():
        msg = f"{name} has negative or NaN values (min {np.nanmin(arr)!r}); use >= 0 or np.inf"
        raise InputDataError(msg)
    return arr


@dataclass(frozen=True, slots=True)
class SitingProblem:
    """Demand, candidate cover and existing facilities of one siting scenario.

    Parameters
    ----------
    weights_pop
        Older adults at each demand point, shape ``(n_demand,)``, finite and >= 0.
    cover
        Sparse 0/1 matrix ``(n_demand, n_candidates)``: candidate ``j`` covers demand ``i``
        within the walking threshold. Never dense; explicit zeros are ignored.
    existing_covered
        Boolean ``(n_demand,)``: demand already covered by existing facilities (always open).
    candidate_capacity_pop
        Optional older adults each candidate can serve (day-care places, meals per day);
        ``np.inf`` means unlimited. Giving it makes every model capacitated.
    existing_cover
        Optional sparse ``(n_demand, n_existing)`` cover of the existing facilities, used only by
        capacitated models; its covered rows must equal ``existing_covered``. When a capacitated
        problem has no ``existing_cover``, existing facilities serve the demand they cover in full.
    existing_capacity_pop
        Capacity in older adults of each existing facility; required with ``existing_cover``.
    unit_of_demand
        Optional integer unit (社区/村 index, >= 0) of each demand point, for unit-target models.

    Raises
    ------
    InputDataError
        On any shape, sign or consistency problem.
    """

    weights_pop: NDArray[np.float64]
    cover: sp.csr_matrix
    existing_covered: NDArray[np.bool_]
    candidate_capacity_pop: NDArray[np.float64] | None = None
    existing_cover: sp.csr_matrix | None = None
    existing_capacity_pop: NDArray[np.float64] | None = None
    unit_of_demand: NDArray[np.int64] | None = None

    def __post_init__(self) -> None:
        weights = np.asarray(self.weights_pop, dtype=np.float64).reshape(-1)
        if not np.isfinite(weights).all() or (weights < 0).any():
            msg = "weights_pop has negative or non-finite values; give older adults as counts >= 0"
            raise InputDataError(msg)
        n = weights.size
        object.__setattr__(self, "weights_pop", weights)
        object.__setattr__(self, "cover", _as_bool_csr(self.cover, "cover", n))
        covered = np.asarray(self.existing_covered).reshape(-1)
        if covered.shape != (n,) or covered.dtype != np.bool_:
            msg = (
                f"existing_covered must be a bool array of length {n}; "
                f"got {covered.dtype} {covered.shape}"
            )
            raise InputDataError(msg)
        object.__setattr__(self, "existing_covered", covered)
        self._check_capacity(n)
        if self.unit_of_demand is not None:
            units = np.asarray(self.unit_of_demand).reshape(-1)
            if (
                units.shape != (n,)
                or not np.issubdtype(units.dtype, np.integer)
                or (units < 0).any()
            ):
                msg = (
                    f"unit_of_demand must be {n} integers >= 0; map unit ids to 0..n_units-1 first"
                )
                raise InputDataError(msg)
            object.__setattr__(self, "unit_of_demand", units.astype(np.int64))

    def _check_capacity(self, n: int) -> None:
        if self.candidate_capacity_pop is None:
            if self.existing_cover is not None or self.existing_capacity_pop is not None:
                msg = (
                    "existing_cover given without candidate_capacity_pop; add candidate capacities"
                )
                raise InputDataError(msg)
            return
        cap = _as_capacity(self.candidate_capacity_pop, "candidate_capacity_pop", self.n_candidates)
        object.__setattr__(self, "candidate_capacity_pop", cap)
        if (self.existing_cover is None) != (self.existing_capacity_pop is None):
            msg = "give existing_cover and existing_capacity_pop together, or neither"
            raise InputDataError(msg)
        if self.existing_cover is None:
            return
        ex = _as_bool_csr(self.existing_cover, "existing_cover", n)
        object.__setattr__(self, "existing_cover", ex)
        ex_cap = _as_capacity(self.existing_capacity_pop, "existing_capacity_pop", ex.shape[1])
        object.__setattr__(self, "existing_capacity_pop", ex_cap)
        mismatch = int(((ex.getnnz(axis=1) > 0) != self.existing_covered).sum())
        if mismatch:
            msg = (
                f"existing_covered disagrees with existing_cover on {mismatch} rows; "
                "derive one from the other"
            )
            raise InputDataError(msg)

    @property
    def n_demand(self) -> int:
        """Number of demand points."""
        return int(self.weights_pop.size)

    @property
    def n_candidates(self) -> int:
        """Number of candidate sites."""
        return int(self.cover.shape[1])

    @property
    def n_existing(self) -> int:
        """Number of existing facilities with a cover column (0 without ``existing_cover``)."""
        return 0 if self.existing_cover is None else int(self.existing_cover.shape[1])

    @property
    def is_capacitated(self) -> bool:
        """Whether candidate capacities make the models count served, not covered, adults."""
        return self.candidate_capacity_pop is not None

    def covered_pop(self, open_candidates: Sequence[int]) -> float:
        """Older adults covered (uncapacitated) with existing plus ``open_candidates`` open.

        Parameters
        ----------
        open_candidates
            Candidate indices (columns of ``cover``) to open.

        Returns
        -------
        float
            Sum of ``weights_pop`` over :meth:`covered_mask`.
        """
        return float(self.weights_pop[self.covered_mask(open_candidates)].sum())

    def covered_mask(self, open_candidates: Sequence[int]) -> NDArray[np.bool_]:
        """Boolean ``(n_demand,)``: covered by an existing facility or an open candidate.

        Parameters
        ----------
        open_candidates
            Candidate indices (columns of ``cover``) to open.

        Returns
        -------
        numpy.ndarray
            True where ``existing_covered`` or a row of an open candidate's column.
        """
        idx = np.asarray(list(open_candidates), dtype=np.int64)
        hit = np.asarray(self.cover[:, idx].getnnz(axis=1) > 0) if idx.size else False
        return np.asarray(self.existing_covered | hit, dtype=bool)


def check_k(k: int, problem: SitingProblem) -> int:
    """Validate the number of new sites ``k`` and cap it at the number of candidates.

    Parameters
    ----------
    k
        Number of new sites asked for.
    problem
        The siting problem whose candidates cap ``k``.

    Returns
    -------
    int
        ``min(k, problem.n_candidates)``.

    Raises
    ------
    InputDataError
        If ``k`` is not a whole number >= 0.
    """
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0:
        msg = f"k={k!r} must be a whole number >= 0 of new sites; e.g. k=5"
        raise InputDataError(msg)
    return min(int(k), problem.n_candidates)


def check_target(target_share: float, problem: SitingProblem) -> None:
    """Validate a unit target share and that the problem has units.

    Parameters
    ----------
    target_share
        Share of each unit's older adults to cover, in (0, 1].
    problem
        The siting problem, which must have ``unit_of_demand``.

    Raises
    ------
    InputDataError
        If ``target_share`` is outside (0, 1] or the problem has no units.
    """
    if not (0.0 < float(target_share) <= 1.0):
        msg = f"target_share={target_share!r} must be in (0, 1]; e.g. 0.95 for 95%"
        raise InputDataError(msg)
    if problem.unit_of_demand is None:
        msg = "target_share needs SitingProblem.unit_of_demand; give each demand point its unit"
        raise InputDataError(msg)
