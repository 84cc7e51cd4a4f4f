"""One filtered pass over an OSM file: walkable way nodes as arrays, care POIs, residential areas.

libosmium does the selecting in C++ (:func:`filtered_processor`): only ways with a ``highway``
key, nodes and areas with a key a POI or a residential area can be recognised by, and only
multipolygon relations with such a key assembled as areas reach Python. Way node references
come out as ``(ref, x, y)`` tuples (fixed-point coordinates, no float or location objects per
node) and become numpy arrays in chunks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final, Protocol, cast

import numpy as np
import osmium
import shapely
from numpy.typing import NDArray
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from planner.facilities import Catalogue, classify_osm_tags
from planner.network.walkable import is_walkable

RESIDENTIAL_BUILDINGS = frozenset({"residential", "apartments", "house", "dormitory", "detached"})
#: libosmium's fixed-point coordinate scale (``osmium::coordinate_precision``).
COORDINATE_PRECISION: Final = 10_000_000
#: Way node references converted to arrays at a time (bounds the Python tuples held).
CHUNK: Final = 1 << 18


def poi_keys(catalogue: Catalogue) -> frozenset[str] | None:
    """Every key a care POI can be recognised by: its catalogue tags' keys and the names;
    ``None`` when a catalogue tag set is empty (it would match any object)."""
    sets = [tag_set for t in catalogue.types for tag_set in t.osm_tags]
    if not all(sets):
        return None
    return frozenset({k for tag_set in sets for k in tag_set} | {"name", "name:zh"})


def filtered_processor(path: str, catalogue: Catalogue, *,
                       areas_only: bool = False) -> osmium.FileProcessor:
    """Nodes, ways and areas that can matter, with node locations on the ways (only the areas
    when ``areas_only``).

    A node or area whose tags have none of :func:`poi_keys` (nor ``landuse``/``building`` for an
    area) is neither a POI (:func:`classify_osm_tags` needs a catalogue tag or a name) nor a
    residential area, and a way without ``highway`` is never walkable, so dropping them in C++
    changes no result.
    """
    pois = poi_keys(catalogue)
    bits = osmium.osm
    wanted = bits.AREA if areas_only else bits.NODE | bits.WAY | bits.AREA
    processor = (osmium.FileProcessor(path).with_locations()
                 .with_filter(osmium.filter.EntityFilter(wanted)))
    chain: list[tuple[list[str], osmium.osm.osm_entity_bits]] = [(["highway"], bits.WAY)]
    if pois is None:
        processor = processor.with_areas()
    else:
        areas = sorted(pois | {"landuse", "building"})
        processor = processor.with_areas(osmium.filter.KeyFilter(*areas))
        chain += [(sorted(pois), bits.NODE), (areas, bits.AREA)]
    for keys, entity in chain:
        keep = osmium.filter.KeyFilter(*keys)
        keep.enable_for(entity)
        processor = processor.with_filter(keep)
    return processor


Segments = tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64], NDArray[np.float64],
                 NDArray[np.int64], NDArray[np.str_]]


class Collected(Protocol):
    """What a pass over an OSM file gives :func:`planner.io.osm.assemble`."""

    pois: list[dict[str, object]]

    def segments(self) -> Segments:
        """Segment arrays (see :func:`way_segments`)."""

    def residential_columns(self) -> dict[str, Sequence[object]]:
        """Residential areas: ``osm_id``, ``name``, ``kind`` and shapely ``geometry``."""


def segment_pairs(ids: NDArray[np.int64], x: NDArray[np.int64], y: NDArray[np.int64],
                  way_len: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.int64],
                                                       NDArray[np.float64], NDArray[np.float64],
                                                       NDArray[np.int64]]:
    """``u, v`` node ids, their lon/lat (``u`` ends, then ``v`` ends) and the way (position)
    of every segment, way by way.

    ``ids, x, y`` are the node references of every way with their fixed-point coordinates
    (anything outside the valid range for a node without location), ``way_len`` the references
    of each way. A segment joins consecutive nodes of a way that have a valid location (a node
    without one is skipped, its neighbours joined), unless both are the same node.
    """
    way = np.repeat(np.arange(way_len.shape[0]), way_len)
    valid = ((np.abs(x) <= 180 * COORDINATE_PRECISION)
             & (np.abs(y) <= 90 * COORDINATE_PRECISION))
    if not valid.all():
        ids, way, x, y = ids[valid], way[valid], x[valid], y[valid]
    pair = (way[1:] == way[:-1]) & (ids[1:] != ids[:-1])
    first = np.flatnonzero(pair)
    ends = np.concatenate([first, first + 1])
    return (ids[first], ids[first + 1], x[ends] / COORDINATE_PRECISION,
            y[ends] / COORDINATE_PRECISION, way[first])


def way_segments(ids: NDArray[np.int64], x: NDArray[np.int64], y: NDArray[np.int64],
                 way_len: NDArray[np.int64], way_id: NDArray[np.int64],
                 highway: NDArray[np.str_]) -> Segments:
    """:func:`segment_pairs` with the way id and highway of every segment."""
    u, v, lon, lat, seg_way = segment_pairs(ids, x, y, way_len)
    return u, v, lon, lat, way_id[seg_way], highway[seg_way]


def unique_inverse(values: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.int64],
                                                       NDArray[np.int64]]:
    """``np.unique(values, return_index=True, return_inverse=True)``, except that the index is
    of *an* occurrence of each value (not necessarily the first); without sorting when the
    values span a range of at most a few times their number (then a table of the range)."""
    if values.size == 0:
        return values, values, values
    low = int(values.min())
    span = int(values.max()) - low + 1
    if span > 4 * values.size + 1024:
        ids, some, inverse = np.unique(values, return_index=True, return_inverse=True)
        return ids, some, inverse.reshape(-1)
    seen = np.zeros(span, dtype=bool)
    offset = values - low
    seen[offset] = True
    rank = np.cumsum(seen) - 1
    inverse = rank[offset]
    some = np.empty(int(rank[-1]) + 1, dtype=np.int64)
    some[inverse] = np.arange(values.shape[0])
    return np.flatnonzero(seen) + low, some, inverse


class Collector:
    """Accumulates walkable ways, POIs and residential areas during one pass."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self.poi_keys = poi_keys(catalogue)
        self.refs: list[tuple[int, int, int]] = []
        self.chunks: list[NDArray[np.int64]] = []
        self.way_len: list[int] = []
        self.way_id: list[int] = []
        self.highway: list[str] = []
        self.pois: list[dict[str, object]] = []
        self.residential: list[dict[str, object]] = []
        self.wkb = osmium.geom.WKBFactory()

    def way(self, way: osmium.osm.Way) -> None:
        """Keep a walkable way's node references with their fixed-point coordinates."""
        tags = way.tags  # is_walkable only calls .get, which libosmium's tag list has
        if not is_walkable(cast("Mapping[str, str]", tags)):
            return
        refs = [(n.ref, n.x, n.y) for n in way.nodes]
        self.refs.extend(refs)
        self.way_len.append(len(refs))
        self.way_id.append(way.id)
        self.highway.append(tags["highway"])
        if len(self.refs) >= CHUNK:
            self._flush()

    def _flush(self) -> None:
        if self.refs:
            self.chunks.append(np.array(self.refs, dtype=np.int64).reshape(-1, 3))
            self.refs = []

    def segments(self) -> Segments:
        """``u, v`` node ids, their lon/lat, way id and highway of every segment, way by way
        (:func:`way_segments`)."""
        self._flush()
        refs = np.concatenate(self.chunks) if self.chunks else np.zeros((0, 3), dtype=np.int64)
        return way_segments(refs[:, 0], refs[:, 1], refs[:, 2],
                            np.asarray(self.way_len, dtype=np.int64),
                            np.asarray(self.way_id, dtype=np.int64),
                            np.asarray(self.highway, dtype=str))

    def node(self, node: osmium.osm.Node) -> None:
        """A POI when its tags or name say so."""
        if not node.tags or not node.location.valid():
            return
        tags = {t.k: t.v for t in node.tags}
        ftype = self.classify(tags)
        if ftype is not None:
            geom = Point(node.location.lon, node.location.lat)
            self.add_poi(f"osm_n{node.id}", tags, ftype, geom)

    def area(self, area: osmium.osm.Area) -> None:
        """A POI (at a representative point) and/or a residential area."""
        tags = {t.k: t.v for t in area.tags}
        ftype = self.classify(tags)
        is_landuse = tags.get("landuse") == "residential"
        is_building = tags.get("building") in RESIDENTIAL_BUILDINGS
        if ftype is None and not (is_landuse or is_building):
            return
        try:
            wkb = self.wkb.create_multipolygon(area)
        except RuntimeError:
            return
        kind = "w" if area.from_way() else "r"
        if ftype is not None:
            self.add_poi(f"osm_{kind}{area.orig_id()}", tags, ftype,
                         shapely.from_wkb(wkb).representative_point())
        if is_landuse or is_building:
            self.residential.append({"osm_id": f"{kind}{area.orig_id()}",
                                     "name": tags.get("name", ""),
                                     "kind": "landuse" if is_landuse else "building",
                                     "geometry": wkb})

    def residential_columns(self) -> dict[str, Sequence[object]]:
        """The residential areas as columns (geometry WKB until now, read in one call)."""
        return {"osm_id": [r["osm_id"] for r in self.residential],
                "name": [r["name"] for r in self.residential],
                "kind": [r["kind"] for r in self.residential],
                "geometry": shapely.from_wkb([r["geometry"] for r in self.residential])}

    def classify(self, tags: dict[str, str]) -> str | None:
        """:func:`classify_osm_tags`, skipped when it must say ``None``: no catalogue tag key
        (a tag set matches only with all its keys) and no name to search (most land use)."""
        if self.poi_keys is not None and tags.keys().isdisjoint(self.poi_keys):
            return None
        return classify_osm_tags(tags, self.catalogue)

    def add_poi(self, fid: str, tags: dict[str, str], ftype: str, geom: BaseGeometry) -> None:
        """Keep a care POI of type ``ftype`` (name, capacity and care tags from ``tags``)."""
        keep = {k: v for k, v in tags.items() if k in ("amenity", "healthcare", "social_facility")}
        capacity = float(tags["capacity"]) if tags.get("capacity", "").isdigit() else np.nan
        name = tags.get("name:zh") or tags.get("name") or fid
        self.pois.append({"facility_id": fid, "name": name, "type": ftype, "capacity": capacity,
                          "osm_tags": ";".join(f"{k}={v}" for k, v in sorted(keep.items())),
                          "geometry": geom})
