"""Choose new elderly-care sites: maximal coverage and set cover, exact or greedy, capacitated."""

from __future__ import annotations

from planner.siting.greedy import greedy_mclp, greedy_set_cover
from planner.siting.optimise import compute_lp_bound, solve_mclp, solve_set_cover
from planner.siting.problem import SitingProblem
from planner.siting.result import ChosenSite, SitingResult
from planner.siting.service import ServiceResult, compute_service

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
