"""Decode the groups of a PBF PrimitiveBlock into flat numpy arrays (nodes, ways, relations).

Coordinates come out as libosmium's fixed-point integers (1e-7 degree: the block's nanodegree
value ``offset + granularity * raw`` divided by 100, truncated), so ``x / 1e7`` is the same
float the pyosmium path gives.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray

from planner.io.pbf_blocks import (
    I64,
    LEN,
    U8,
    Field,
    PbfUnsupportedError,
    decode_packed,
    delta_decode,
    fields,
    packed_varints,
    repeated,
    scan_messages,
    varint,
    zigzag,
)

#: Nanodegrees per fixed-point unit (1e-9 / 1e-7).
NANO_PER_FIXED: Final = 100
#: Group fields: plain nodes, dense nodes, ways, relations.
NODES, DENSE, WAYS, RELATIONS = 1, 2, 3, 4


@dataclass(frozen=True, slots=True)
class Strings:
    """A block's string table and the index of each string (its first occurrence)."""

    strings: list[bytes]
    index: dict[bytes, int]

    def idx(self, text: str) -> int:
        """Index of ``text`` in the table, -1 when absent."""
        return self.index.get(text.encode("utf-8"), -1)

    def text(self, i: int) -> str:
        """String number ``i``."""
        return self.strings[i].decode("utf-8")


def string_table(buf: bytes, start: int, end: int) -> Strings:
    """The StringTable message between ``start`` and ``end``."""
    starts, ends = repeated(buf, start, end, 1)
    strings = [buf[a:b] for a, b in zip(starts.tolist(), ends.tolist(), strict=True)]
    index: dict[bytes, int] = {}
    for i, s in enumerate(strings):
        index.setdefault(s, i)
    return Strings(strings, index)


