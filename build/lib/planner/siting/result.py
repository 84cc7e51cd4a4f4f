"""Siting results: chosen sites in rank order and the coverage before and after them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from planner.siting.problem import TOL_POP, SitingProblem
from planner.siting.ranking import rank_sites
from planner.siting.reduction import ReducedProblem, reduce_problem, sum_by_index
from planner.siting.service import compute_service

ModelName = Literal["mclp", "lscp", "unit_target"]
Method = Literal["exact", "greedy"]


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

    Parameters
    ----------
    problem
        The siting problem solved.
    model, method
        Model and method names reported in the result.
    chosen
        Candidate indices chosen by the solver or heuristic.
    status, bound, runtime_s
        Solver status, bound on the objective and solve time, reported as given.
    target_share, unreachable
        Unit-target models: the target share and the units that cannot reach it.
    reduced
        A precomputed ``reduce_problem(problem)``.
    is_ranked
        Keep the order of ``chosen``; gains are then prefix differences.

    Returns
    -------
    SitingResult
        Sites that add older adults (all sites for capacitated set cover), in rank order, with the
        objective re-measured and the gap to ``bound``.
    """
    red = reduced if reduced is not None else reduce_problem(problem)
    ranked = rank_sites(problem, chosen, red, is_ranked=is_ranked)
    if model == "mclp" or not problem.is_capacitated:
        ranked = [(j, g) for j, g in ranked if g > TOL_POP]
    order = [j for j, _ in ranked]
    sites, at_target = _chosen_sites(problem, ranked, target_share, red)
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
        units_at_target=tuple(sorted(at_target)),
        units_unreachable=unreachable,
    )


def _chosen_sites(
    problem: SitingProblem,
    ranked: list[tuple[int, float]],
    target_share: float | None,
    red: ReducedProblem,
) -> tuple[tuple[ChosenSite, ...], set[int]]:
    """Ranked sites with the units each brings to target, and the units at target after all."""
    order = [j for j, _ in ranked]
    target = None
    if target_share is not None and problem.unit_of_demand is not None:
        target = target_share * sum_by_index(problem.unit_of_demand, problem.weights_pop, 0)
    reached = [_at_target(problem, order[:t], target, red) for t in range(len(order) + 1)]
    sites = tuple(
        ChosenSite(int(j), t + 1, float(g), tuple(sorted(reached[t + 1] - reached[t])))
        for t, (j, g) in enumerate(ranked)
    )
    return sites, reached[-1]


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
