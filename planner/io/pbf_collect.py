"""What the PBF reader keeps of each block, and the arrays it hands to
:func:`planner.io.osm.assemble` (the :class:`planner.io.osm_collect.Collected` protocol)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Final

import numpy as np
from numpy.typing import NDArray
from shapely.geometry import Point

from planner.io.osm_collect import COORDINATE_PRECISION, Collector, Segments, segment_pairs
from planner.io.pbf_areas import (
    closed_way_areas,
    libosmium_areas,
    residential_columns,
    valid_location,
)
from planner.io.pbf_blocks import I64, PbfUnsupportedError
from planner.io.pbf_groups import Nodes, Strings, Tagged, Ways
from planner.network.walkable import is_walkable

#: The only tags :func:`is_walkable` reads (a test checks it).
WALK_KEYS: Final = ("highway", "foot", "access")
#: Fixed-point value of a node reference without a location.
NO_LOCATION: Final = np.iinfo(np.int32).max
LANDUSE, BUILDING = 1, 2


def _cat(parts: list[I64]) -> I64:
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


class PbfParts:
    """Accumulates nodes, walkable ways, area ways and node POIs block by block.

    Attributes
    ----------
    timings_s
        Seconds per step: ``decompress`` (read and zlib), ``nodes``/``ways``/``relations``
        (decoding), ``pois`` (node table and node POIs), ``way_tags`` (walkability and area
        selection), ``locations`` (way nodes located, segments), ``areas`` (polygons, area POIs).
    area_relations
        The file has a relation that libosmium could turn into a residential or POI area.
    """

    def __init__(self, col: Collector, poi_keys: frozenset[str] | None,
                 buildings: frozenset[str]) -> None:
        self.col, self.poi_keys, self.buildings = col, poi_keys, buildings
        self.pois = col.pois
        self.timings_s: dict[str, float] = {}
        self.area_relations = False
        self.seen_ways = False
        self.nodes: dict[str, list[I64]] = {"id": [], "x": [], "y": []}
        self.walk: dict[str, list[I64]] = {"refs": [], "counts": [], "ids": [], "highway": []}
        self.highway_codes: dict[str, int] = {}
        self.area: dict[str, list[I64]] = {"refs": [], "counts": [], "ids": [], "kind": []}
        self.area_tags: dict[int, tuple[dict[str, str], str | None]] = {}
        self.n_area = 0
        self._segments: Segments | None = None
        self._residential: dict[str, Sequence[object]] = {}

    def tick(self, step: str, start: float) -> None:
        """Add the seconds since ``start`` to ``step``."""
        self.timings_s[step] = self.timings_s.get(step, 0.0) + time.perf_counter() - start

    def _key_index(self, strings: Strings, keys: frozenset[str] | None) -> I64 | None:
        if keys is None:
            return None
        return np.asarray([i for k in sorted(keys) if (i := strings.idx(k)) >= 0],
                          dtype=np.int64)

    def _tags(self, obj: Tagged, i: int, offset: int, strings: Strings) -> dict[str, str]:
        lo, hi = offset, offset + int(obj.counts[i])
        return {strings.text(k): strings.text(v)
                for k, v in zip(obj.keys[lo:hi].tolist(), obj.vals[lo:hi].tolist(), strict=True)}

    def add_nodes(self, nodes: Nodes, strings: Strings) -> None:
        """Keep the node table; classify the nodes with a key a POI can be recognised by."""
        start = time.perf_counter()
        self._add_nodes(nodes, strings)
        self.tick("pois", start)

    def _add_nodes(self, nodes: Nodes, strings: Strings) -> None:
        if self.seen_ways:
            raise PbfUnsupportedError("nodes after ways (a file not sorted by type)")
        self.nodes["id"].append(nodes.ids)
        self.nodes["x"].append(nodes.x)
        self.nodes["y"].append(nodes.y)
        if nodes.keys.size == 0:
            return
        wanted = nodes.has_any(self._key_index(strings, self.poi_keys), nodes.owner())
        offsets = np.cumsum(nodes.counts) - nodes.counts
        for i in np.flatnonzero(wanted & valid_location(nodes.x, nodes.y)).tolist():
            tags = self._tags(nodes, i, int(offsets[i]), strings)
            ftype = self.col.classify(tags)
            if ftype is not None:
                point = Point(nodes.x[i] / COORDINATE_PRECISION, nodes.y[i] / COORDINATE_PRECISION)
                self.col.add_poi(f"osm_n{nodes.ids[i]}", tags, ftype, point)

    def add_relations(self, rels: Tagged, strings: Strings) -> None:
        """Note whether a relation could become an area careplan keeps."""
        keys = self._key_index(strings, None if self.poi_keys is None
                               else self.poi_keys | {"landuse", "building"})
        if rels.has_any(keys, rels.owner()).any():
            self.area_relations = True

    def add_ways(self, ways: Ways, strings: Strings) -> None:
        """Keep walkable ways and the closed ways that can be residential or POI areas."""
        start = time.perf_counter()
        self.seen_ways = True
        owner = ways.owner()
        self._add_walkable(ways, strings, owner)
        self._add_areas(ways, strings, owner)
        self.tick("way_tags", start)

    def _add_walkable(self, ways: Ways, strings: Strings, owner: I64) -> None:
        cols = [ways.value_of(strings.idx(k), owner) + 1 for k in WALK_KEYS]
        has = cols[0] > 0
        if not has.any():
            return
        size = len(strings.strings) + 1
        code = (cols[0] * size + cols[1]) * size + cols[2]
        combos, inverse = np.unique(code[has], return_inverse=True)
        walkable, highway = [], []
        for c in combos.tolist():
            values = (c // (size * size), c // size % size, c % size)
            tags = {k: strings.text(v - 1) for k, v in zip(WALK_KEYS, values, strict=True) if v}
            walkable.append(is_walkable(tags))
            # codes of walkable ways' values only: the string width is theirs, as before
            highway.append(self.highway_codes.setdefault(tags["highway"], len(self.highway_codes))
                           if walkable[-1] else -1)
        walk = np.zeros(ways.ids.shape[0], dtype=bool)
        walk[has] = np.asarray(walkable, dtype=bool)[inverse.reshape(-1)]
        self.walk["highway"].append(np.asarray(highway, dtype=np.int64)[combos.searchsorted(
            code[walk])])
        self.walk["refs"].append(ways.refs[np.repeat(walk, ways.ref_counts)])
        self.walk["counts"].append(ways.ref_counts[walk])
        self.walk["ids"].append(ways.ids[walk])

    def _closed(self, ways: Ways, strings: Strings, owner: I64) -> NDArray[np.bool_]:
        counts = ways.ref_counts
        closed = counts >= 4
        idx = np.flatnonzero(closed)
        ends = np.cumsum(counts)[idx]
        closed[idx] = ways.refs[ends - counts[idx]] == ways.refs[ends - 1]
        no = strings.idx("no")
        if no >= 0:
            closed &= ways.value_of(strings.idx("area"), owner) != no
        return closed

    def _add_areas(self, ways: Ways, strings: Strings, owner: I64) -> None:
        closed = self._closed(ways, strings, owner)
        if not closed.any():
            return
        poiish = closed & ways.has_any(self._key_index(strings, self.poi_keys), owner)
        kind = np.zeros(ways.ids.shape[0], dtype=np.int64)
        if (res := strings.idx("residential")) >= 0:
            kind[ways.value_of(strings.idx("landuse"), owner, last=True) == res] = LANDUSE
        building = ways.value_of(strings.idx("building"), owner, last=True)
        buildings = self._key_index(strings, self.buildings)
        if buildings is not None:
            kind[(kind == 0) & np.isin(building, buildings)] = BUILDING
        offsets = np.cumsum(ways.counts) - ways.counts
        found: dict[int, tuple[dict[str, str], str | None]] = {}
        for i in np.flatnonzero(poiish).tolist():
            tags = self._tags(ways, i, int(offsets[i]), strings)
            landuse = tags.get("landuse") == "residential"
            kind[i] = LANDUSE if landuse else (BUILDING if tags.get("building")
                                               in self.buildings else 0)
            ftype = self.col.classify(tags)
            if ftype is not None or kind[i]:
                found[i] = (tags, ftype)
            else:
                poiish[i] = False
        keep = closed & (poiish | (kind > 0))
        rank = np.cumsum(keep) - 1 + self.n_area
        self.area_tags.update({int(rank[i]): found[i] for i in found})
        self.area["refs"].append(ways.refs[np.repeat(keep, ways.ref_counts)])
        self.area["counts"].append(ways.ref_counts[keep])
        self.area["ids"].append(ways.ids[keep])
        self.area["kind"].append(kind[keep])
        self.n_area += int(np.count_nonzero(keep))

    def segments(self) -> Segments:
        """Segment arrays of the walkable ways (see :func:`segment_pairs`)."""
        if self._segments is None:
            raise RuntimeError("finish() the read first")
        return self._segments

    def residential_columns(self) -> dict[str, Sequence[object]]:
        """Residential areas: ``osm_id``, ``name``, ``kind`` and shapely ``geometry``."""
        return self._residential

    def finish(self, path: Path) -> None:
        """Locate the way nodes; build the segments, the areas, their POIs and rows."""
        start = time.perf_counter()
        table = node_table(self.nodes)
        refs = _cat(self.walk["refs"])
        x, y = locate(table, refs)
        u, v, lon, lat, way = segment_pairs(refs, x, y, _cat(self.walk["counts"]))
        names = np.asarray(list(self.highway_codes), dtype=str)
        self._segments = (u, v, lon, lat, _cat(self.walk["ids"])[way],
                          names[_cat(self.walk["highway"])[way]])
        self.tick("locations", start)
        start = time.perf_counter()
        areas = {k: _cat(v) for k, v in self.area.items()}
        # a catalogue tag set matching anything: every tagged area counts, libosmium decides
        geoms = None if self.area_relations or self.poi_keys is None else closed_way_areas(
            areas["counts"], *locate(table, areas["refs"]))
        if geoms is None:
            pois, self._residential = libosmium_areas(path, self.col.catalogue)
            self.pois.extend(pois)
        else:
            for i, (tags, ftype) in self.area_tags.items():
                if ftype is not None:
                    self.col.add_poi(f"osm_w{areas['ids'][i]}", tags, ftype,
                                     geoms[i].representative_point())
            self._residential = residential_columns(areas, geoms, self.area_tags)
        self.tick("areas", start)


def node_table(nodes: dict[str, list[I64]]) -> tuple[I64, I64, I64]:
    """Node ids sorted (the last of repeated ids kept, as a location index keeps it), x, y."""
    ids, x, y = _cat(nodes["id"]), _cat(nodes["x"]), _cat(nodes["y"])
    if ids.size and not np.all(ids[1:] > ids[:-1]):
        order = np.argsort(ids, kind="stable")
        ids = ids[order]
        last = np.concatenate([ids[1:] != ids[:-1], [True]])
        order = order[last]
        ids, x, y = ids[last], x[order], y[order]
    return ids, x, y


def locate(table: tuple[I64, I64, I64], refs: I64) -> tuple[I64, I64]:
    """Fixed-point x, y of every node reference (:data:`NO_LOCATION` when not in the file):
    a table over the id range when the ids are dense, else a binary search."""
    ids, x, y = table
    pos = np.full(refs.shape[0], -1, dtype=np.int64)
    if ids.size:
        low, high = int(ids[0]), int(ids[-1])
        inside = np.flatnonzero((refs >= low) & (refs <= high))
        if high - low < 4 * ids.size + 1024:
            where = np.full(high - low + 1, -1, dtype=np.int64)
            where[ids - low] = np.arange(ids.shape[0])
            pos[inside] = where[refs[inside] - low]
        else:
            at = np.searchsorted(ids, refs[inside])
            pos[inside] = np.where(ids[at] == refs[inside], at, -1)
    found = pos >= 0
    return (np.where(found, x[pos], NO_LOCATION) if x.size else pos * 0 + NO_LOCATION,
            np.where(found, y[pos], NO_LOCATION) if y.size else pos * 0 + NO_LOCATION)
