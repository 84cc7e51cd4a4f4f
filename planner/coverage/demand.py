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


def _valid(geoms: np.ndarray) -> np.ndarray:
    """``shapely.make_valid`` on the invalid geometries only (it returns valid ones unchanged,
    after the same validity test)."""
    bad = ~shapely.is_valid(geoms)
    if not bad.any():
        return geoms
    out = geoms.copy()
    out[bad] = shapely.make_valid(geoms[bad])
    return out


def _grid_in_polygons(polys: np.ndarray, spacing_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Evenly spaced points inside each polygon (vectorised); a representative point when none.

    The spacing grows for large polygons so none gets more than MAX_POINTS_PER_PIECE points.
    Returns ``(polygon index per point, points)``.
    """
    bounds = shapely.bounds(polys)
    area = np.maximum(shapely.area(polys), 1.0)
    spacing = np.maximum(spacing_m, np.sqrt(area / MAX_POINTS_PER_PIECE))
    nx = np.maximum(0, np.floor((bounds[:, 2] - bounds[:, 0]) / spacing).astype(np.int64))
    ny = np.maximum(0, np.floor((bounds[:, 3] - bounds[:, 1]) / spacing).astype(np.int64))
    count = nx * ny
    owner = np.repeat(np.arange(polys.size), count)
    k = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    ix, iy = k % np.repeat(np.maximum(nx, 1), count), k // np.repeat(np.maximum(nx, 1), count)
    px = bounds[owner, 0] + (ix + 0.5) * spacing[owner]
    py = bounds[owner, 1] + (iy + 0.5) * spacing[owner]
    shapely.prepare(polys)  # the same test as contains(poly, point), without building points
    inside = shapely.contains_xy(polys[owner], px, py)
    owner, pts = owner[inside], shapely.points(px[inside], py[inside])
    empty = np.setdiff1d(np.arange(polys.size), owner)
    owner = np.concatenate([owner, empty])
    pts = np.concatenate([pts, shapely.point_on_surface(polys[empty])])
    return owner, pts


def _unit_pieces(units: gpd.GeoDataFrame, res_geoms: np.ndarray) -> pd.DataFrame:
    """Residential pieces per unit with their share of the unit's older adults.

    A residential area wholly inside its unit (``contains_properly``), or the very area the unit
    was made from (``equals_exact``), is its own piece; only the others are cut by a GEOS
    overlay (the same point set; its area may differ from the overlay's in the last bit, as the
    overlay starts the ring elsewhere)."""
    geoms = units.geometry.to_numpy()
    poly = ~np.isin(shapely.get_type_id(geoms), [0, 4])  # not (multi)points
    ui, ri = shapely.STRtree(res_geoms).query(geoms, predicate="intersects")
    keep = poly[ui]
    ui, ri = ui[keep], ri[keep]
    shapely.prepare(geoms)
    pieces = res_geoms[ri].copy()
    # a unit made from this very area (units derived from residential land): its own piece,
    # as one wholly inside is; not intersected with itself (most of a city's demand time)
    cut = ~shapely.equals_exact(geoms[ui], pieces, tolerance=0.0)
    cut[cut] = ~shapely.contains_properly(geoms[ui[cut]], pieces[cut])
    pieces[cut] = shapely.intersection(geoms[ui[cut]], res_geoms[ri[cut]])
    area = shapely.area(pieces)
    ok = area > 1.0
    frame = pd.DataFrame({"unit": ui[ok], "area": area[ok], "placement": "residential"})
    frame["geometry"] = pieces[ok]
    missing = np.setdiff1d(np.flatnonzero(poly), frame["unit"].to_numpy())
    whole = pd.DataFrame({"unit": missing, "area": shapely.area(geoms[missing]),
                          "placement": "even", "geometry": geoms[missing]})
    frame = pd.concat([frame, whole], ignore_index=True)
    frame["share"] = frame["area"] / frame.groupby("unit")["area"].transform("sum")
    return frame


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
    else:
        units_p = units.to_crs(crs)
    units_p = units_p.set_geometry(_valid(units_p.geometry.to_numpy()))
    res_geoms = (
        _valid(residential.to_crs(crs).geometry.to_numpy())
        if residential is not None and len(residential) else np.array([], dtype=object)
    )
    pieces = _unit_pieces(units_p, res_geoms)
    owner, pts = _grid_in_polygons(pieces["geometry"].to_numpy(), params.point_spacing_m)
    per_piece = np.bincount(owner, minlength=len(pieces))
    pop = units_p[OLDER_POP].to_numpy(dtype=float)
    unit_idx = pieces["unit"].to_numpy()[owner]
    weight = pop[unit_idx] * pieces["share"].to_numpy()[owner] / per_piece[owner]
    point_units = np.flatnonzero(np.isin(shapely.get_type_id(units_p.geometry.to_numpy()), [0, 4]))
    unit_idx = np.concatenate([unit_idx, point_units])
    weight = np.concatenate([weight, pop[point_units]])
    kinds = np.array(["residential", "even", "point"], dtype=object)
    kind = np.concatenate([np.where(pieces["placement"].to_numpy()[owner] == "even", 1, 0),
                           np.full(point_units.size, 2)])
    geoms = np.concatenate([pts, shapely.point_on_surface(units_p.geometry.to_numpy()[point_units])])
    order = np.argsort(unit_idx, kind="stable")
    unit_idx, geoms = unit_idx[order], geoms[order]
    ids = units_p[UNIT_ID].reset_index(drop=True)  # taken, not rebuilt from Python strings
    frame = pd.DataFrame({"demand_id": np.arange(order.size),
                          UNIT_ID: ids.take(unit_idx).reset_index(drop=True),
                          OLDER_POP: weight[order],
                          "placement": pd.Series(kinds).take(kind[order]).reset_index(drop=True)})
    points = gpd.GeoDataFrame(frame, geometry=geoms, crs=crs)
    logger.info("demand: %d points for %d units, %.0f older adults", len(points), len(units_p),
                frame[OLDER_POP].sum())
    return DemandResult(points=points, units=units_p, assumed_density=assumed)
