"""Low-level .osm.pbf decoding: file blocks, protobuf fields, packed varints vectorised in numpy.

Written from the format description (OpenStreetMap wiki, "PBF Format"): a file is a sequence of
``int32`` (big-endian) BlobHeader length, BlobHeader, Blob; a Blob holds one zlib-compressed (or
raw) HeaderBlock or PrimitiveBlock. Messages are protocol buffers: a field key is a varint
``field_number << 3 | wire_type``; integers are 7-bit varints (``sint64`` zigzag-encoded);
repeated integers are packed into one length-delimited field.

Top-level fields (a few per block) are walked in Python (:func:`fields`); per-object work is done
for all objects of a group at once (:func:`scan_messages`, :func:`packed_varints`).
"""

from __future__ import annotations

import zlib
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Final

import numpy as np
from numpy.typing import NDArray

I64 = NDArray[np.int64]
U8 = NDArray[np.uint8]
#: BlobHeader/Blob size limits of the format (32 MiB blob, 64 KiB header).
MAX_BLOB: Final = 32 * 1024 * 1024
MAX_HEADER: Final = 64 * 1024
VARINT, FIXED64, LEN, FIXED32 = 0, 1, 2, 5


class PbfUnsupportedError(Exception):
    """The file uses something this reader does not decode (or is damaged): read it otherwise."""


def varint(buf: bytes, pos: int) -> tuple[int, int]:
    """The varint at ``pos`` and the position after it."""
    result = shift = 0
    while True:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise PbfUnsupportedError("varint longer than 10 bytes")


def fields(buf: bytes, start: int = 0, end: int | None = None
           ) -> Iterator[tuple[int, int, int, int]]:
    """``(field, wire_type, a, b)`` of each field of one message: for a varint ``a`` is the value,
    for a length-delimited field ``a, b`` are its start and end in ``buf``."""
    stop = len(buf) if end is None else end
    pos = start
    while pos < stop:
        key, pos = varint(buf, pos)
        wire = key & 7
        if wire == VARINT:
            value, pos = varint(buf, pos)
            yield key >> 3, wire, value, pos
        elif wire == LEN:
            size, pos = varint(buf, pos)
            yield key >> 3, wire, pos, pos + size
            pos += size
        elif wire in (FIXED64, FIXED32):
            pos += 8 if wire == FIXED64 else 4
        else:
            raise PbfUnsupportedError(f"protobuf wire type {wire}")
    if pos != stop:
        raise PbfUnsupportedError("message overruns its length")


@dataclass(frozen=True, slots=True)
class Blob:
    """One file block: its type (``OSMHeader`` or ``OSMData``) and its decompressed bytes."""

    kind: str
    data: bytes


def _read_exact(fh: BinaryIO, size: int, path: Path) -> bytes:
    data = fh.read(size)
    if len(data) != size:
        raise PbfUnsupportedError(f"{path.name} ends inside a block (truncated)")
    return data


def _blob_data(raw: bytes) -> bytes:
    """The decompressed payload of a Blob message."""
    size = -1
    for field, _, a, b in fields(raw):
        if field == 2:
            size = a
        elif field == 1:
            return raw[a:b]
        elif field == 3:
            data = zlib.decompress(raw[a:b])
            if size >= 0 and len(data) != size:
                raise PbfUnsupportedError("zlib block size differs from raw_size")
            return data
        elif field in (4, 5, 6, 7):
            name = {4: "lzma", 5: "bzip2", 6: "lz4", 7: "zstd"}[field]
            raise PbfUnsupportedError(f"{name}-compressed blocks")
    raise PbfUnsupportedError("a block without data")


def _raw_blobs(path: Path) -> Iterator[tuple[str, bytes]]:
    """The type and the (still compressed) Blob message of every block, in file order."""
    with path.open("rb") as fh:
        while True:
            head = fh.read(4)
            if not head:
                return
            if len(head) != 4:
                raise PbfUnsupportedError(f"{path.name} ends inside a block header (truncated)")
            size = int.from_bytes(head, "big")
            if size > MAX_HEADER:
                raise PbfUnsupportedError(f"block header of {size} bytes (not a PBF file?)")
            header = _read_exact(fh, size, path)
            kind, datasize = "", -1
            for field, _, a, b in fields(header):
                if field == 1:
                    kind = header[a:b].decode("utf-8", "replace")
                elif field == 3:
                    datasize = a
            if datasize < 0 or datasize > MAX_BLOB:
                raise PbfUnsupportedError(f"block of {datasize} bytes (not a PBF file?)")
            yield kind, _read_exact(fh, datasize, path)


def blobs(path: Path, ahead: int = 2) -> Iterator[Blob]:
    """Every block of the file, decompressed, in file order; the next ``ahead`` blocks are
    inflated in a thread meanwhile (zlib releases the GIL)."""
    pending: deque[tuple[str, Future[bytes]]] = deque()
    with ThreadPoolExecutor(max_workers=1) as pool:
        for kind, raw in _raw_blobs(path):
            pending.append((kind, pool.submit(_blob_data, raw)))
            if len(pending) > ahead:
                done_kind, data = pending.popleft()
                yield Blob(done_kind, data.result())
        while pending:
            done_kind, data = pending.popleft()
            yield Blob(done_kind, data.result())


