"""The finder of one analysis: care facilities and everyday services, snapped, searchable.

Everyday services (group ``everyday``) are shown apart and never enter coverage: they live only
in the finder's own table, never in a PlanResult's facilities.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray
from pyproj import Transformer

from planner.finder.cards import card_fields
from planner.finder.nearby import FinderIndex, build_finder_index, find_nearby
from planner.finder.search import SearchEntry, build_search_index, search
from planner.network.snap import EdgeIndex
from planner.pipeline import PlanResult
from planner.schema import FACILITY_ID, FACILITY_TYPE, NAME, WGS84

CARE, EVERYDAY = "care", "everyday"
#: Largest search radius in walking minutes.
MAX_MINUTES = 60.0


@dataclass(slots=True)
class Finder:
    """Everything the finder answers from.

    Attributes
    ----------
    index
        Network, segment index and snapped places.
    places
        WGS-84 points: ``facility_id, name, type, group`` and card fields; care facilities first.
    xy
        Places in the network CRS, shape (k, 2).
    names
        Search entries (units, places, OSM names).
    to_net, to_wgs
        Coordinate transformers WGS-84 <-> network CRS.
    """

    index: FinderIndex
    places: gpd.GeoDataFrame
    xy: NDArray[np.float64]
    names: list[SearchEntry]
    to_net: Transformer
    to_wgs: Transformer
    records: list[dict[str, Any]]
    types: NDArray[np.str_]


def _everyday_frame(everyday: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
    if everyday is None or not len(everyday):
        return gpd.GeoDataFrame({FACILITY_ID: [], NAME: [], FACILITY_TYPE: []},
                                geometry=[], crs=WGS84)
    frame = everyday.to_crs(WGS84).copy()
    if FACILITY_ID not in frame.columns:
        frame[FACILITY_ID] = "E" + frame.get("place_id", pd.Series(range(len(frame)))).astype(str)
    if FACILITY_TYPE not in frame.columns:
        frame[FACILITY_TYPE] = frame["everyday"]
    return frame


def build_finder(plan: PlanResult, everyday: gpd.GeoDataFrame | None = None,
                 osm_names: gpd.GeoDataFrame | None = None,
                 cards: pd.DataFrame | None = None) -> Finder:
    """Prepare the finder of an analysis.

    Parameters
    ----------
    plan
        A finished analysis (network, facilities, units).
    everyday
        Everyday services (points with ``name`` and ``type`` = an ``[everyday.*]`` key), or None.
    osm_names
        Named OSM places for search (``name, kind``, points), or None.
    cards
        Card columns to add to the facilities (same index), or None.
    """
    care = plan.facilities.to_crs(WGS84).drop(
        columns=["snap_edge", "snap_access_m", "snap_status", "unit_id"], errors="ignore")
    if cards is not None:
        care = care.join(cards[[c for c in cards.columns if c not in care.columns]])
    care["group"] = CARE
    extra = _everyday_frame(everyday).assign(group=EVERYDAY)
    places = gpd.GeoDataFrame(pd.concat([care, extra], ignore_index=True), geometry="geometry",
                              crs=WGS84)
    net = plan.network
    to_net = Transformer.from_crs(WGS84, net.crs, always_xy=True)
    x, y = to_net.transform(places.geometry.x.to_numpy(), places.geometry.y.to_numpy())
    xy = np.column_stack([x, y])
    edges = EdgeIndex(net)
    snap = edges.snap(xy[:, 0], xy[:, 1], plan.params.snap.max_snap_m)
    index = build_finder_index(net, snap, plan.params.snap.max_snap_m, edges)
    records = [{"facility_id": str(r[FACILITY_ID]), "name": str(r[NAME]),
                "type": str(r[FACILITY_TYPE]), "group": str(r["group"]), **card_fields(r),
                "_xy": [round(p.x, 6), round(p.y, 6)]}
               for r, p in zip(places.drop(columns="geometry").to_dict("records"),
                               places.geometry, strict=True)]
    return Finder(index, places, xy, _names(plan, places, osm_names), to_net,
                  Transformer.from_crs(net.crs, WGS84, always_xy=True), records,
                  places[FACILITY_TYPE].astype(str).to_numpy())


def _names(plan: PlanResult, places: gpd.GeoDataFrame,
           osm_names: gpd.GeoDataFrame | None) -> list[SearchEntry]:
    units = plan.units.to_crs(WGS84)
    points = units.geometry.representative_point()
    rows = [(n, "unit", p.x, p.y, str(u)) for n, p, u in
            zip(units["name"], points, units["unit_id"], strict=True)]
    rows += [(n, str(g), p.x, p.y, str(f)) for n, g, p, f in
             zip(places[NAME], places["group"], places.geometry, places[FACILITY_ID], strict=True)]
    if osm_names is not None and len(osm_names):
        named = osm_names.to_crs(WGS84)
        rows += [(n, "osm", p.x, p.y, str(i)) for n, p, i in
                 zip(named["name"], named.geometry, named["place_id"], strict=True)]
    return build_search_index(rows)


def search_places(finder: Finder, query: str) -> list[dict[str, Any]]:
    """Search results as plain dicts (name, kind, lon, lat, ref)."""
    return [{"name": e.name, "kind": e.kind, "lon": round(e.lon, 6), "lat": round(e.lat, 6),
             "ref": e.ref} for e in search(finder.names, query)]


def nearby_geojson(finder: Finder, lon: float, lat: float, minutes: float,
                   types: list[str] | None = None, route: bool = False) -> dict[str, Any]:
    """Reachable places within ``minutes`` of a point, nearest first, as a FeatureCollection.

    Properties: ``facility_id, name, type, group, walk_min, walk_m`` and the card fields; with
    ``route`` a ``route`` LineString (WGS-84) from the point to the place.
    """
    x, y = finder.to_net.transform(lon, lat)
    types_arr = finder.types
    mask = np.isin(types_arr, types) if types else np.ones(len(types_arr), dtype=bool)
    hits = find_nearby(finder.index, float(x), float(y), 60.0 * minutes, mask, finder.xy)
    features = []
    for hit in hits:
        rec = dict(finder.records[hit.position])
        point = rec.pop("_xy")
        head = {k: rec.pop(k) for k in ("facility_id", "name", "type", "group")}
        props: dict[str, Any] = {**head,
                                 "walk_min": round(hit.walk_s / 60.0, 1),
                                 "walk_m": round(hit.walk_m), **rec}
        if route:
            lons, lats = finder.to_wgs.transform(hit.route_xy[:, 0], hit.route_xy[:, 1])
            props["route"] = {"type": "LineString", "coordinates": np.round(
                np.column_stack([lons, lats]), 6).tolist()}
        features.append({"type": "Feature", "properties": props,
                         "geometry": {"type": "Point", "coordinates": point}})
    return {"type": "FeatureCollection", "features": features,
            "numberReturned": len(features),
            "walk_speed_m_s": finder.index.network.speed_m_s}
