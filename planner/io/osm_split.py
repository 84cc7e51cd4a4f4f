"""Split an .osm.pbf into pieces that can be read in parallel: all nodes plus a share of the ways.

An .osm.pbf is a sequence of blobs (each a zlib-compressed block of nodes, ways or relations).
Files sorted by type (all nodes, then all ways, then all relations; what osmium and Geofabrik
write) can be read in pieces: piece *k* holds the file's header blob, every node blob and the
*k*-th run of way blobs, so a piece is itself a valid .osm.pbf whose ways all have their node
locations. Reading the pieces with the ordinary reader and putting the results together in piece
order gives what one read of the whole file gives (:func:`combine_extracts`), while the
per-way work (tags, segments, areas) is spread over the pieces.

Only the blob headers and the start of each block are decoded to learn its type; no OSM object
is built, so the scan costs well under a second per 100 MB. Files with relations are not split
(a multipolygon's member ways may fall into different pieces): they are read whole.
"""

from __future__ import annotations

import os
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import shapely

from planner.batch.pieces import combine_networks, concat_frames
from planner.io.catalogue import read_catalogue
from planner.io.osm import OsmExtract, read_osm_file
from planner.io.pbf_blocks import LEN, VARINT, PbfUnsupportedError, fields, varint
from planner.schema import FACILITY_ID

#: PrimitiveGroup field numbers: 1 nodes, 2 dense nodes, 3 ways, 4 relations, 5 changesets.
_KIND = {1: "node", 2: "node", 3: "way", 4: "relation", 5: "changeset"}
_ORDER = {"header": 0, "node": 1, "way": 2, "relation": 3, "changeset": 4}
#: Cost of a way block whose string table names an area key, per byte, against a block of
#: streets only, for a piece task (read, split by region, write the shares): each area's polygon
#: is assembled and its closed ways are short. Measured on the synthetic province (32 blocks
#: of residential land, 213 of streets) with the numpy PBF reader: reading 1.67 against 0.10
#: CPU-s per MB (16x), with the split and the writing about 2.5 against 0.26 (10x; the
#: pyosmium reader read them at about 5x).
AREA_COST = 10.0
_AREA_KEYS = (b"landuse", b"building")


@dataclass(frozen=True, slots=True)
class Blob:
    """One file block: its byte range in the file and what it holds."""

    start: int
    end: int
    kind: str
    areas: bool = False

    @property
    def cost(self) -> float:
        """Estimated read cost: bytes, times :data:`AREA_COST` for a block with area ways."""
        return (self.end - self.start) * (AREA_COST if self.areas else 1.0)


@dataclass(frozen=True, slots=True)
class PbfLayout:
    """The blocks of a type-sorted .osm.pbf.

    Attributes
    ----------
    header
        The ``OSMHeader`` block.
    nodes, ways, relations
        The data blocks of each type, in file order.
    """

    header: Blob
    nodes: tuple[Blob, ...]
    ways: tuple[Blob, ...]
    relations: tuple[Blob, ...]

    def way_runs(self, pieces: int) -> list[tuple[Blob, ...]]:
        """The way blocks in at most ``pieces`` consecutive runs of about equal cost
        (:attr:`Blob.cost`: blocks with residential land or other areas weigh more)."""
        total = sum(b.cost for b in self.ways)
        runs: list[list[Blob]] = [[]]
        done = 0.0
        for blob in self.ways:
            if runs[-1] and done + blob.cost / 2 > total * len(runs) / pieces:
                runs.append([])
            runs[-1].append(blob)
            done += blob.cost
        return [tuple(r) for r in runs if r]


def _fields(buf: bytes) -> list[tuple[int, int | bytes]]:
    """The top-level (field number, value) pairs of a protobuf message (fixed-width fields
    left out)."""
    return [(number, a if wire == VARINT else buf[a:b])
            for number, wire, a, b in fields(buf) if wire in (VARINT, LEN)]


def _first_group_kind(block: bytes) -> str:
    """Kind of the first PrimitiveGroup in (a prefix of) a block; IndexError: need more bytes."""
    pos = 0
    while True:
        key, pos = varint(block, pos)
        if key & 7 == 0:
            pos = varint(block, pos)[1]
            continue
        if key & 7 != 2:
            return "mixed"
        size, pos = varint(block, pos)
        if key >> 3 == 2:
            return _KIND.get(varint(block, pos)[0] >> 3, "mixed")
        pos += size
        if pos >= len(block):
            raise IndexError(pos)


