"""Compact layer text for city-scale care maps: columns of properties, integer delta coordinates.

GeoJSON repeats every property name per feature and spells each vertex as two 16-digit
decimals (about 40 bytes); at a city's 80,000 units and millions of catchment vertices the
page passed 280 MB. A *packed* layer holds each property once as a column and every ring as
integers on a :data:`GRID_DEG` grid (about 1 m), each vertex the step from the previous one
(a few bytes). The browser runtime (``careplan.unpack`` in :mod:`maps.runtime`) turns it back
into a GeoJSON FeatureCollection; :func:`unpack` here is its Python mirror, for tests.

Layout::

    {"type": "careplan-packed", "n": 2, "scale": 100000, "origin": [lon0, lat0],
     "props": {"name": ["a", "b"], "type": {"values": ["x"], "codes": [0, 0]}, ...},
     "points": [x0, y0, x1, y1]                       # Point layers: absolute grid steps
     "polygons": [[[x, y, dx, dy, ...], ...], ...]}   # else: per feature, polygons of rings
"""

from __future__ import annotations

import json
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

#: Grid step of packed coordinates, degrees (1.1 m north-south, under 1 m east-west in China).
GRID_DEG: Final = 1e-5
SCALE: Final = round(1 / GRID_DEG)


def _grid(coords: NDArray[np.float64], origin: NDArray[np.float64]) -> NDArray[np.int64]:
    return np.round((coords - origin) * SCALE).astype(np.int64)


def _ring_text(steps: NDArray[np.int64], starts: NDArray[np.int64]) -> list[str]:
    """Each ring's ``x, y, dx, dy, ...`` text (first vertex absolute, then steps)."""
    flat = steps.ravel().tolist()
    bounds = np.append(starts, len(steps)) * 2
    return [",".join(map(str, flat[a:b])) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def _polygon_json(geoms: NDArray[np.object_], origin: NDArray[np.float64]) -> list[str]:
    """Per feature ``[[ring, ring], [ring]]`` (polygons of rings) as JSON text."""
    parts, feature_of = shapely.get_parts(geoms, return_index=True)
    rings, part_of = shapely.get_rings(parts, return_index=True)
    coords, ring_of = shapely.get_coordinates(rings, return_index=True)
    grid = _grid(coords, origin)
    starts = np.searchsorted(ring_of, np.arange(len(rings)))
    steps = grid.copy()
    steps[1:] -= grid[:-1]
    steps[starts[starts < len(grid)]] = grid[starts[starts < len(grid)]]
    texts = _ring_text(steps, starts)
    per_part: list[list[str]] = [[] for _ in range(len(parts))]
    for k, text in enumerate(texts):
        per_part[part_of[k]].append(f"[{text}]")
    per_feature: list[list[str]] = [[] for _ in range(len(geoms))]
    for k, rings_text in enumerate(per_part):
        per_feature[feature_of[k]].append("[" + ",".join(rings_text) + "]")
    return ["[" + ",".join(polys) + "]" for polys in per_feature]


def _column(series: pd.Series) -> str:
    """A property column as a JSON list; a text column of few distinct values (a type, a
    reason) as ``{"values": [...], "codes": [...]}``."""
    values = series.astype(object).where(series.notna(), None).tolist()
    values = [v.item() if isinstance(v, np.generic) else v for v in values]
    if len(values) >= 8 and all(isinstance(v, str) for v in values):
        distinct, codes = np.unique(np.asarray(values, dtype=object), return_inverse=True)
        if len(distinct) * 4 <= len(values):
            return json.dumps({"values": distinct.tolist(), "codes": codes.ravel().tolist()},
                              ensure_ascii=False, separators=(",", ":"))
    return json.dumps(values, ensure_ascii=False, separators=(",", ":"))


def packed_text(frame: gpd.GeoDataFrame) -> str:
    """A lon/lat frame of points or (multi)polygons as packed layer text (JSON)."""
    geoms = np.asarray(frame.geometry.array, dtype=object)
    name = frame.geometry.name
    props = ", ".join(f"{json.dumps(str(c), ensure_ascii=False)}: {_column(frame[c])}"
                      for c in frame.columns if c != name)
    valid = geoms[~shapely.is_empty(geoms)]
    lo = shapely.bounds(valid) if len(valid) else np.zeros((1, 4))
    origin = np.array([np.floor(np.nanmin(lo[:, 0])), np.floor(np.nanmin(lo[:, 1]))])
    head = (f'{{"type": "careplan-packed", "n": {len(frame)}, "scale": {SCALE}, '
            f'"origin": [{origin[0]:g}, {origin[1]:g}], "props": {{{props}}}, ')
    if len(geoms) and bool(np.all(shapely.get_type_id(geoms) == 0)):
        xy = _grid(shapely.get_coordinates(geoms), origin)
        return head + '"points": [' + ",".join(map(str, xy.ravel().tolist())) + "]}"
    return head + '"polygons": [' + ",".join(_polygon_json(geoms, origin)) + "]}"


def _ring(values: list[int], origin: list[float], scale: float) -> list[list[float]]:
    out, x, y = [], 0, 0
    for i in range(0, len(values), 2):
        x, y = x + values[i], y + values[i + 1]
        out.append([origin[0] + x / scale, origin[1] + y / scale])
    return out


def unpack(layer: dict[str, Any]) -> dict[str, Any]:
    """A packed layer back as a GeoJSON FeatureCollection (as the browser runtime does)."""
    if layer.get("type") != "careplan-packed":
        return layer
    origin, scale, n = layer["origin"], layer["scale"], layer["n"]
    props = {k: [v["values"][c] for c in v["codes"]] if isinstance(v, dict) else v
             for k, v in layer["props"].items()}
    features = []
    for i in range(n):
        if "points" in layer:
            x, y = layer["points"][2 * i], layer["points"][2 * i + 1]
            geom: dict[str, Any] = {"type": "Point",
                                    "coordinates": [origin[0] + x / scale, origin[1] + y / scale]}
        else:
            geom = {"type": "MultiPolygon", "coordinates": [
                [_ring(r, origin, scale) for r in poly] for poly in layer["polygons"][i]]}
        features.append({"type": "Feature", "properties": {k: v[i] for k, v in props.items()},
                         "geometry": geom})
    return {"type": "FeatureCollection", "features": features}
