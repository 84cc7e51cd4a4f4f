"""Siting problem and result types (frozen dataclasses), validation and the reduced model form.

Positional indices (``idx``) are used throughout ``planner.siting``: demand point ``i`` is row
``i`` of the cover matrix and candidate ``j`` is its column ``j``. The caller (``propose.py``)
translates them to ``demand_id`` and ``site_id`` at the package boundary.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from planner.errors import InputDataError

logger = logging.getLogger(__name__)

ModelName = Literal["mclp", "lscp", "unit_target"]
Method = Literal["exact", "greedy"]

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
        """Older adults covered (uncapacitated) with existing plus ``open_candidates`` open."""
        return float(self.weights_pop[self.covered_mask(open_candidates)].sum())

    def covered_mask(self, open_candidates: Sequence[int]) -> NDArray[np.bool_]:
        """Boolean ``(n_demand,)``: covered by an existing facility or an open candidate."""
        idx = np.asarray(list(open_candidates), dtype=np.int64)
        hit = np.asarray(self.cover[:, idx].getnnz(axis=1) > 0) if idx.size else False
        return np.asarray(self.existing_covered | hit, dtype=bool)


@dataclass(frozen=True, slots=True)
class ChosenSite:
    """One proposed site, in rank order of marginal gain.

    Parameters
    ----------
    candidate_idx
        Column of the candidate in ``SitingProblem.cover``.
    rank
        1 for the site with the largest marginal gain.
    gain_pop
        Older adults newly covered (or served, when capacitated) given the higher-ranked sites.
    units_to_target
        Units (``unit_of_demand`` values) this site brings to target, for unit-target models.
    """

    candidate_idx: int
    rank: int
    gain_pop: float
    units_to_target: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class SitingResult:
    """A solved siting model, complete when returned.

    Parameters
    ----------
    model, method
        ``"mclp"``, ``"lscp"`` or ``"unit_target"``; ``"exact"`` or ``"greedy"``.
    sites
        Chosen sites in rank order of marginal gain.
    status
        ``"optimal"``, ``"time_limit"`` (feasible, gap may be > 0) or ``"heuristic"``.
    objective, bound, gap
        Objective value (older adults covered/served for MCLP, number of sites for set cover), the
        solver's or LP relaxation's bound on it, and the relative gap
        ``|bound - objective| / max(|bound|, |objective|)``.
    runtime_s
        Wall time of the solve in seconds.
    total_pop, covered_before_pop, covered_after_pop
        Total older adults, and those covered (served, if capacitated) before and after.
    demand_served_pop
        Older adults covered or served per demand point after, shape ``(n_demand,)``.
    candidate_load_pop, existing_load_pop
        Older adults assigned to each candidate and existing facility (capacitated only).
    target_share, units_at_target, units_unreachable
        Unit-target models: the target, units that reach it after, and units that no choice of
        candidates can bring to it (they get the largest reachable share instead).
    """

    model: ModelName
    method: Method
    capacitated: bool
    sites: tuple[ChosenSite, ...]
    status: str
    objective: float
    bound: float
    gap: float
    runtime_s: float
    total_pop: float
    covered_before_pop: float
    covered_after_pop: float
    demand_served_pop: NDArray[np.float64]
    candidate_load_pop: NDArray[np.float64] | None = None
    existing_load_pop: NDArray[np.float64] | None = None
    target_share: float | None = None
    units_at_target: tuple[int, ...] = ()
    units_unreachable: tuple[int, ...] = ()
    notes: tuple[str, ...] = field(default=())

    @property
    def chosen(self) -> tuple[int, ...]:
        """Candidate indices in rank order."""
        return tuple(s.candidate_idx for s in self.sites)

    @property
    def covered_gain_pop(self) -> float:
        """Older adults newly covered or served by the chosen sites."""
        return self.covered_after_pop - self.covered_before_pop


def rank_by_marginal_gain(
    chosen: Sequence[int], value_of: Callable[[list[int]], float]
) -> list[tuple[int, float]]:
    """Order ``chosen`` greedily by marginal gain of ``value_of`` and return ``(idx, gain)`` pairs.

    Sites whose gain is within ``TOL_POP`` of zero at every step are still returned, last.
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

    With ``is_ranked=True`` the given order is kept and only the marginal gains are computed.
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


