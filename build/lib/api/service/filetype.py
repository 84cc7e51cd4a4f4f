"""Recognise uploaded files by their content (never by their name)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Literal

Detected = Literal["osm_xml", "osm_pbf", "osm_bz2", "xlsx", "geojson", "csv", "gpkg"]

#: Suffix each detected kind is saved under (the planner readers dispatch on it).
SUFFIX: dict[str, str] = {"osm_xml": ".osm", "osm_pbf": ".osm.pbf", "osm_bz2": ".osm.bz2",
                          "xlsx": ".xlsx", "geojson": ".geojson", "csv": ".csv", "gpkg": ".gpkg"}

#: What each upload purpose accepts.
ACCEPTED: dict[str, tuple[str, ...]] = {
    "osm": ("osm_xml", "osm_pbf", "osm_bz2"),
    "facilities": ("csv", "xlsx", "geojson", "gpkg"),
    "units": ("csv", "xlsx", "geojson", "gpkg"),
}

_TEXT_ENCODINGS = ("utf-8-sig", "gb18030")
_MAX_JSON_BYTES = 200 * 1024 * 1024


def _is_osm_xml(head: bytes) -> bool:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    return (text.startswith(b"<?xml") or text.startswith(b"<osm")) and b"<osm" in head


def _is_pbf(head: bytes) -> bool:
    if len(head) < 8:
        return False
    size = int.from_bytes(head[:4], "big")
    return 0 < size < 64 * 1024 and b"OSMHeader" in head[4:4 + size]


def _is_xlsx(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as archive:
            return any(name.startswith("xl/") for name in archive.namelist())
    except (zipfile.BadZipFile, OSError):
        return False


def _is_feature_collection(path: Path) -> bool:
    if path.stat().st_size > _MAX_JSON_BYTES:
        return False
    try:
        data = json.loads(path.read_bytes().decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        return False
    return isinstance(data, dict) and data.get("type") == "FeatureCollection"


def _is_text(path: Path) -> bool:
    raw = path.read_bytes()
    if not raw.strip() or b"\x00" in raw:
        return False
    for encoding in _TEXT_ENCODINGS:
        try:
            raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        return True
    return False


def detect_kind(path: Path) -> Detected | None:
    """What a saved file is, judged from its bytes; ``None`` when unrecognised.

    OSM XML starts with ``<?xml`` and has an ``<osm`` element; PBF starts with a BlobHeader of
    type ``OSMHeader``; bzip2 starts with ``BZh``; XLSX is a zip with ``xl/`` entries; GeoJSON
    parses as a JSON FeatureCollection; GeoPackage is an SQLite file; CSV decodes as text.
    """
    with path.open("rb") as handle:
        head = handle.read(8192)
    if head.startswith(b"BZh"):
        return "osm_bz2"
    if head.startswith(b"SQLite format 3\x00"):
        return "gpkg"
    if head.startswith(b"PK\x03\x04"):
        return "xlsx" if _is_xlsx(path) else None
    if _is_pbf(head):
        return "osm_pbf"
    if _is_osm_xml(head):
        return "osm_xml"
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
        return "geojson" if _is_feature_collection(path) else None
    return "csv" if _is_text(path) else None
