"""Areas of closed ways built vectorised, as libosmium's area assembler gives them.

A simple closed way (every node located, at least three distinct locations, no location twice
but in consecutive nodes, the ring not touching or crossing itself) becomes a one-polygon
MultiPolygon whose ring runs counter-clockwise from its smallest location (by lon, then lat):
what libosmium's assembler gives for such a way (tests compare the two). Anything else
(self-intersections, repeated locations, missing nodes, multipolygon relations) is left to
libosmium itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import osmium
import shapely
from numpy.typing import NDArray

from planner.facilities import Catalogue
from planner.io.osm_collect import COORDINATE_PRECISION, Collector, filtered_processor
from planner.io.pbf_blocks import I64, PbfUnsupportedError

Columns = dict[str, Sequence[object]]


def valid_location(x: I64, y: I64) -> NDArray[np.bool_]:
    """Fixed-point locations inside the valid range (a missing node has none)."""
    return (np.abs(x) <= 180 * COORDINATE_PRECISION) & (np.abs(y) <= 90 * COORDINATE_PRECISION)


def _open_rings(counts: I64, x: I64, y: I64) -> tuple[I64, I64, I64, I64, I64] | None:
    """Ring vertices without consecutive repeated locations and without the closing vertex:
    ``x, y``, the ring of each vertex, the vertices per ring and the vertex of each ring with the
    smallest location (by lon, then lat); ``None`` if a ring is not simple to build."""
    n = counts.shape[0]
    way = np.repeat(np.arange(n), counts)
    if not valid_location(x, y).all():
        return None
    keep = np.ones(x.shape[0], dtype=bool)
    keep[1:] = (x[1:] != x[:-1]) | (y[1:] != y[:-1]) | (way[1:] != way[:-1])
    way, x, y = way[keep], x[keep], y[keep]
    per_ring = np.bincount(way, minlength=n)
    keep = np.ones(way.shape[0], dtype=bool)
    keep[np.cumsum(per_ring) - 1] = False
    way, x, y, per_ring = way[keep], x[keep], y[keep], per_ring - 1
    if np.any(per_ring < 3):
        return None
    key = (x + 180 * COORDINATE_PRECISION) * (1 << 31) + (y + 90 * COORDINATE_PRECISION)
    order = np.argsort(key, kind="stable")  # by location; rings in order within one location
    skey, sway = key[order], way[order]
    if np.any((skey[1:] == skey[:-1]) & (sway[1:] == sway[:-1])):
        return None
    smallest = np.minimum.reduceat(key, np.cumsum(per_ring) - per_ring)
    return x, y, way, per_ring, np.flatnonzero(key == smallest[way])


def closed_way_areas(counts: I64, x: I64, y: I64) -> NDArray[np.object_] | None:
    """One MultiPolygon per closed way (``counts`` nodes per way, ``x, y`` fixed-point location
    of every node), or ``None`` when some way needs libosmium's assembler."""
    n = counts.shape[0]
    if n == 0:
        return np.empty(0, dtype=object)
    rings = _open_rings(counts, x, y)
    if rings is None:
        return None
    rx, ry, way, per_ring, start = rings
    base = np.cumsum(per_ring) - per_ring
    local = np.arange(way.shape[0]) - base[way]
    nxt = base[way] + (local + 1) % per_ring[way]
    fx, fy = (rx - rx[start][way]).astype(np.float64), (ry - ry[start][way]).astype(np.float64)
    twice_area = np.bincount(way, weights=fx * fy[nxt] - fx[nxt] * fy, minlength=n)
    step = np.where(twice_area > 0, 1, -1)
    out_ring = np.repeat(np.arange(n), per_ring + 1)
    j = np.arange(out_ring.shape[0]) - np.repeat(base + np.arange(n), per_ring + 1)
    pick = base[out_ring] + (start[out_ring] - base[out_ring] + step[out_ring] * j) \
        % per_ring[out_ring]
    fixed = np.column_stack([rx[pick], ry[pick]]).astype(np.float64)
    ring_offsets = np.concatenate([[0], np.cumsum(per_ring + 1)])
    one_each = np.arange(n + 1)
    # a closed line is simple when the ring neither touches nor crosses itself; tested on the
    # integer coordinates (exact in doubles), so that collinear spikes and flat rings, which
    # libosmium sees in integers, are not hidden by rounding
    lines = shapely.from_ragged_array(shapely.GeometryType.LINESTRING, fixed, (ring_offsets,))
    if not shapely.is_simple(lines).all():
        return None
    coords = fixed / COORDINATE_PRECISION
    return np.asarray(shapely.from_ragged_array(shapely.GeometryType.MULTIPOLYGON, coords,
                                                (ring_offsets, one_each, one_each)), dtype=object)


def residential_columns(areas: dict[str, I64], geoms: NDArray[np.object_],
                        tagged: dict[int, tuple[dict[str, str], str | None]]) -> Columns:
    """Residential rows of the area ways (``kind`` 1 land use, 2 building; 0 a POI only)."""
    sel = np.flatnonzero(areas["kind"] > 0)
    names = [tagged[i][0].get("name", "") if i in tagged else "" for i in sel.tolist()] \
        if tagged else [""] * sel.shape[0]
    return {"osm_id": [f"w{i}" for i in areas["ids"][sel].tolist()], "name": names,
            "kind": np.where(areas["kind"][sel] == 1, "landuse", "building").tolist(),
            "geometry": geoms[sel]}


def libosmium_areas(path: Path, catalogue: Catalogue) -> tuple[list[dict[str, object]], Columns]:
    """POIs and residential rows of every area libosmium assembles (closed ways and
    multipolygon relations), from one pass that hands only the areas to Python."""
    col = Collector(catalogue)
    try:
        for obj in filtered_processor(str(path), catalogue, areas_only=True):
            if isinstance(obj, osmium.osm.Area):
                col.area(obj)
    except RuntimeError as exc:
        raise PbfUnsupportedError(f"libosmium cannot assemble the areas ({exc})") from exc
    return col.pois, col.residential_columns()
