"""PlanResult layers -> WGS-84 or GCJ-02 lon/lat GeoDataFrames (for the map and the REST API)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from planner.network.coords import wgs84_to_gcj02
from planner.pipeline import PlanResult

WGS84: Final = "EPSG:4326"
#: Names of the frames :func:`layer_frames` returns, in drawing order.
LAYER_NAMES: Final[tuple[str, ...]] = (
    "units", "dissolved", "catchments", "gaps", "facilities", "demand",
)
#: Columns of the ``gaps`` frame taken from ``PlanResult.gaps``.
GAP_FIELDS: Final[tuple[str, ...]] = (
    "rank", "unit_id", "unit_name", "facility_type", "threshold_min", "older_pop", "covered_pop",
    "covered_share", "target_share", "uncovered_pop", "reason", "reason_text",
)


def _shift_coords(coords: NDArray[np.float64]) -> NDArray[np.float64]:
    lon, lat = wgs84_to_gcj02(coords[:, 0], coords[:, 1])
    return np.column_stack([lon, lat])


def shift_to_gcj02(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Shift every vertex of a WGS-84 frame to GCJ-02 lon/lat (Amap/Gaode tiles).

    Parameters
    ----------
    frame
        Geometry in EPSG:4326 degrees.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy with shifted geometry; the CRS stays labelled EPSG:4326 because GCJ-02 has no
        EPSG code (the values are GCJ-02 degrees).
    """
    out = frame.copy()
    geoms = shapely.transform(np.asarray(frame.geometry.array, dtype=object), _shift_coords)
    out = out.set_geometry(gpd.GeoSeries(geoms, index=frame.index, crs=WGS84))
    return out


def simplify_for_display(geoms: NDArray[np.object_], tolerance_m: float) -> NDArray[np.object_]:
    """Douglas-Peucker simplification of drawn geometry; polygons stay valid.

    GEOS repairs a polygon whose simplified rings cross (``buffer(0)``), so the result is valid
    and within ``tolerance_m`` of the input. The topology-preserving simplifier is not used: it
    tests every flattened stretch against every other ring of the polygon, which is quadratic in
    the holes -- a city's dissolved 30-minute catchment (600k vertices, 6,000 holes) took 44 s,
    ten times that ran for hours. Where no ring would cross, both flatten the same stretches;
    on a city's dissolved polygons the two results differ by slivers (symmetric difference under
    a millionth of the area).
    """
    return np.asarray(shapely.simplify(geoms, tolerance_m, preserve_topology=False), dtype=object)


def _to_lonlat(frame: gpd.GeoDataFrame, simplify_m: float) -> gpd.GeoDataFrame:
    """Copy in EPSG:4326, simplified in the source (metric) CRS first when asked."""
    out = frame.copy()
    if simplify_m > 0 and len(out) and out.crs is not None and out.crs.is_projected:
        geoms = simplify_for_display(np.asarray(out.geometry.array, dtype=object), simplify_m)
        out = out.set_geometry(gpd.GeoSeries(geoms, index=out.index, crs=out.crs))
    out = out.to_crs(WGS84) if out.crs is not None else out.set_crs(WGS84)
    name = out.geometry.name
    return out[[c for c in out.columns if c != name] + [name]]


def geojson_text(frame: gpd.GeoDataFrame) -> str:
    """The frame as GeoJSON FeatureCollection text (no ids, NaN as null, UTF-8 kept).

    The same features as ``frame.to_json(drop_id=True, ensure_ascii=False)``, but geometries are
    written by GEOS in one vectorised call instead of one Python ``mapping`` per row, which is
    the cost at a city's tens of thousands of polygons and millions of vertices.
    """
    name = frame.geometry.name
    geoms = shapely.to_geojson(np.asarray(frame.geometry.array, dtype=object))
    props = pd.DataFrame(frame.drop(columns=name)).astype(object)
    props = props.where(props.notna(), None)
    columns = [str(c) for c in props.columns]
    rows = props.itertuples(index=False, name=None)
    features = [
        f'{{"type": "Feature", "properties": '
        f'{json.dumps(dict(zip(columns, values, strict=True)), ensure_ascii=False)}, '
        f'"geometry": {"null" if geom is None else geom}}}'
        for values, geom in zip(rows, geoms, strict=True)]
    return '{"type": "FeatureCollection", "features": [' + ", ".join(features) + "]}"


