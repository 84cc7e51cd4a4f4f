"""Limits on what an uploaded input may expand to, checked before the planner reads it.

A compressed OSM file is streamed through bzip2 counting bytes; a workbook's sheets are streamed
out of the zip counting bytes and rows; text tables count lines; GeoPackages count rows per
table. Memory stays at one block; every loop checks whether the job was dismissed. Each refusal is
one line naming the file (by its uploaded name), the limit and the setting that raises it.
"""

from __future__ import annotations

import bz2
import sqlite3
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from planner.errors import InputDataError

_BLOCK = 1 << 20
#: Most a compressed input may expand per compressed byte (real OSM XML in bzip2 expands 10-20
#: times, spreadsheets 5-30 times; bombs thousands of times), beyond a first 64 MB always allowed.
MAX_EXPANSION = 200
_FREE_BYTES = 64 << 20
Stopped = Callable[[], bool]


class InputLimitError(InputDataError):
    """An input exceeds a size or row limit."""


def _blocks(handle: IO[bytes], stopped: Stopped) -> Iterator[bytes]:
    while block := handle.read(_BLOCK):
        if stopped():
            raise InputLimitError("job dismissed")
        yield block


def _expanded_limit(compressed: int, limit_bytes: int) -> int:
    return min(limit_bytes, _FREE_BYTES + MAX_EXPANSION * compressed)


def check_bz2(path: Path, label: str, limit_bytes: int, stopped: Stopped) -> int:
    """Decompressed size of a bzip2 file, or InputLimitError as soon as it passes the limit."""
    cap = _expanded_limit(path.stat().st_size, limit_bytes)
    seen = 0
    with bz2.open(path, "rb") as handle:
        for block in _blocks(handle, stopped):
            seen += len(block)
            if seen > cap:
                raise InputLimitError(
                    f"{label} expands to more than {cap / 2**20:.0f} MB of OSM XML (limit "
                    f"{limit_bytes / 2**20:.0f} MB, CAREPLAN_MAX_OSM_XML_MB, and at most "
                    f"{MAX_EXPANSION} times its compressed size); cut the extract to the "
                    "study area")
    return seen


def check_xlsx(path: Path, label: str, limit_bytes: int, max_rows: int, stopped: Stopped) -> int:
    """Rows of a workbook's sheets; InputLimitError past the expanded-size or row limit."""
    cap = _expanded_limit(path.stat().st_size, limit_bytes)
    seen = rows = 0
    with zipfile.ZipFile(path) as archive:
        declared = sum(info.file_size for info in archive.infolist())
        if declared > cap:
            raise InputLimitError(f"{label} expands to {declared / 2**20:.0f} MB (limit "
                                  f"{cap / 2**20:.0f} MB, CAREPLAN_MAX_EXPANDED_MB); split it")
        for info in archive.infolist():
            with archive.open(info) as member:
                tail = b""
                for block in _blocks(member, stopped):
                    seen += len(block)
                    if seen > cap:
                        raise InputLimitError(f"{label} expands to more than {cap / 2**20:.0f} "
                                              "MB (CAREPLAN_MAX_EXPANDED_MB); split it")
                    if info.filename.startswith("xl/worksheets/"):
                        rows += (tail + block).count(b"<row ") + (tail + block).count(b"<row>")
                        tail = block[-5:]
                    _check_rows(rows, max_rows, label)
    return rows


def _check_rows(rows: int, max_rows: int, label: str) -> None:
    if rows > max_rows:
        raise InputLimitError(f"{label} has more than {max_rows} rows "
                              "(CAREPLAN_MAX_REGISTER_ROWS); split it or raise the limit")


def check_lines(path: Path, label: str, max_rows: int, stopped: Stopped,
                marker: bytes = b"\n") -> int:
    """Lines (or ``marker`` occurrences) of a text file; InputLimitError past ``max_rows``."""
    rows = 0
    with path.open("rb") as handle:
        for block in _blocks(handle, stopped):
            rows += block.count(marker)
            _check_rows(rows, max_rows, label)
    return rows


def check_gpkg(path: Path, label: str, max_rows: int) -> int:
    """Rows of the largest feature table of a GeoPackage; InputLimitError past ``max_rows``."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        try:
            tables = [r[0] for r in conn.execute("SELECT table_name FROM gpkg_contents")]
        except sqlite3.DatabaseError:
            raise InputLimitError(f"{label} is not a readable GeoPackage") from None
        counts = [int(conn.execute(f'SELECT count(*) FROM "{t.replace(chr(34), "")}"')
                      .fetchone()[0]) for t in tables]
    rows = max(counts, default=0)
    _check_rows(rows, max_rows, label)
    return rows


def check_input(path: Path, detected: str, label: str, *, max_xml_bytes: int,
                max_expanded_bytes: int, max_rows: int, stopped: Stopped) -> None:
    """Apply the limit that fits a detected input kind (no-op for plain OSM XML and PBF, whose
    size the upload limit already bounds)."""
    if detected == "osm_bz2":
        check_bz2(path, label, max_xml_bytes, stopped)
    elif detected == "xlsx":
        check_xlsx(path, label, max_expanded_bytes, max_rows, stopped)
    elif detected == "csv":
        check_lines(path, label, max_rows, stopped)
    elif detected == "geojson":
        check_lines(path, label, max_rows, stopped, marker=b'"Feature"')
    elif detected == "gpkg":
        check_gpkg(path, label, max_rows)
