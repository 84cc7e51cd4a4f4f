"""The names this module defined before ``planner.siting`` was split, kept importable from here.

The problem type and its checks are in :mod:`planner.siting.problem`, results in
:mod:`planner.siting.result`, the reduced form in :mod:`planner.siting.reduction`, service
(older adults covered or served) in :mod:`planner.siting.service`, ranking in
:mod:`planner.siting.ranking`, capacitated assignment rows in :mod:`planner.siting.flow` and the
exact models in :mod:`planner.siting.formulation` and :mod:`planner.siting.solver`.
"""

from __future__ import annotations

from planner.siting.flow import build_flow_constraints, flow_row_bounds
from planner.siting.formulation import build_mclp_model
from planner.siting.problem import TOL_POP, SitingProblem, check_k, check_target
from planner.siting.ranking import rank_by_marginal_gain, rank_covering_sites
from planner.siting.reduction import ReducedProblem, reduce_problem, unit_base_pop, unit_count
from planner.siting.result import ChosenSite, Method, ModelName, SitingResult
from planner.siting.service import ServiceResult
from planner.siting.solver import LinearModel

__all__ = [
    "TOL_POP",
    "ChosenSite",
    "LinearModel",
    "Method",
    "ModelName",
    "ReducedProblem",
    "ServiceResult",
    "SitingProblem",
    "SitingResult",
    "build_flow_constraints",
    "build_mclp_model",
    "check_k",
    "check_target",
    "flow_row_bounds",
    "rank_by_marginal_gain",
    "rank_covering_sites",
    "reduce_problem",
    "unit_base_pop",
    "unit_count",
]