def check_k(k: int, problem: SitingProblem) -> int:
    """Validate the number of new sites ``k`` and cap it at the number of candidates."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0:
        msg = f"k={k!r} must be a whole number >= 0 of new sites; e.g. k=5"
        raise InputDataError(msg)
    return min(int(k), problem.n_candidates)


def check_target(target_share: float, problem: SitingProblem) -> None:
    """Validate a unit target share and that the problem has units."""
    if not (0.0 < float(target_share) <= 1.0):
        msg = f"target_share={target_share!r} must be in (0, 1]; e.g. 0.95 for 95%"
        raise InputDataError(msg)
    if problem.unit_of_demand is None:
        msg = "target_share needs SitingProblem.unit_of_demand; give each demand point its unit"
        raise InputDataError(msg)


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


def reduce_problem(problem: SitingProblem) -> ReducedProblem:
    """Drop rows a model cannot change and aggregate rows with the same unit and cover pattern."""
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
    weight = np.bincount(row_of_demand[kept], weights=problem.weights_pop[kept], minlength=rep.size)
    big = float(problem.weights_pop.sum()) + 1.0

    def _finite(cap: NDArray[np.float64] | None) -> NDArray[np.float64] | None:
        return None if cap is None else np.minimum(cap, big)

    logger.debug("reduced %d demand points to %d model rows", problem.n_demand, rep.size)
    return ReducedProblem(
        row_of_demand=row_of_demand,
        weight_pop=weight.astype(np.float64),
        cover=sp.csr_matrix(cover[rep], dtype=np.float64),
        existing=None if existing is None else sp.csr_matrix(existing[rep], dtype=np.float64),
        unit=None if units is None else units[rep],
        candidate_capacity_pop=_finite(problem.candidate_capacity_pop),
        existing_capacity_pop=_finite(problem.existing_capacity_pop),
    )


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


def build_flow_constraints(red: ReducedProblem, n_units: int) -> tuple[sp.csr_matrix, int, int]:
    """Capacitated rows [demand; candidate; existing; unit] over columns [y, x_new, x_ex, s].

    Returns the matrix and the numbers of candidate and existing assignment columns.
    """
    m, n = red.cover.shape
    cov = red.cover.tocoo()
    ex = red.existing.tocoo() if red.existing is not None else sp.coo_matrix((m, 0))
    nc, ne, n_ex = cov.nnz, ex.nnz, ex.shape[1]
    ones_c, ones_e = np.ones(nc), np.ones(ne)
    ar_c, ar_e = np.arange(nc), np.arange(ne)
    demand = sp.hstack(
        [
            sp.coo_matrix((m, n)),
            sp.coo_matrix((ones_c, (cov.row, ar_c)), (m, nc)),
            sp.coo_matrix((ones_e, (ex.row, ar_e)), (m, ne)),
            sp.coo_matrix((m, n_units)),
        ]
    )
    cap = red.candidate_capacity_pop if red.candidate_capacity_pop is not None else np.zeros(n)
    cand = sp.hstack(
        [
            sp.diags(-cap),
            sp.coo_matrix((ones_c, (cov.col, ar_c)), (n, nc)),
            sp.coo_matrix((n, ne)),
            sp.coo_matrix((n, n_units)),
        ]
    )
    exist = sp.hstack(
        [
            sp.coo_matrix((n_ex, n + nc)),
            sp.coo_matrix((ones_e, (ex.col, ar_e)), (n_ex, ne)),
            sp.coo_matrix((n_ex, n_units)),
        ]
    )
    blocks = [demand, cand, exist]
    if n_units:
        unit = red.unit if red.unit is not None else np.zeros(m, dtype=np.int64)
        blocks.append(
            sp.hstack(
                [
                    sp.coo_matrix((n_units, n)),
                    sp.coo_matrix((-ones_c, (unit[cov.row], ar_c)), (n_units, nc)),
                    sp.coo_matrix((-ones_e, (unit[ex.row], ar_e)), (n_units, ne)),
                    sp.identity(n_units),
                ]
            )
        )
    return sp.csr_matrix(sp.vstack(blocks)), nc, ne


def flow_row_bounds(
    red: ReducedProblem, n_units: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Row bounds of ``build_flow_constraints``: demand <= weight, capacity rows <= 0 or cap."""
    ex_cap = red.existing_capacity_pop if red.existing_capacity_pop is not None else np.zeros(0)
    upper = np.concatenate(
        [red.weight_pop, np.zeros(red.cover.shape[1]), ex_cap, np.zeros(n_units)]
    )
    lower = np.full(upper.size, -np.inf)
    return lower, upper


def unit_base_pop(problem: SitingProblem, red: ReducedProblem) -> NDArray[np.float64]:
    """Per unit, older adults served in full by existing sites outside the reduced rows."""
    if red.existing is not None or problem.unit_of_demand is None:
        return np.zeros(unit_count(problem))
    base = np.where(problem.existing_covered, problem.weights_pop, 0.0)
    return np.bincount(problem.unit_of_demand, weights=base, minlength=unit_count(problem))


def unit_count(problem: SitingProblem) -> int:
    """Return the number of units (largest ``unit_of_demand`` + 1), 0 without units."""
    return 0 if problem.unit_of_demand is None else int(problem.unit_of_demand.max(initial=-1)) + 1


@dataclass(frozen=True, slots=True)
class LinearModel:
    """A linear (mixed-integer) model in HiGHS form; the first ``n_candidates`` columns are y."""

    cost: NDArray[np.float64]
    bounds: tuple[NDArray[np.float64], NDArray[np.float64]]
    matrix: sp.spmatrix
    rows: tuple[NDArray[np.float64], NDArray[np.float64]]
    integer: NDArray[np.bool_]
    maximise: bool
    offset: float
    unreachable: tuple[int, ...] = ()


def build_mclp_model(problem: SitingProblem, red: ReducedProblem, k: int) -> LinearModel:
    """MCLP (capacitated: max served) with at most ``k`` new sites; see ``optimise`` Notes."""
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
    integer = np.zeros(cost.size, dtype=bool)
    integer[:n] = True
    return LinearModel(cost, bounds, matrix, rows, integer, True, offset)
