"""Demand points from population-grid cells: per cell, or per cell piece inside each unit.

Without units, every populated cell is one demand point at its centre carrying the cell's older
adults, and the points are aggregated to a generated square grid (250 m or 1 km) that plays the
role of the units (same coverage tables). With units, each cell is cut by the unit polygons and
each piece is a demand point; the unit's ``older_pop`` is then distributed over its pieces in
proportion to the raster's people in them (dasymetric mapping: the unit total is kept, the raster
gives the pattern inside the unit). A unit whose pieces hold nobody in the raster keeps the
ordinary spreading (residential land, else even), and is counted.

Hand-worked example (dasymetric): a unit with ``older_pop`` 90 covers two cells with 10 and 20
people in the raster; its pieces carry 90 * 10/30 = 30 and 90 * 20/30 = 60.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planner.coverage.demand import DemandResult, build_demand_points
from planner.coverage.population import PopulationCells, population_cells
from planner.params import DemandParams
from planner.schema import OLDER_POP, SETTLEMENT, UNIT_ID, UNIT_NAME, PlanInputs
from planner.warnings_log import WarningLog

#: Sizes of the generated aggregation grid, metres.
GRID_SIZES_M: tuple[int, ...] = (250, 1000)


@dataclass(frozen=True, slots=True)
class PopulationDemand:
    """Demand built from a population grid, with what to say about it.

    Attributes
    ----------
    demand
        Points (``demand_id, unit_id, older_pop, placement``) and units.
    method
        ``raster`` (cell counts, units = generated grid) or ``dasymetric`` (unit totals kept).
    info
        Figures for ``summary.json`` (see :func:`build_population_demand`).
    """

    demand: DemandResult
    method: str
    info: dict[str, Any]


def grid_units(x_m: np.ndarray, y_m: np.ndarray, pop: np.ndarray, size_m: int, crs: str
               ) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """Square grid cells of ``size_m`` holding the points, and each point's cell (row position).

    Cells are aligned at multiples of ``size_m`` in the network CRS; only cells with points are
    returned (sorted by id), with ``older_pop`` = the sum of their points' people.
    """
    if size_m not in GRID_SIZES_M:
        msg = f"population grid {size_m} m is not offered; use one of {GRID_SIZES_M}"
        raise ValueError(msg)
    ix, iy = np.floor(x_m / size_m).astype(np.int64), np.floor(y_m / size_m).astype(np.int64)
    span = int(iy.max(initial=0) - iy.min(initial=0)) + 1
    key = (ix - ix.min(initial=0)) * span + (iy - iy.min(initial=0))
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    label = "250m" if size_m == 250 else "1km"
    ids = np.array([f"g{label}_{a}_{b}" for a, b in zip(ix[first], iy[first], strict=True)],
                   dtype=object)
    sums = np.bincount(inverse, weights=pop, minlength=ids.size)
    gx, gy = ix[first] * float(size_m), iy[first] * float(size_m)
    order = np.argsort(ids.astype(str), kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    units = gpd.GeoDataFrame(
        {UNIT_ID: ids[order], UNIT_NAME: [f"{label} 网格 {i}" for i in ids[order]],
         OLDER_POP: sums[order], SETTLEMENT: "urban"},
        geometry=shapely.box(gx, gy, gx + size_m, gy + size_m)[order], crs=crs)
    return units, rank[inverse]


def _points_frame(unit_ids: np.ndarray, pop: np.ndarray, placement: np.ndarray,
                  geoms: np.ndarray, crs: str, sort_key: np.ndarray | None = None
                  ) -> gpd.GeoDataFrame:
    """Demand points ordered by unit (``sort_key``: an integer unit order, else ``unit_ids``)."""
    order = np.argsort(unit_ids if sort_key is None else sort_key, kind="stable")
    frame = pd.DataFrame({"demand_id": np.arange(order.size), UNIT_ID: unit_ids[order],
                          OLDER_POP: pop[order], "placement": placement[order]})
    return gpd.GeoDataFrame(frame, geometry=geoms[order], crs=crs)


def _cell_demand(cells: PopulationCells, size_m: int, crs: str) -> DemandResult:
    units, pos = grid_units(cells.x_m, cells.y_m, cells.pop, size_m, crs)
    ids = units[UNIT_ID].to_numpy()[pos]
    placement = np.full(ids.size, "cell", dtype=object)
    points = _points_frame(ids, cells.pop, placement, shapely.points(cells.x_m, cells.y_m), crs,
                           sort_key=pos)
    return DemandResult(points=points, units=units, assumed_density=False)


def _dasymetric(cells: PopulationCells, units: gpd.GeoDataFrame,
                residential: gpd.GeoDataFrame | None, params: DemandParams, crs: str
                ) -> tuple[DemandResult, int]:
    base = build_demand_points(units, residential, params, crs)
    units_p = base.units
    geoms = units_p.geometry.to_numpy()
    polys = cells.polygons
    ui, ci = shapely.STRtree(polys).query(geoms, predicate="intersects")
    pieces = shapely.intersection(geoms[ui], polys[ci])
    share = shapely.area(pieces) / np.maximum(shapely.area(polys[ci]), 1e-9)
    raster_pop = cells.pop[ci] * share
    keep = (raster_pop > 0) & ~shapely.is_empty(pieces)
    ui, pieces, raster_pop = ui[keep], pieces[keep], raster_pop[keep]
    per_unit = np.bincount(ui, weights=raster_pop, minlength=len(units_p))
    total = units_p[OLDER_POP].to_numpy(dtype=float)
    weight = total[ui] * raster_pop / per_unit[ui]
    fallback = per_unit <= 0
    old = base.points[base.points[UNIT_ID].isin(units_p[UNIT_ID].to_numpy()[fallback])]
    unit_ids = np.concatenate([units_p[UNIT_ID].to_numpy()[ui], old[UNIT_ID].to_numpy()])
    pop = np.concatenate([weight, old[OLDER_POP].to_numpy(dtype=float)])
    pts = np.concatenate([shapely.point_on_surface(pieces), old.geometry.to_numpy()])
    placement = np.concatenate([np.full(weight.size, "cell_piece", dtype=object),
                                old["placement"].to_numpy(dtype=object)])
    points = _points_frame(unit_ids, pop, placement, pts, crs)
    return DemandResult(points=points, units=units_p, assumed_density=False), int(fallback.sum())


def build_population_demand(cells: PopulationCells, units: gpd.GeoDataFrame | None,
                            residential: gpd.GeoDataFrame | None, params: DemandParams, crs: str,
                            grid_m: int = 250) -> PopulationDemand:
    """Demand points from populated cells (see the module docstring).

    Returns
    -------
    PopulationDemand
        ``info`` holds ``method``, ``raster_older_pop`` (people in the cells), ``cells``,
        ``clipped_outside_pop``, ``nodata_cells``, ``negative_cells``, ``aggregation`` and, for
        the dasymetric method, ``units_without_raster_people``.
    """
    info: dict[str, Any] = {
        "raster_older_pop": float(cells.pop.sum()), "cells": int(cells.pop.size),
        "cell_size": list(cells.cell_size), "clipped_outside_pop": cells.clipped_pop,
        "nodata_cells": cells.nodata_cells, "negative_cells": cells.negative_cells}
    if units is None:
        info.update(method="raster", aggregation=f"grid_{grid_m}m")
        return PopulationDemand(_cell_demand(cells, grid_m, crs), "raster", info)
    demand, fallback = _dasymetric(cells, units, residential, params, crs)
    info.update(method="dasymetric", aggregation="units", units_without_raster_people=fallback)
    return PopulationDemand(demand, "dasymetric", info)


def residential_units(demand: gpd.GeoDataFrame, residential: gpd.GeoDataFrame | None, crs: str
                      ) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, np.ndarray]:
    """OSM residential polygons as units, the demand relabelled to them, and its row positions.

    A demand point belongs to the first residential polygon containing it; points in none are
    left out of this table (they are in the grid table). The positions index ``demand``'s rows.
    """
    empty = gpd.GeoDataFrame({UNIT_ID: [], UNIT_NAME: [], OLDER_POP: [], SETTLEMENT: []},
                             geometry=[], crs=crs)
    if residential is None or not len(residential):
        return empty, demand.iloc[:0].copy(), np.array([], dtype=np.int64)
    res = residential.to_crs(crs)
    if "kind" in res.columns and (res["kind"] == "landuse").any():
        res = res[res["kind"] == "landuse"]
    res = res[res.geometry.area > 0].reset_index(drop=True)
    ids = res["osm_id"].astype(str) if "osm_id" in res.columns else pd.Series(
        "res" + res.index.astype(str))
    names = res["name"].fillna("").astype(str) if "name" in res.columns else ids
    res = gpd.GeoDataFrame({UNIT_ID: ids.to_numpy(), UNIT_NAME: np.where(
        names != "", names, "未命名居住区 " + ids), OLDER_POP: 0.0, SETTLEMENT: "urban"},
        geometry=res.geometry.to_numpy(), crs=crs)
    tree = shapely.STRtree(shapely.make_valid(res.geometry.to_numpy()))
    pi, ri = tree.query(demand.geometry.to_numpy(), predicate="within")
    first = np.unique(pi, return_index=True)[1]
    pi, ri = pi[first], ri[first]
    rel = demand.iloc[pi].reset_index(drop=True).copy()
    rel[UNIT_ID] = res[UNIT_ID].to_numpy()[ri]
    sums = rel.groupby(UNIT_ID)[OLDER_POP].sum()
    res = res[res[UNIT_ID].isin(sums.index)].copy()
    res[OLDER_POP] = res[UNIT_ID].map(sums).to_numpy()
    return res.reset_index(drop=True), rel, pi


def demand_from_inputs(inputs: PlanInputs, units: gpd.GeoDataFrame | None, params: DemandParams,
                       crs: str, log: WarningLog) -> tuple[DemandResult, dict[str, Any] | None]:
    """The run's demand: from the population rasters when given, else units/residential land.

    Records the counted notes of a population grid (clipped, nodata, negative, assumed share).
    """
    pop = inputs.population
    if pop is None:
        return build_demand_points(units, inputs.residential, params, crs), None
    area = inputs.study_area
    if area is None:
        net = inputs.network
        area = shapely.box(net.lon.min(), net.lat.min(), net.lon.max(), net.lat.max())
    cells = population_cells(list(pop.grids), area, crs, pop.older_share,
                             with_corners=units is not None)
    built = build_population_demand(cells, units, inputs.residential, params, crs, pop.grid_m)
    info = {**built.info, "files": dict(pop.files), "bands": list(pop.bands),
            "older_share": pop.older_share, "older_share_assumed": pop.older_share is not None}
    if cells.clipped_pop > 0.005:
        log.add("population_clipped", 1, f"population raster partly outside the study area: "
                f"{cells.clipped_pop:.0f} people outside it were clipped")
    for code, n, text in (("population_nodata", cells.nodata_cells, "cells without data"),
                          ("population_negative", cells.negative_cells,
                           "cells with a negative count, set to 0")):
        if n:
            log.add(code, n, f"population raster: {n} {text} in the study area")
    if pop.older_share is not None:
        log.add("assumed_older_share", cells.pop.size,
                f"OLDER-ADULT SHARE ASSUMED: population raster x {pop.older_share:g}; give "
                "age-band rasters (e.g. WorldPop 60+ bands) for real figures")
    return built.demand, info