def repeated(buf: bytes, start: int, end: int, field: int) -> tuple[I64, I64]:
    """Starts and ends of every length-delimited ``field`` between ``start`` and ``end`` (one
    Python step per entry: the only per-object loop, used for the messages of a group)."""
    starts: list[int] = []
    ends: list[int] = []
    key = (field << 3) | LEN
    pos = start
    while pos < end:
        if buf[pos] != key:
            raise PbfUnsupportedError(f"unexpected field key {buf[pos]} in a group")
        size = buf[pos + 1]
        pos += 2
        if size >= 0x80:
            size, pos = varint(buf, pos - 1)
        starts.append(pos)
        pos += size
        ends.append(pos)
    if pos != end:
        raise PbfUnsupportedError("group overruns its length")
    return np.asarray(starts, dtype=np.int64), np.asarray(ends, dtype=np.int64)


def varints_at(arr: U8, pos: I64) -> tuple[NDArray[np.uint64], I64]:
    """The varint starting at every position of ``pos`` in ``arr``, and the positions after."""
    value = np.zeros(pos.shape[0], dtype=np.uint64)
    cur = pos.copy()
    todo = np.arange(pos.shape[0])
    for shift in range(0, 70, 7):
        byte = arr[cur[todo]]
        value[todo] |= (byte & 0x7F).astype(np.uint64) << np.uint64(shift)
        cur[todo] += 1
        todo = todo[byte >= 0x80]
        if todo.size == 0:
            return value, cur
    raise PbfUnsupportedError("varint longer than 10 bytes")


@dataclass(frozen=True, slots=True)
class Field:
    """One field across many messages: the message index, and the value (varint) or the start
    and end (length-delimited) in the buffer."""

    msg: I64
    a: I64
    b: I64


def scan_messages(arr: U8, starts: I64, ends: I64) -> dict[int, Field]:
    """The fields of many messages at once: every message's position advanced together, one
    step per field (a handful of steps for a group of ways), each field key decoded vectorised.

    A field that occurs more than once in a message is kept once per occurrence."""
    found: dict[int, list[tuple[I64, I64, I64]]] = {}
    cur, idx = starts.copy(), np.arange(starts.shape[0])
    while True:
        idx = idx[cur[idx] < ends[idx]]
        if idx.size == 0:
            break
        key, pos = varints_at(arr, cur[idx])
        wire, num = (key & np.uint64(7)).astype(np.int64), (key >> np.uint64(3)).astype(np.int64)
        if not np.isin(wire, (VARINT, LEN, FIXED64, FIXED32)).all():
            raise PbfUnsupportedError("unknown protobuf wire type")
        val, after = varints_at(arr, np.where((wire == VARINT) | (wire == LEN), pos, pos - 1))
        nxt = np.where(wire == LEN, after + val.astype(np.int64), after)
        nxt = np.where(wire == FIXED64, pos + 8, np.where(wire == FIXED32, pos + 4, nxt))
        a = np.where(wire == LEN, after, val.astype(np.int64))
        for f in np.unique(num).tolist():
            sel = num == f
            found.setdefault(f, []).append((idx[sel], a[sel], nxt[sel]))
        cur[idx] = nxt
    if np.any(cur != ends):
        raise PbfUnsupportedError("message overruns its length")
    return {f: Field(*(np.concatenate(p) for p in zip(*parts, strict=True)))
            for f, parts in found.items()}


def decode_packed(data: U8) -> NDArray[np.uint64]:
    """All varints of a packed byte run (terminator bytes < 0x80 end each value): each value
    starts from its terminator's 7 bits and takes one more byte per step while it is longer."""
    ends = np.flatnonzero(data < 0x80)
    if ends.size == 0 or ends[-1] != data.size - 1:
        if data.size:
            raise PbfUnsupportedError("packed field ends inside a varint")
        return np.zeros(0, dtype=np.uint64)
    value = data[ends].astype(np.uint64)
    if ends.size == data.size:
        return value
    lens = np.diff(ends, prepend=-1)
    if lens.max() > 10:
        raise PbfUnsupportedError("varint longer than 10 bytes")
    longer = np.flatnonzero(lens > 1)
    seven = np.uint64(7)
    for k in range(1, int(lens.max())):
        longer = longer[lens[longer] > k]
        more = (data[ends[longer] - k] & 0x7F).astype(np.uint64)
        value[longer] = (value[longer] << seven) | more
    return value


def packed_varints(arr: U8, field: Field | None, n_msgs: int) -> tuple[NDArray[np.uint64], I64]:
    """The packed varints of one field in every message, flat, and how many each message has."""
    counts = np.zeros(n_msgs, dtype=np.int64)
    if field is None or field.msg.size == 0:
        return np.zeros(0, dtype=np.uint64), counts
    order = np.argsort(field.msg, kind="stable")
    msg, lo, hi = field.msg[order], field.a[order], field.b[order]
    if np.any(msg[1:] == msg[:-1]):
        raise PbfUnsupportedError("a packed field repeated within one message")
    lens = hi - lo
    offsets = np.concatenate([[0], np.cumsum(lens)])
    take = np.arange(offsets[-1], dtype=np.int64) + np.repeat(lo - offsets[:-1], lens)
    data = arr[take]
    terms = np.concatenate([[0], np.cumsum(data < 0x80)])
    counts[msg] = terms[offsets[1:]] - terms[offsets[:-1]]
    return decode_packed(data), counts


def zigzag(values: NDArray[np.uint64]) -> I64:
    """Signed integers of zigzag-encoded varints."""
    signed = (values >> np.uint64(1)).astype(np.int64)
    return signed ^ -(values & np.uint64(1)).astype(np.int64)


def delta_decode(deltas: I64, counts: I64) -> I64:
    """Running sums restarting at every message (``counts`` values each)."""
    if deltas.size == 0:
        return deltas
    total = np.cumsum(deltas)
    before = np.concatenate([[0], total])[np.cumsum(counts) - counts]
    out: I64 = total - np.repeat(before, counts)
    return out
