"""Read an .osm.pbf file without a Python object per OSM object.

Blocks are decompressed with zlib and decoded with numpy (:mod:`planner.io.pbf_groups`). Tags
are compared as string-table indices, so only the objects that can matter reach Python: nodes
with a key a care POI can be recognised by (:func:`planner.io.osm_collect.poi_keys`), and one
:func:`planner.network.walkable.is_walkable` call per distinct ``highway/foot/access``
combination of a block. Way node locations come from a sorted node table (searchsorted).
Areas of simple closed ways are built vectorised (:mod:`planner.io.pbf_areas`); when the file
has a relation that could be an area (or a closed way that is not simple), libosmium assembles
all areas instead, in one pass that hands only areas to Python. The result equals
:class:`planner.io.osm_collect.Collector`'s, tests compare them.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from planner.facilities import Catalogue
from planner.io.osm_collect import RESIDENTIAL_BUILDINGS, Collector, poi_keys
from planner.io.pbf_blocks import LEN, PbfUnsupportedError, blobs, fields
from planner.io.pbf_collect import PbfParts
from planner.io.pbf_groups import (
    DENSE,
    NODES,
    RELATIONS,
    WAYS,
    Grid,
    Strings,
    dense_nodes,
    group_kind,
    plain_nodes,
    relations,
    string_table,
    ways,
)

#: Header features this reader understands (others: read with pyosmium).
KNOWN_FEATURES = frozenset({"OsmSchema-V0.6", "DenseNodes", "Sort.Type_then_ID"})


def _signed(value: int) -> int:
    """An ``int64`` field's value from its varint."""
    return value - (1 << 64) if value >= 1 << 63 else value


def _check_header(data: bytes) -> None:
    """Refuse required features this reader does not know, and node locations stored on the
    ways (libosmium's own reading of those decides; it is not repeated here)."""
    for field, wire, a, b in fields(data):
        if field in (4, 5) and wire == LEN:
            feature = data[a:b].decode("utf-8", "replace")
            if (field == 4 and feature not in KNOWN_FEATURES) or feature == "LocationsOnWays":
                raise PbfUnsupportedError(f"{'required' if field == 4 else 'optional'} "
                                          f"feature {feature}")


def _block(data: bytes, parts: PbfParts) -> None:
    """Decode one PrimitiveBlock into ``parts``."""
    strings: Strings | None = None
    groups: list[tuple[int, int]] = []
    grid = {"granularity": 100, "lat_offset": 0, "lon_offset": 0}
    arr = np.frombuffer(data, dtype=np.uint8)
    for field, _, a, b in fields(data):
        if field == 1:
            strings = string_table(data, a, b)
        elif field == 2:
            groups.append((a, b))
        elif field in (17, 19, 20):
            grid[{17: "granularity", 19: "lat_offset", 20: "lon_offset"}[field]] = _signed(a)
    if strings is None:
        strings = Strings([b""], {b"": 0})
    for a, b in groups:
        if a == b:
            continue
        kind = group_kind(data, a)
        start = time.perf_counter()
        if kind == DENSE:
            for field, wire, x, y in fields(data, a, b):
                if field == DENSE and wire == LEN:
                    nodes = dense_nodes(data, arr, x, y, Grid(**grid))
                    parts.tick("nodes", start)
                    parts.add_nodes(nodes, strings)
                    start = time.perf_counter()
        elif kind == NODES:
            nodes = plain_nodes(data, arr, a, b, Grid(**grid))
            parts.tick("nodes", start)
            parts.add_nodes(nodes, strings)
        elif kind == WAYS:
            decoded = ways(data, arr, a, b)
            parts.tick("ways", start)
            parts.add_ways(decoded, strings)
        elif kind == RELATIONS and not parts.area_relations:
            parts.add_relations(relations(data, arr, a, b), strings)
            parts.tick("relations", start)


def read_pbf(path: Path, catalogue: Catalogue) -> PbfParts:
    """Everything careplan takes from the PBF file ``path`` (see :class:`PbfParts`).

    Raises
    ------
    PbfUnsupportedError
        The file uses a feature this reader does not decode (other compression, unknown
        required feature) or cannot be decoded: read it with pyosmium instead.
    """
    parts = PbfParts(Collector(catalogue), poi_keys(catalogue), RESIDENTIAL_BUILDINGS)
    chunks = blobs(path)
    while True:
        start = time.perf_counter()
        blob = next(chunks, None)
        parts.tick("decompress", start)
        if blob is None:
            break
        if blob.kind == "OSMHeader":
            _check_header(blob.data)
        elif blob.kind == "OSMData":
            _block(blob.data, parts)
    parts.finish(path)
    return parts
