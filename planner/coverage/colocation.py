"""Place facilities in administrative units and measure elderly-to-health facility distances (医养结合)."""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from planner.network.crs import choose_utm_crs, project_lonlat

COLOCATION_COLUMNS = ("facility_id", "nearest_health_id", "distance_m", "distance_kind")


def _xy(frame: gpd.GeoDataFrame, crs: str) -> np.ndarray:
    pts = frame.geometry.representative_point()
    x, y = project_lonlat(pts.x.to_numpy(float), pts.y.to_numpy(float), crs)
    return np.column_stack([x, y])


def assign_units(facilities: gpd.GeoDataFrame, units: gpd.GeoDataFrame) -> pd.Series:
    """Bottom-level unit of each facility (index aligned with ``facilities``; NaN when none).

    Polygon units: the unit containing the facility. Point units: the unit named in the
    register's ``community`` (所属社区) column, else the nearest unit point.
    """
    if len(facilities) == 0 or len(units) == 0:
        return pd.Series(np.nan, index=facilities.index, dtype=object)
    is_polygon = units.geometry.geom_type.isin(["Polygon", "MultiPolygon"]).all()
    if is_polygon:
        joined = gpd.sjoin(facilities[["geometry"]], units[["unit_id", "geometry"]],
                           how="left", predicate="within")
        first = joined[~joined.index.duplicated(keep="first")]
        return first["unit_id"].reindex(facilities.index).astype(object)
    by_name = dict(zip(units["name"].astype(str), units["unit_id"].astype(str), strict=True))
    named = facilities.get("community", pd.Series("", index=facilities.index)).fillna("")
    out = named.astype(str).map(by_name)
    missing = out.isna()
    if missing.any():
        crs = choose_utm_crs(units.geometry.x.to_numpy(float), units.geometry.y.to_numpy(float))
        tree = cKDTree(_xy(units, crs))
        _, idx = tree.query(_xy(facilities.loc[missing], crs))
        out.loc[missing] = units["unit_id"].astype(str).to_numpy()[np.atleast_1d(idx)]
    return out.astype(object)


def compute_colocation(
    facilities: gpd.GeoDataFrame,
    *,
    types: Sequence[str],
    health_types: Sequence[str] = ("health",),
    network: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Distance from each elderly facility of ``types`` to the nearest health facility.

    Parameters
    ----------
    facilities
        EPSG:4326 points with ``facility_id`` and ``type``.
    types, health_types
        Elderly facility types measured, and the types counted as health facilities.
    network
        Optional precomputed network distances: ``facility_id, distance_m`` (and optionally
        ``nearest_health_id``); they replace the straight-line distance where given.

    Returns
    -------
    pandas.DataFrame
        ``facility_id, nearest_health_id, distance_m, distance_kind`` (``straight`` metres in the
        study area's UTM zone, or ``network``); ``distance_m`` is NaN without health facilities.
    """
    elderly = facilities.loc[facilities["type"].isin(list(types))]
    health = facilities.loc[facilities["type"].isin(list(health_types))]
    out = pd.DataFrame({"facility_id": elderly["facility_id"].astype(str).to_numpy(),
                        "nearest_health_id": None, "distance_m": np.nan,
                        "distance_kind": "straight"})
    if len(elderly) and len(health):
        pts = facilities.geometry
        crs = choose_utm_crs(pts.x.to_numpy(float), pts.y.to_numpy(float))
        dist, idx = cKDTree(_xy(health, crs)).query(_xy(elderly, crs))
        out["distance_m"] = np.atleast_1d(dist)
        out["nearest_health_id"] = health["facility_id"].astype(str).to_numpy()[np.atleast_1d(idx)]
    if network is not None and len(network):
        net = network.assign(facility_id=network["facility_id"].astype(str)).set_index("facility_id")
        hit = out["facility_id"].isin(net.index) & net.reindex(out["facility_id"])[
            "distance_m"].notna().to_numpy()
        out.loc[hit, "distance_m"] = net.loc[out.loc[hit, "facility_id"], "distance_m"].to_numpy()
        out.loc[hit, "distance_kind"] = "network"
        if "nearest_health_id" in net.columns:
            out.loc[hit, "nearest_health_id"] = net.loc[out.loc[hit, "facility_id"],
                                                         "nearest_health_id"].to_numpy()
    return out[list(COLOCATION_COLUMNS)]
