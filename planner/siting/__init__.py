"""Choose new elderly-care sites: maximal coverage and set cover, exact or greedy, capacitated."""

from __future__ import annotations

from planner.siting.greedy import greedy_mclp, greedy_set_cover
from planner.siting.model import ChosenSite, SitingProblem, SitingResult
from planner.siting.optimise import (
    ServiceResult,
    compute_lp_bound,
    compute_service,
    solve_mclp,
    solve_set_cover,
)

__all__ = [
    "ChosenSite",
    "ServiceResult",
    "SitingProblem",
    "SitingResult",
    "compute_lp_bound",
    "compute_service",
    "greedy_mclp",
    "greedy_set_cover",
    "solve_mclp",
    "solve_set_cover",
]
