"""propose_sites: new sites of one type for a finished analysis (MCLP or unit-target set cover).

The demand points, their thresholds and the existing coverage come from a
:class:`planner.pipeline.PlanResult`; the cover matrix from bounded searches from the candidates
(:mod:`planner.siting.cover`). Up to :data:`EXACT_MAX_CANDIDATES` candidates are solved exactly
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
from planner.pipeline import PlanResult
from planner.schema import FACILITY_TYPE
from planner.siting.candidates import generate_candidates, prepare_candidates
from planner.siting.cover import build_cover, compute_cover_times
from planner.siting.greedy import greedy_mclp, greedy_set_cover
from planner.siting.model import SitingProblem, SitingResult
from planner.siting.optimise import compute_service, solve_mclp, solve_set_cover
from planner.snap import EdgeIndex, SnapResult

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
    """Coverage threshold of each demand point (seconds), from its unit's settlement."""
    cov = result.params.coverage
    thr = result.units.set_index("unit_id")["settlement"].map(
        lambda s: cov.threshold_min(facility_type, s) * 60.0)
    return result.demand["unit_id"].map(thr).to_numpy(dtype=np.float64)


def existing_times_s(result: PlanResult, facility_type: str) -> NDArray[np.float64]:
    """Time from each demand point (in ``result.demand`` order) to its nearest facility of the type."""
    t = result.demand_times[result.demand_times["facility_type"] == facility_type]
    return result.demand["demand_id"].map(t.set_index("demand_id")["time_s"]).to_numpy(float)


def _snap_points(result: PlanResult, frame: gpd.GeoDataFrame) -> SnapResult:
    index = EdgeIndex(result.network)
    geo = frame.to_crs(result.network.crs).geometry
    return index.snap(geo.x.to_numpy(), geo.y.to_numpy(), result.params.snap.max_snap_m)


def _subset_snap(snap: SnapResult, mask: NDArray[np.bool_]) -> SnapResult:
    return SnapResult(snap.edge[mask], snap.frac[mask], snap.access_m[mask], snap.status[mask])


def _cover_of(result: PlanResult, snap: SnapResult, thr_s: NDArray[np.float64]) -> sp.csr_matrix:
    assert result.demand_snap is not None
    times = compute_cover_times(result.network, snap, result.demand_snap, float(thr_s.max()))
    return build_cover(times, thr_s)


def _capacity(values: pd.Series) -> NDArray[np.float64]:
    cap = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    return np.where(np.isnan(cap), np.inf, cap)


def build_siting_problem(result: PlanResult, facility_type: str,
                         candidates: gpd.GeoDataFrame) -> SitingProblem:
    """The siting problem of ``candidates`` for one type; capacitated if any candidate has capacity."""
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
    ex_cover = _cover_of(result, _subset_snap(result.facility_snap, mask), thr_s)
    ex_cap = _capacity(result.facilities.loc[mask, "capacity"])
    return SitingProblem(weights, cover, np.asarray(ex_cover.getnnz(axis=1) > 0), _capacity(
        candidates["capacity"]), ex_cover, ex_cap, unit_of_demand=units)


def candidate_unit_ids(result: PlanResult, facility_type: str) -> list[str]:
    """Units to place candidates in: the type's gap units, else units below target, else all."""
    gaps = result.gaps[result.gaps["facility_type"] == facility_type]["unit_id"].unique()
    if len(gaps) == 0:
        cov = result.coverage[result.coverage["facility_type"] == facility_type]
        gaps = cov[cov["covered_share"] < result.params.coverage.target_share]["unit_id"].unique()
    if len(gaps) == 0:
        gaps = result.units["unit_id"].unique()
    return [str(g) for g in gaps]


def default_candidates(result: PlanResult, facility_type: str,
                       min_spacing_m: float = 150.0) -> gpd.GeoDataFrame:
    """Generated candidates in the units of :func:`candidate_unit_ids`."""
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


def _unit_served(problem: SitingProblem, open_sites: list[int]) -> NDArray[np.float64]:
    served = compute_service(problem, open_sites).unit_served_pop
    n_units = int(problem.unit_of_demand.max()) + 1 if problem.unit_of_demand is not None else 0
    return np.pad(served, (0, max(0, n_units - served.size)))


def _before_after(result: PlanResult, problem: SitingProblem, chosen: list[int],
                  target: float) -> tuple[pd.DataFrame, list[tuple[str, ...]]]:
    """Per unit table and, per ranked site, the units it brings to target."""
    units = result.units
    n = len(units)
    pop = units["older_pop"].to_numpy(dtype=float)
    denom = np.where(pop > 0, pop, np.nan)
    served = [np.resize(_unit_served(problem, chosen[:r]), n) for r in range(len(chosen) + 1)]
    at = [np.nan_to_num(s / denom) >= target - 1e-9 for s in served]
    ids = units["unit_id"].to_numpy()
    brought = [tuple(str(u) for u in ids[at[r + 1] & ~at[r]]) for r in range(len(chosen))]
    frame = pd.DataFrame({"unit_id": ids, "unit_name": units["name"].to_numpy(),
                          "parent_id": units["parent_id"].to_numpy() if "parent_id" in units
                          else None, "older_pop": pop, "before_pop": served[0],
                          "after_pop": served[-1]})
    frame["before_share"] = np.nan_to_num(served[0] / denom).clip(0, 1)
    frame["after_share"] = np.nan_to_num(served[-1] / denom).clip(0, 1)
    frame["at_target_before"], frame["at_target_after"] = at[0], at[-1]
    return frame, brought


def per_street_table(per_unit: pd.DataFrame) -> pd.DataFrame:
    """Before/after covered older adults and shares per street (``parent_id``)."""
    if per_unit["parent_id"].isna().all():
        return pd.DataFrame(columns=["parent_id", "older_pop", "before_pop", "after_pop",
                                     "before_share", "after_share"])
    g = per_unit.groupby("parent_id")[["older_pop", "before_pop", "after_pop"]].sum().reset_index()
    denom = g["older_pop"].where(g["older_pop"] > 0)
    g["before_share"] = (g["before_pop"] / denom).fillna(0.0).clip(0, 1)
    g["after_share"] = (g["after_pop"] / denom).fillna(0.0).clip(0, 1)
    return g


def _sites_frame(cands: gpd.GeoDataFrame, siting: SitingResult,
                 brought: list[tuple[str, ...]]) -> gpd.GeoDataFrame:
    idx = [s.candidate_idx for s in siting.sites]
    sub = cands.iloc[idx].reset_index(drop=True)
    return gpd.GeoDataFrame({
        "rank": [s.rank for s in siting.sites], "candidate_id": sub["candidate_id"].to_numpy(),
        "unit_id": sub["unit_id"].to_numpy(), "gain_pop": [s.gain_pop for s in siting.sites],
        "units_to_target": [",".join(b) for b in brought],
        "capacity": sub["capacity"].to_numpy()}, geometry=sub.geometry.to_numpy(), crs=cands.crs)


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
    per_unit, brought = _before_after(result, problem, list(siting.chosen), target)
    return ProposalResult(facility_type, siting.model, siting.method, siting.status,
                          float(siting.gap), float(siting.covered_gain_pop),
                          _sites_frame(cands, siting, brought), per_unit,
                          per_street_table(per_unit), cands, siting)