def coverage_wide(coverage: pd.DataFrame) -> pd.DataFrame:
    """Pivot the long coverage table to one row per unit.

    Parameters
    ----------
    coverage
        ``PlanResult.coverage`` (one row per unit and facility type).

    Returns
    -------
    pandas.DataFrame
        Index ``unit_id``; columns ``covered_share_<type>``, ``covered_pop_<type>`` and
        ``threshold_min_<type>`` for every type in ``coverage``.
    """
    if coverage.empty:
        return pd.DataFrame(index=pd.Index([], name="unit_id"))
    wide = coverage.pivot_table(index="unit_id", columns="facility_type",
                                values=["covered_share", "covered_pop", "threshold_min"],
                                aggfunc="first")
    wide.columns = [f"{value}_{ftype}" for value, ftype in wide.columns]
    return wide


def _units(result: PlanResult) -> gpd.GeoDataFrame:
    wide = coverage_wide(result.coverage)
    units = result.units.copy()
    units["unit_id"] = units["unit_id"].astype(str)
    return units.join(wide, on="unit_id")


def _gaps(result: PlanResult) -> gpd.GeoDataFrame:
    geom = result.units.assign(unit_id=result.units["unit_id"].astype(str))[["unit_id", "geometry"]]
    gaps = pd.DataFrame(result.gaps[list(GAP_FIELDS)]).astype({"unit_id": str})
    merged = gaps.merge(geom, on="unit_id", how="inner")
    return gpd.GeoDataFrame(merged, geometry="geometry", crs=result.units.crs)


def _facilities(result: PlanResult) -> gpd.GeoDataFrame:
    keep = [c for c in result.facilities.columns if c not in ("snap_edge",)]
    return result.facilities[keep]


_BUILDERS: Final[dict[str, Callable[[PlanResult], gpd.GeoDataFrame]]] = {
    "units": _units,
    "dissolved": lambda r: r.dissolved,
    "catchments": lambda r: r.catchments,
    "gaps": _gaps,
    "facilities": _facilities,
    "demand": lambda r: r.demand,
}


def layer_frame(result: PlanResult, name: str, *, to_gcj02: bool = False,
                simplify_m: float = 0.0) -> gpd.GeoDataFrame:
    """One presentation layer of a plan in lon/lat degrees.

    Parameters
    ----------
    result
        A finished analysis (geometry in its projected metric CRS).
    name
        One of :data:`LAYER_NAMES`.
    to_gcj02
        Shift coordinates to GCJ-02 (for Amap/Gaode base maps); WGS-84 otherwise.
    simplify_m
        Douglas-Peucker tolerance in metres applied in the projected CRS before reprojection
        (0 keeps every vertex).

    Returns
    -------
    geopandas.GeoDataFrame
        In EPSG:4326 (or GCJ-02 degrees); columns as listed in :func:`layer_frames`.

    Raises
    ------
    KeyError
        ``name`` is not a layer name.
    """
    if name not in _BUILDERS:
        msg = f"unknown layer {name!r}; choose one of {', '.join(LAYER_NAMES)}"
        raise KeyError(msg)
    frame = _to_lonlat(_BUILDERS[name](result), simplify_m)
    return shift_to_gcj02(frame) if to_gcj02 else frame


def layer_frames(result: PlanResult, *, to_gcj02: bool = False,
                 simplify_m: float = 0.0) -> dict[str, gpd.GeoDataFrame]:
    """All presentation layers of a plan as lon/lat GeoDataFrames.

    Parameters
    ----------
    result
        A finished analysis (geometry in its projected metric CRS).
    to_gcj02
        Shift every coordinate WGS-84 -> GCJ-02 so overlays line up with Amap/Gaode tiles.
    simplify_m
        Polygon simplification tolerance in metres (0: exact geometry).

    Returns
    -------
    dict of str to geopandas.GeoDataFrame
        ``facilities`` (facility_id, name, type, capacity, snap_access_m, snap_status, point),
        ``units`` (unit_id, name, older_pop, settlement, ``covered_share_<type>``,
        ``covered_pop_<type>``, ``threshold_min_<type>`` per facility type, polygon or point),
        ``catchments`` (facility_id, type, threshold_min, reached_length_m, polygon; empty when
        the plan built none), ``dissolved`` (type, threshold_min, polygon), ``gaps`` (one row
        per gap: :data:`GAP_FIELDS` plus the unit's geometry) and ``demand`` (demand_id, unit_id,
        older_pop, placement, status, point). All in EPSG:4326 degrees (GCJ-02 degrees when
        ``to_gcj02``).
    """
    return {name: layer_frame(result, name, to_gcj02=to_gcj02, simplify_m=simplify_m)
            for name in LAYER_NAMES}


def sites_frame(sites: gpd.GeoDataFrame, *, to_gcj02: bool = False) -> gpd.GeoDataFrame:
    """Proposed sites (``site_id, rank, covered_gain``, points in any CRS) in lon/lat degrees."""
    frame = _to_lonlat(sites, 0.0)
    return shift_to_gcj02(frame) if to_gcj02 else frame
