"""What proposed sites change: per-unit and per-street before/after tables, and the sites."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from planner.pipeline import PlanResult
from planner.siting.problem import SitingProblem
from planner.siting.result import SitingResult
from planner.siting.service import compute_service


def _unit_served(problem: SitingProblem, open_sites: list[int]) -> NDArray[np.float64]:
    served = compute_service(problem, open_sites).unit_served_pop
    n_units = int(problem.unit_of_demand.max()) + 1 if problem.unit_of_demand is not None else 0
    return np.pad(served, (0, max(0, n_units - served.size)))


def before_after_units(result: PlanResult, problem: SitingProblem, chosen: list[int],
                       target: float) -> tuple[pd.DataFrame, list[tuple[str, ...]]]:
    """Per unit table and, per ranked site, the units it brings to target.

    Parameters
    ----------
    result
        The finished analysis whose ``units`` the table lists.
    problem
        The siting problem solved.
    chosen
        Chosen candidate indices in rank order.
    target
        Target share of each unit's older adults.

    Returns
    -------
    tuple
        The per-unit table (older adults and shares before and after, at target before and
        after) and, per site, the ``unit_id`` values it brings to target.
    """
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
    """Before/after covered older adults and shares per street (``parent_id``).

    Parameters
    ----------
    per_unit
        The per-unit table of a proposal (``ProposalResult.per_unit``).

    Returns
    -------
    pandas.DataFrame
        ``parent_id, older_pop, before_pop, after_pop, before_share, after_share``; empty when
        no unit has a ``parent_id``.
    """
    if per_unit["parent_id"].isna().all():
        return pd.DataFrame(columns=["parent_id", "older_pop", "before_pop", "after_pop",
                                     "before_share", "after_share"])
    g = per_unit.groupby("parent_id")[["older_pop", "before_pop", "after_pop"]].sum().reset_index()
    denom = g["older_pop"].where(g["older_pop"] > 0)
    g["before_share"] = (g["before_pop"] / denom).fillna(0.0).clip(0, 1)
    g["after_share"] = (g["after_pop"] / denom).fillna(0.0).clip(0, 1)
    return g


def sites_frame(cands: gpd.GeoDataFrame, siting: SitingResult,
                brought: list[tuple[str, ...]]) -> gpd.GeoDataFrame:
    """The chosen sites as points, in rank order.

    Parameters
    ----------
    cands
        The candidates the problem was built from.
    siting
        The solved model.
    brought
        Per site, the ``unit_id`` values it brings to target.

    Returns
    -------
    geopandas.GeoDataFrame
        ``rank, candidate_id, unit_id, gain_pop, units_to_target, capacity``, candidate CRS.
    """
    idx = [s.candidate_idx for s in siting.sites]
    sub = cands.iloc[idx].reset_index(drop=True)
    return gpd.GeoDataFrame({
        "rank": [s.rank for s in siting.sites], "candidate_id": sub["candidate_id"].to_numpy(),
        "unit_id": sub["unit_id"].to_numpy(), "gain_pop": [s.gain_pop for s in siting.sites],
        "units_to_target": [",".join(b) for b in brought],
        "capacity": sub["capacity"].to_numpy()}, geometry=sub.geometry.to_numpy(), crs=cands.crs)