def _areas(kind: str, data: bytes) -> tuple[str, bool]:
    """``kind`` and whether the string table (the block's start) names an area key."""
    return kind, kind == "way" and any(key in data for key in _AREA_KEYS)


def _block_kind(blob: bytes) -> tuple[str, bool]:
    """``node``, ``way``, ``relation`` or ``mixed`` for one ``OSMData`` blob, and whether its
    string table names an area key (the table comes first, before the groups).

    libosmium writes one kind of object per block, so the first group tells; only the start of
    the block is decompressed.
    """
    parts = dict(_fields(blob))
    if isinstance(parts.get(1), bytes):
        return _areas(_first_group_kind(parts[1]), parts[1])  # type: ignore[arg-type]
    if not isinstance(parts.get(3), bytes):  # lzma/lz4/zstd: not splittable here
        return "mixed", False
    inflate, data, want = zlib.decompressobj(), b"", 1 << 14
    tail: bytes = parts[3]  # type: ignore[assignment]
    while True:
        data += inflate.decompress(tail, want)
        tail = inflate.unconsumed_tail
        try:
            return _areas(_first_group_kind(data), data)
        except IndexError:
            if not tail:
                return "mixed", False
            want *= 4


def _blobs(path: Path) -> list[Blob]:
    """Every block of the file, read one at a time (memory: one block)."""
    blobs: list[Blob] = []
    with path.open("rb") as src:
        while head := src.read(4):
            start = src.tell() - 4
            header = dict(_fields(src.read(int.from_bytes(head, "big"))))
            body = src.read(int(header[3]))
            kind, areas = ("header", False) if header.get(1) == b"OSMHeader" else _block_kind(body)
            blobs.append(Blob(start, src.tell(), kind, areas))
    return blobs


def scan_pbf(path: Path) -> PbfLayout | None:
    """The layout of a type-sorted .osm.pbf, or ``None`` when it cannot be split that way."""
    if not path.name.lower().endswith(".pbf"):
        return None
    try:
        blobs = _blobs(path)
    except (KeyError, ValueError, IndexError, zlib.error, PbfUnsupportedError):
        return None
    kinds = [b.kind for b in blobs]
    if (not kinds or kinds[0] != "header" or "mixed" in kinds or kinds.count("header") != 1
            or any(_ORDER[a] > _ORDER[b] for a, b in zip(kinds, kinds[1:], strict=False))):
        return None
    return PbfLayout(blobs[0], *(tuple(b for b in blobs if b.kind == k)
                                 for k in ("node", "way", "relation")))


def write_piece(path: Path, layout: PbfLayout, ways: tuple[Blob, ...], target: Path) -> None:
    """Write the header, all node blocks and the given way blocks of ``path`` to ``target``."""
    with path.open("rb") as src, target.open("wb") as out:
        for blob in (layout.header, *layout.nodes, *ways):
            src.seek(blob.start)
            out.write(src.read(blob.end - blob.start))


def read_piece(path: Path, layout: PbfLayout, ways: tuple[Blob, ...], folder: Path) -> OsmExtract:
    """Read one piece of ``path`` (its nodes and the given way blocks) with the ordinary reader.

    Raises
    ------
    InputDataError
        The piece holds no walkable way (the caller then reads the whole file instead).
    """
    folder.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=".piece.", suffix=".osm.pbf", dir=folder)
    os.close(fd)
    target = Path(name)
    try:
        write_piece(path, layout, ways, target)
        return read_osm_file(target, read_catalogue())
    finally:
        target.unlink(missing_ok=True)


def combine_extracts(pieces: list[OsmExtract]) -> OsmExtract:
    """One extract from the pieces' extracts (in piece order), equal to one read of the file.

    The reader keeps a walkable segment where its way is, so the pieces' segments in piece order
    are the file's segments in file order, and the nodes the sorted ids of their ends. Every
    piece sees every node, so node POIs (``osm_n…``) come from the first piece only.
    """
    network = combine_networks([p.network for p in pieces])
    first = pieces[0].pois
    rest = [p.pois[~p.pois[FACILITY_ID].astype(str).str.startswith("osm_n")] for p in pieces[1:]]
    pois = concat_frames([first, *rest]).drop_duplicates(FACILITY_ID).reset_index(drop=True)
    residential = concat_frames([p.residential for p in pieces])
    areas = {p.study_area.wkb for p in pieces}
    study_area = pieces[0].study_area if len(areas) == 1 else shapely.box(
        network.lon.min(), network.lat.min(), network.lon.max(), network.lat.max())
    return OsmExtract(network, pois, residential, study_area)
