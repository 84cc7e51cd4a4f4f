"""Derive weighted demand points (older adults) from units (社区/村) and residential areas."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planner.params import DemandParams
from planner.schema import OLDER_POP, SETTLEMENT, UNIT_ID, UNIT_NAME, WGS84

logger = logging.getLogger(__name__)

#: Most demand points placed inside one residential piece or one unit without residential areas.
MAX_POINTS_PER_PIECE = 400


@dataclass(frozen=True, slots=True)
class DemandResult:
    """Demand points in the network CRS.

    Attributes
    ----------
    points
        GeoDataFrame: ``demand_id`` (int), ``unit_id``, ``older_pop`` (float, fractional people),
        ``placement`` (``residential`` or ``even``), point geometry (projected CRS).
    units
        The units (projected CRS), derived from residential areas when none were given.
    assumed_density
        True when units were derived with the default older-adult density (say so loudly).
    """

    points: gpd.GeoDataFrame
    units: gpd.GeoDataFrame
    assumed_density: bool


def _grid_points(geom: shapely.Geometry, spacing_m: float) -> np.ndarray:
    """Evenly spaced points inside a polygon (at least its representative point)."""
    minx, miny, maxx, maxy = geom.bounds
    spacing = max(spacing_m, np.sqrt(max(geom.area, 1.0) / MAX_POINTS_PER_PIECE))
    xs = np.arange(minx + spacing / 2, maxx, spacing)
    ys = np.arange(miny + spacing / 2, maxy, spacing)
    if xs.size and ys.size:
        gx, gy = np.meshgrid(xs, ys)
        pts = shapely.points(gx.ravel(), gy.ravel())
        pts = pts[shapely.contains(geom, pts)]
        if pts.size:
            return pts
    return np.array([geom.representative_point()], dtype=object)


def _spread_unit(unit_geom: shapely.Geometry, pieces: list[shapely.Geometry], pop: float,
                 spacing_m: float) -> tuple[list[shapely.Geometry], list[float], str]:
    """Points and weights for one polygon unit."""
    areas = np.array([p.area for p in pieces])
    if pieces and areas.sum() > 0:
        pts: list[shapely.Geometry] = []
        weights: list[float] = []
        for piece, area in zip(pieces, areas, strict=True):
            piece_pts = _grid_points(piece, spacing_m)
            pts.extend(piece_pts)
            weights.extend([pop * area / areas.sum() / piece_pts.size] * piece_pts.size)
        return pts, weights, "residential"
    grid = _grid_points(unit_geom, spacing_m)
    return list(grid), [pop / grid.size] * grid.size, "even"


def derive_units_from_residential(
    residential: gpd.GeoDataFrame, params: DemandParams, crs: str
) -> gpd.GeoDataFrame:
    """Units from residential land use (else residential buildings) at the default density.

    Each ``landuse=residential`` polygon (or building when there is no land use) becomes a unit
    with ``older_pop = area_km2 * default_older_per_km2``, settlement urban.
    """
    res = residential.to_crs(crs)
    kind = "landuse" if (res.get("kind") == "landuse").any() else "building"
    if "kind" in res.columns:
        res = res[res["kind"] == kind]
    res = res[res.geometry.area > 0].reset_index(drop=True)
    names = res["name"].fillna("").astype(str) if "name" in res.columns else pd.Series([""] * len(res))
    ids = res["osm_id"].astype(str) if "osm_id" in res.columns else pd.Series(res.index.astype(str))
    return gpd.GeoDataFrame(
        {
            UNIT_ID: ids.to_numpy(),
            UNIT_NAME: np.where(names != "", names, "未命名居住区 " + ids),
            OLDER_POP: res.geometry.area.to_numpy() / 1e6 * params.default_older_per_km2,
            SETTLEMENT: "urban",
        },
        geometry=res.geometry.to_numpy(),
        crs=crs,
    )


def build_demand_points(
    units: gpd.GeoDataFrame | None,
    residential: gpd.GeoDataFrame | None,
    params: DemandParams,
    crs: str,
) -> DemandResult:
    """Spread each unit's older adults over its residential areas, else evenly.

    Parameters
    ----------
    units
        Validated units (WGS-84) or ``None`` to derive them from ``residential``.
    residential
        Residential polygons (WGS-84) or ``None``.
    params
        Point spacing (m) and default density (older adults per km2).
    crs
        Projected CRS of the network (metres).
    """
    assumed = units is None
    if units is None:
        units_p = derive_units_from_residential(
            residential if residential is not None else gpd.GeoDataFrame(geometry=[], crs=WGS84),
            params, crs,
        )
        logger.warning("no units given: demand ASSUMES %.0f older adults per km2 of residential land",
                       params.default_older_per_km2)
    else:
        units_p = units.to_crs(crs)
    res_geoms = (
        residential.to_crs(crs).geometry.to_numpy() if residential is not None and len(residential)
        else np.array([], dtype=object)
    )
    res_tree = shapely.STRtree(res_geoms)
    rows: list[tuple[str, float, str]] = []
    geoms: list[shapely.Geometry] = []
    for uid, pop, geom in zip(units_p[UNIT_ID], units_p[OLDER_POP], units_p.geometry, strict=True):
        if geom is None or geom.is_empty:
            continue
        if geom.geom_type == "Point":
            pts, weights, how = [geom], [float(pop)], "point"
        else:
            hits = res_tree.query(geom, predicate="intersects")
            pieces = [g for g in shapely.intersection(res_geoms[hits], geom) if g.area > 1.0]
            pts, weights, how = _spread_unit(geom, pieces, float(pop), params.point_spacing_m)
        geoms.extend(pts)
        rows.extend((uid, w, how) for w in weights)
    frame = pd.DataFrame(rows, columns=[UNIT_ID, OLDER_POP, "placement"])
    frame.insert(0, "demand_id", np.arange(len(frame)))
    points = gpd.GeoDataFrame(frame, geometry=geoms, crs=crs)
    logger.info("demand: %d points for %d units, %.0f older adults", len(points), len(units_p),
                frame[OLDER_POP].sum())
    return DemandResult(points=points, units=units_p, assumed_density=assumed)
