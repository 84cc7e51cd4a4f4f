"""propose_sites: new sites of one type for a finished analysis (MCLP or unit-target set cover).

The demand points, their thresholds and the existing coverage come from a
:class:`planner.pipeline.PlanResult`; the cover matrix from bounded searches from the candidates
(:mod:`planner.routing.cover_times`). Up to :data:`EXACT_MAX_CANDIDATES` candidates are solved exactly
(HiGHS MILP), more with the greedy heuristic and its LP bound.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import NDArray

from planner.errors import SitingError
from planner.network.snap import EdgeIndex, SnapResult
from planner.pipeline import PlanResult
from planner.routing.cover_times import build_cover, compute_cover_times
from planner.schema import FACILITY_TYPE
from planner.siting.candidates import generate_candidates, prepare_candidates
from planner.siting.greedy import greedy_mclp, greedy_set_cover
from planner.siting.impact import before_after_units, per_street_table, sites_frame
from planner.siting.optimise import solve_mclp, solve_set_cover
from planner.siting.problem import SitingProblem
from planner.siting.result import SitingResult

EXACT_MAX_CANDIDATES = 500
MethodChoice = Literal["auto", "exact", "greedy"]


@dataclass(frozen=True, slots=True)
class ProposalResult:
    """Proposed sites of one type and what they change.

    Attributes
    ----------
    facility_type, model, method, status
        Type sited; ``mclp``/``unit_target``; ``exact``/``greedy``; solver status.
    gap
        Relative optimality gap (exact) or gap to the LP bound (greedy).
    covered_gain_pop
        Older adults newly covered (served, when capacitated).
    sites
        Chosen sites in rank order: ``rank, candidate_id, unit_id, gain_pop, units_to_target,
        capacity``, points in the network CRS.
    per_unit, per_street
        Before/after covered older adults and shares per unit and per street (``parent_id``).
    candidates
        All candidates considered; ``siting`` the raw model result.
    """

    facility_type: str
    model: str
    method: str
    status: str
    gap: float
    covered_gain_pop: float
    sites: gpd.GeoDataFrame
    per_unit: pd.DataFrame
    per_street: pd.DataFrame
    candidates: gpd.GeoDataFrame
    siting: SitingResult


def demand_thresholds_s(result: PlanResult, facility_type: str) -> NDArray[np.float64]:
    """Coverage threshold of each demand point (seconds), from its unit's settlement.

    Parameters
    ----------
    result
        A finished analysis.
    facility_type
        Type whose walking-time threshold applies.

    Returns
    -------
    numpy.ndarray
        Seconds per demand point, in ``result.demand`` order.
    """
    cov = result.params.coverage
    thr = result.units.set_index("unit_id")["settlement"].map(
        lambda s: cov.threshold_min(facility_type, s) * 60.0)
    thr_s: NDArray[np.float64] = result.demand["unit_id"].map(thr).to_numpy(dtype=np.float64)
    return thr_s


def existing_times_s(result: PlanResult, facility_type: str) -> NDArray[np.float64]:
    """Time from each demand point to its nearest existing facility of the type.

    Parameters
    ----------
    result
        A finished analysis.
    facility_type
        Type of the existing facilities.

    Returns
    -------
    numpy.ndarray
        Seconds per demand point, in ``result.demand`` order (``inf`` where none is reached).
    """
    t = result.demand_times[result.demand_times["facility_type"] == facility_type]
    times = result.demand["demand_id"].map(t.set_index("demand_id")["time_s"])
    time_s: NDArray[np.float64] = times.to_numpy(float)
    return time_s


def _snap_points(result: PlanResult, frame: gpd.GeoDataFrame) -> SnapResult:
    index = EdgeIndex(result.network)
    geo = frame.to_crs(result.network.crs).geometry
    return index.snap(geo.x.to_numpy(), geo.y.to_numpy(), result.params.snap.max_snap_m)


def _cover_of(result: PlanResult, snap: SnapResult, thr_s: NDArray[np.float64]) -> sp.csr_matrix:
    assert result.demand_snap is not None
    times = compute_cover_times(result.network, snap, result.demand_snap, float(thr_s.max()))
    return build_cover(times, thr_s)


def _capacity(values: pd.Series) -> NDArray[np.float64]:
    cap = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    return np.where(np.isnan(cap), np.inf, cap)


def build_siting_problem(result: PlanResult, facility_type: str,
                         candidates: gpd.GeoDataFrame) -> SitingProblem:
    """The siting problem of ``candidates`` for one type.

    Parameters
    ----------
    result
        A finished analysis with its snap results.
    facility_type
        Type to site.
    candidates
        Prepared candidates (:func:`prepare_candidates` or :func:`generate_candidates`).

    Returns
    -------
    SitingProblem
        Capacitated, with the existing facilities' cover and capacities, if any candidate has a
        capacity; otherwise uncapacitated with the existing coverage of the type.

    Raises
    ------
    SitingError
        If the analysis has no snap results.
    """
    if result.demand_snap is None or result.facility_snap is None:
        raise SitingError("the PlanResult has no snap results; rerun run_plan to get them")
    thr_s = demand_thresholds_s(result, facility_type)
    cover = _cover_of(result, _snap_points(result, candidates), thr_s)
    unit_codes = pd.Categorical(result.demand["unit_id"], categories=result.units["unit_id"])
    weights = result.demand["older_pop"].to_numpy(dtype=float)
    units = np.asarray(unit_codes.codes, dtype=np.int64)
    if not candidates["capacity"].notna().any():
        covered = existing_times_s(result, facility_type) <= thr_s
        return SitingProblem(weights, cover, covered, unit_of_demand=units)
    mask = (result.facilities[FACILITY_TYPE] == facility_type).to_numpy()
    ex_cover = _cover_of(result, result.facility_snap.take(mask), thr_s)
    ex_cap = _capacity(result.facilities.loc[mask, "capacity"])
    return SitingProblem(weights, cover, np.asarray(ex_cover.getnnz(axis=1) > 0), _capacity(
        candidates["capacity"]), ex_cover, ex_cap, unit_of_demand=units)


def candidate_unit_ids(result: PlanResult, facility_type: str) -> list[str]:
    """Units to place candidates in: the type's gap units, else units below target, else all.

    Parameters
    ----------
    result
        A finished analysis.
    facility_type
        Type to site.

    Returns
    -------
    list of str
        ``unit_id`` values.
    """
    gaps = result.gaps[result.gaps["facility_type"] == facility_type]["unit_id"].unique()
    if len(gaps) == 0:
        cov = result.coverage[result.coverage["facility_type"] == facility_type]
        gaps = cov[cov["covered_share"] < result.params.coverage.target_share]["unit_id"].unique()
    if len(gaps) == 0:
        gaps = result.units["unit_id"].unique()
    return [str(g) for g in gaps]


def default_candidates(result: PlanResult, facility_type: str,
                       min_spacing_m: float = 150.0) -> gpd.GeoDataFrame:
    """Generated candidates in the units of :func:`candidate_unit_ids`.

    Parameters
    ----------
    result
        A finished analysis.
    facility_type
        Type to site.
    min_spacing_m
        Smallest distance between two candidates, metres.

    Returns
    -------
    geopandas.GeoDataFrame
        Candidates as from :func:`generate_candidates`.
    """
    return generate_candidates(result.network, result.units,
                               unit_ids=candidate_unit_ids(result, facility_type),
                               min_spacing_m=min_spacing_m)


def _solve(problem: SitingProblem, k: int | None, cover: bool, method: str,
           target: float, time_limit_s: float) -> SitingResult:
    exact = method == "exact" or (method == "auto" and problem.n_candidates <= EXACT_MAX_CANDIDATES)
    if cover:
        if exact:
            return solve_set_cover(problem, target_share=target, time_limit_s=time_limit_s)
        return greedy_set_cover(problem, target_share=target, time_limit_s=time_limit_s)
    if k is None:
        raise SitingError("maximal coverage needs k new sites; pass k=5 or cover=True")
    if exact:
        return solve_mclp(problem, k, time_limit_s=time_limit_s)
    return greedy_mclp(problem, k, time_limit_s=time_limit_s)



def propose_sites(result: PlanResult, *, facility_type: str, k: int | None = None,
                  cover: bool = False, candidates: gpd.GeoDataFrame | None = None,
                  method: MethodChoice = "auto", time_limit_s: float = 60.0) -> ProposalResult:
    """Propose new sites of ``facility_type``, existing facilities kept in place.

    Parameters
    ----------
    result
        A finished analysis (``run_plan``).
    facility_type
        Type to site, e.g. ``"day_care"``.
    k
        Number of new sites (maximal coverage); ignored with ``cover=True``.
    cover
        Fewest sites so each unit reaches ``params.coverage.target_share`` (or its largest
        reachable share).
    candidates
        Candidate points/polygons (any CRS, optional ``candidate_id, capacity, cost``);
        default generated in the gap units (150 m spacing).
    method
        ``exact`` (HiGHS MILP), ``greedy``, or ``auto`` (exact up to 500 candidates).
    time_limit_s
        Solver time limit in seconds.

    Returns
    -------
    ProposalResult
        The ranked sites, before/after tables per unit and street, and the raw model result.

    Raises
    ------
    SitingError
        No candidates, or MCLP without ``k``.
    """
    crs = result.network.crs
    cands = (default_candidates(result, facility_type) if candidates is None
             else prepare_candidates(candidates, result.units, crs))
    if len(cands) == 0:
        raise SitingError(f"no candidate sites for {facility_type}; give a candidates file")
    problem = build_siting_problem(result, facility_type, cands)
    target = result.params.coverage.target_share
    siting = _solve(problem, k, cover, method, target, time_limit_s)
    per_unit, brought = before_after_units(result, problem, list(siting.chosen), target)
    return ProposalResult(facility_type, siting.model, siting.method, siting.status,
                          float(siting.gap), float(siting.covered_gain_pop),
                          sites_frame(cands, siting, brought), per_unit,
                          per_street_table(per_unit), cands, siting)