@dataclass(frozen=True, slots=True)
class Grid:
    """A block's coordinate grid: granularity and offsets in nanodegrees."""

    granularity: int = 100
    lat_offset: int = 0
    lon_offset: int = 0

    def fixed(self, raw: I64, offset: int) -> I64:
        """Fixed-point (1e-7 degree) coordinates of raw block values."""
        if self.granularity % NANO_PER_FIXED == 0 and offset % NANO_PER_FIXED == 0:
            return raw * (self.granularity // NANO_PER_FIXED) + offset // NANO_PER_FIXED
        nano = raw * self.granularity + offset
        whole = np.abs(nano) // NANO_PER_FIXED
        return np.where(nano < 0, -whole, whole)


@dataclass(frozen=True, slots=True)
class Tagged:
    """Objects with ids, flat tag key/value string indices and the count of tags of each."""

    ids: I64
    keys: I64
    vals: I64
    counts: I64

    def owner(self) -> I64:
        """The object of every tag."""
        return np.repeat(np.arange(self.ids.shape[0]), self.counts)

    def value_of(self, key: int, owner: I64, *, last: bool = False) -> I64:
        """Value index of ``key`` on every object (its first occurrence, or the last), -1 when
        the object does not carry it."""
        out = np.full(self.ids.shape[0], -1, dtype=np.int64)
        hit = np.flatnonzero(self.keys == key)
        if hit.size:
            hit = hit[::-1] if last else hit
            who = owner[hit]  # sorted (descending when last): one run per object
            first = np.concatenate([[True], who[1:] != who[:-1]])
            out[who[first]] = self.vals[hit[first]]
        return out

    def has_any(self, keys: I64 | None, owner: I64) -> NDArray[np.bool_]:
        """Objects with a tag key in ``keys`` (with any tag when ``keys`` is None)."""
        if keys is None:
            return self.counts > 0
        out = np.zeros(self.ids.shape[0], dtype=bool)
        out[owner[np.isin(self.keys, keys)]] = True
        return out


@dataclass(frozen=True, slots=True)
class Nodes(Tagged):
    """Nodes with fixed-point ``x`` (lon) and ``y`` (lat)."""

    x: I64
    y: I64


@dataclass(frozen=True, slots=True)
class Ways(Tagged):
    """Ways with their node references, flat (``ref_counts`` per way)."""

    refs: I64
    ref_counts: I64


def group_kind(buf: bytes, start: int) -> int:
    """Which objects a PrimitiveGroup holds (its first field number)."""
    key, _ = varint(buf, start)
    return key >> 3


def _packed(arr: U8, spans: dict[int, tuple[int, int]], field: int) -> NDArray[np.uint64]:
    a, b = spans.get(field, (0, 0))
    return decode_packed(arr[a:b])


def dense_nodes(buf: bytes, arr: U8, start: int, end: int, grid: Grid) -> Nodes:
    """A DenseNodes message (ids, lat and lon delta-coded; tags as key/value pairs ended by 0)."""
    spans = {f: (a, b) for f, wire, a, b in fields(buf, start, end) if wire == LEN}
    ids = np.cumsum(zigzag(_packed(arr, spans, 1)))
    lat = np.cumsum(zigzag(_packed(arr, spans, 8)))
    lon = np.cumsum(zigzag(_packed(arr, spans, 9)))
    n = ids.shape[0]
    if lat.shape[0] != n or lon.shape[0] != n:
        raise PbfUnsupportedError("dense nodes with unequal id/lat/lon counts")
    kv = _packed(arr, spans, 10).astype(np.int64)
    if kv.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        keys, vals, counts = empty, empty, np.zeros(n, dtype=np.int64)
    else:
        ends = np.flatnonzero(kv == 0)
        if ends.shape[0] != n:
            raise PbfUnsupportedError("dense node tags do not match the nodes (an empty string?)")
        counts = np.diff(ends, prepend=-1) - 1
        if np.any(counts % 2):
            raise PbfUnsupportedError("dense node tags with a key but no value")
        pairs = kv[kv != 0]
        keys, vals, counts = pairs[0::2], pairs[1::2], counts // 2
    return Nodes(ids, keys, vals, counts, grid.fixed(lon, grid.lon_offset),
                 grid.fixed(lat, grid.lat_offset))


def plain_nodes(buf: bytes, arr: U8, start: int, end: int, grid: Grid) -> Nodes:
    """A group of (non-dense) Node messages, one Python step per node (rare in practice)."""
    starts, ends = repeated(buf, start, end, NODES)
    cols: dict[str, list[int]] = {"id": [], "lat": [], "lon": [], "n": []}
    keys: list[NDArray[np.uint64]] = []
    vals: list[NDArray[np.uint64]] = []
    for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
        got = {1: 0, 8: 0, 9: 0}
        spans: dict[int, tuple[int, int]] = {}
        for f, wire, x, y in fields(buf, a, b):
            if wire == LEN:
                spans[f] = (x, y)
            else:
                got[f] = x
        keys.append(_packed(arr, spans, 2))
        vals.append(_packed(arr, spans, 3))
        if keys[-1].shape != vals[-1].shape:
            raise PbfUnsupportedError("a node with unequal key and value counts")
        for name, f in (("id", 1), ("lat", 8), ("lon", 9)):
            cols[name].append(got[f])
        cols["n"].append(keys[-1].shape[0])
    signed = {k: zigzag(np.asarray(cols[k], dtype=np.uint64)) for k in ("id", "lat", "lon")}
    return Nodes(signed["id"], np.concatenate(keys).astype(np.int64),
                 np.concatenate(vals).astype(np.int64), np.asarray(cols["n"], dtype=np.int64),
                 grid.fixed(signed["lon"], grid.lon_offset),
                 grid.fixed(signed["lat"], grid.lat_offset))


def _tagged(arr: U8, buf: bytes, start: int, end: int, field: int
            ) -> tuple[I64, I64, I64, I64, dict[int, Field]]:
    """Ids, keys, values and tag counts of every message of a group of ways or relations."""
    starts, ends = repeated(buf, start, end, field)
    n = starts.shape[0]
    found = scan_messages(arr, starts, ends)
    idf = found.get(1)
    if idf is None or not np.array_equal(np.bincount(idf.msg, minlength=n), np.ones(n)):
        raise PbfUnsupportedError("objects without exactly one id")
    ids = np.empty(n, dtype=np.int64)
    ids[idf.msg] = idf.a
    keys, kc = packed_varints(arr, found.get(2), n)
    vals, vc = packed_varints(arr, found.get(3), n)
    if not np.array_equal(kc, vc):
        raise PbfUnsupportedError("objects with unequal key and value counts")
    return ids, keys.astype(np.int64), vals.astype(np.int64), kc, found


def ways(buf: bytes, arr: U8, start: int, end: int) -> Ways:
    """A group of Way messages, decoded field by field for all ways at once."""
    ids, keys, vals, counts, found = _tagged(arr, buf, start, end, WAYS)
    raw, ref_counts = packed_varints(arr, found.get(8), ids.shape[0])
    return Ways(ids, keys, vals, counts, delta_decode(zigzag(raw), ref_counts), ref_counts)


def relations(buf: bytes, arr: U8, start: int, end: int) -> Tagged:
    """A group of Relation messages: ids and tags (members are not needed here)."""
    ids, keys, vals, counts, _ = _tagged(arr, buf, start, end, RELATIONS)
    return Tagged(ids, keys, vals, counts)
