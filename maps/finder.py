"""The 关爱地图 finder page: one self-contained HTML file (Leaflet, data and app inlined).

The same page is served by the service (``mode="server"``: search and nearby go to the API) and
written by ``careplan finder`` (``mode="offline"``: the page searches and routes by itself over
the inlined walking network, for a kiosk or a USB stick). No request ever leaves the page's
origin: the base map is the walking network itself, drawn from the data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import numpy as np
import shapely
from jinja2 import Environment, FileSystemLoader, select_autoescape

from maps.assets import leaflet_inline
from maps.runtime import Lang, js_json
from planner.catchments.polygons import CatchmentParams, build_catchments_of
from planner.finder.cards import card_fields
from planner.finder.model import Finder
from planner.io.catalogue import read_catalogue
from planner.io.places import read_everyday_catalogue
from planner.pipeline import PlanResult
from planner.schema import FACILITY_ID, FACILITY_TYPE, NAME

Mode = Literal["care", "meals"]
Transport = Literal["server", "offline"]
TEMPLATES = Path(__file__).resolve().parent / "templates"
#: Walking areas shaded around meal points in the meal map, minutes.
MEAL_AREAS_MIN = (15.0, 30.0)


def _labels() -> dict[str, dict[str, str]]:
    out = {}
    for cat in (read_catalogue(), read_everyday_catalogue()):
        out.update({t.key: {"zh": t.label_zh, "en": t.label_en} for t in cat.types})
    return out


def _network(finder: Finder) -> dict[str, Any]:
    net = finder.index.network
    lon, lat = finder.to_wgs.transform(net.x_m, net.y_m)
    return {"lon": np.round(lon, 6).tolist(), "lat": np.round(lat, 6).tolist(),
            "u": net.edge_u.tolist(), "v": net.edge_v.tolist(),
            "w": np.round(net.edge_walk_s, 2).tolist(),
            "main": net.edge_in_main.astype(int).tolist(),
            "speed": net.speed_m_s}


def _places(finder: Finder) -> list[dict[str, Any]]:
    snap = finder.index.facility_snap
    out = []
    for i, rec in enumerate(finder.places.drop(columns="geometry").to_dict("records")):
        point = finder.places.geometry.iat[i]
        out.append({"id": str(rec[FACILITY_ID]), "name": str(rec[NAME]),
                    "type": str(rec[FACILITY_TYPE]), "group": str(rec["group"]),
                    "lon": round(point.x, 6), "lat": round(point.y, 6),
                    "card": card_fields(rec), "edge": int(snap.edge[i]),
                    "frac": round(float(snap.frac[i]), 5),
                    "access_m": round(float(np.nan_to_num(snap.access_m[i], nan=-1.0)), 2),
                    "ok": bool(snap.routable[i])})
    return out


def _meal_areas(finder: Finder, plan: PlanResult) -> list[dict[str, Any]]:
    """15/30-minute walking areas of the meal points (WGS-84 GeoJSON geometries)."""
    types = finder.places[FACILITY_TYPE].astype(str).to_numpy()
    positions = np.flatnonzero((types == "meal_point") & finder.index.facility_snap.routable)
    if positions.size == 0:
        return []
    built = build_catchments_of(plan.network, finder.index.facility_snap, positions,
                                tuple(60.0 * m for m in MEAL_AREAS_MIN), CatchmentParams())
    out = []
    for pos, t_s, poly, _ in built:
        wgs = shapely.transform(poly.simplify(3.0), lambda xy: np.column_stack(
            finder.to_wgs.transform(xy[:, 0], xy[:, 1])))
        out.append({"id": str(finder.places[FACILITY_ID].iat[pos]), "minutes": t_s / 60.0,
                    "geometry": shapely.geometry.mapping(shapely.set_precision(wgs, 1e-6))})
    return out


def finder_payload(finder: Finder, plan: PlanResult, *, mode: Mode) -> dict[str, Any]:
    """Everything the page's script needs (network, places, names, labels, meal areas)."""
    names = [[e.name, e.kind, round(e.lon, 6), round(e.lat, 6), e.initials]
             for e in finder.names]
    return {"network": _network(finder), "places": _places(finder), "names": names,
            "labels": _labels(), "mode": mode, "label": str(plan.summary.get("label", "")),
            "synthetic": bool(plan.summary.get("synthetic")),
            "maxSnapM": finder.index.max_snap_m,
            "mealAreas": _meal_areas(finder, plan) if mode == "meals" else []}


def build_finder_page(finder: Finder, plan: PlanResult, *, mode: Mode = "care",
                      transport: Transport = "offline", api_base: str = "",
                      lang: Lang = "zh") -> str:
    """The finder (or, with ``mode="meals"``, the 助餐服务地图) as one HTML document."""
    css, js = leaflet_inline()
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["j2"]))
    config = {"transport": transport, "apiBase": api_base, "lang": lang}
    return env.get_template("finder.html.j2").render(
        leaflet_css=css, leaflet_js=js, app_css=(TEMPLATES / "finder.css").read_text("utf-8"),
        app_js=(TEMPLATES / "finder.js").read_text("utf-8"), lang=lang, mode=mode,
        data_json=js_json(finder_payload(finder, plan, mode=mode)), config_json=js_json(config))
