"""OGC API Features item queries on stored layers: bbox, property filters, paging, zoom."""

from __future__ import annotations

import json
import math
from typing import Any
from urllib.parse import urlencode

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import box

from api.service.errors import ProblemError
from maps.geojson import simplify_for_display

#: Query parameters that are not property filters.
RESERVED = frozenset({"bbox", "limit", "offset", "zoom", "f", "bbox-crs", "datetime"})


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    """``minLon,minLat,maxLon,maxLat`` in WGS-84 degrees (400 problem when malformed)."""
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        values = []
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        raise ProblemError(400, f"bbox={text!r} must be four numbers minLon,minLat,maxLon,maxLat")
    minx, miny, maxx, maxy = values
    if minx > maxx or miny > maxy:
        raise ProblemError(400, f"bbox={text!r} has min > max; give minLon,minLat,maxLon,maxLat")
    return minx, miny, maxx, maxy


def tolerance_deg(zoom: int) -> float:
    """Simplification tolerance in degrees: about one 256-px tile pixel at ``zoom``."""
    return 360.0 / (256 * 2.0**zoom)


def _match(column: pd.Series, value: str) -> pd.Series:
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        try:
            return column == float(value)
        except ValueError:
            return pd.Series(False, index=column.index)
    return column.astype(str) == value


def filter_frame(frame: gpd.GeoDataFrame, *, bbox: str | None,
                 properties: dict[str, str]) -> gpd.GeoDataFrame:
    """Rows inside ``bbox`` whose properties equal the given values (400 for unknown properties)."""
    out = frame
    if bbox and len(out):
        out = out[out.intersects(box(*parse_bbox(bbox)))]
    elif bbox:
        parse_bbox(bbox)
    for name, value in properties.items():
        if name not in out.columns or name == out.geometry.name:
            if not len(frame.columns) or len(frame) == 0:
                continue
            known = ", ".join(c for c in frame.columns if c != frame.geometry.name)
            raise ProblemError(400, f"unknown property {name!r}; filter on one of: {known}")
        out = out[_match(out[name], value)]
    return out


def feature_collection(frame: gpd.GeoDataFrame, *, limit: int, offset: int, zoom: int | None,
                       self_href: str, query: dict[str, str]) -> dict[str, Any]:
    """A GeoJSON FeatureCollection page with OGC ``numberMatched``/``numberReturned`` and links."""
    page = frame.iloc[offset:offset + limit]
    if zoom is not None and len(page):
        page = page.copy()
        geoms = simplify_for_display(np.asarray(page.geometry.array, dtype=object),
                                     tolerance_deg(zoom))  # Douglas-Peucker: not quadratic
        page[page.geometry.name] = gpd.GeoSeries(geoms, index=page.index, crs=page.crs)
    if len(page):
        collection: dict[str, Any] = json.loads(page.to_json(na="null", drop_id=True))
    else:
        collection = {"type": "FeatureCollection", "features": []}
    collection["numberMatched"] = int(len(frame))
    collection["numberReturned"] = int(len(page))
    links = [{"href": _href(self_href, query, offset, limit), "rel": "self",
              "type": "application/geo+json"}]
    if offset + limit < len(frame):
        links.append({"href": _href(self_href, query, offset + limit, limit), "rel": "next",
                      "type": "application/geo+json"})
    collection["links"] = links
    return collection


def _href(base: str, query: dict[str, str], offset: int, limit: int) -> str:
    params = {**query, "offset": str(offset), "limit": str(limit)}
    return f"{base}?{urlencode(params)}"
