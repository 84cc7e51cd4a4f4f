"""Read civil-affairs facility registers (CSV/XLSX/GeoJSON/GPKG, Chinese or English headers) into validated facilities.

Capacity rule
-------------
``capacity`` is the register's own capacity column when it has one; otherwise it depends on the
catalogue type: meal points use ``meal_capacity`` (餐位 / 日供餐能力, meals a day), nursing homes use
``beds`` (床位), and day-care centres, complexes, stations and health facilities use ``day_places``
(日托床位) when given, else ``beds``. Without any of these, capacity is missing (NaN), never 0.

Problems are reported per row (``row`` is the spreadsheet row, header = row 1; for geodata files
the 1-based feature number) and the bad rows are dropped; the run continues with the good rows.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely import points
from shapely.geometry.base import BaseGeometry

from planner.errors import InputDataError
from planner.facilities import Catalogue, match_type_name
from planner.io.table import SOURCE_ROW, ColumnMap, cell_text, parse_number, read_table
from planner.network.coords import to_wgs84
from planner.schema import WGS84, validate_facilities

logger = logging.getLogger(__name__)

PROBLEM_COLUMNS = ("row", "facility_id", "problem", "value")
NUMERIC_FIELDS = (
    "capacity", "beds", "nursing_beds", "meal_capacity", "day_places", "floor_area_m2",
    "land_area_m2",
)
TEXT_FIELDS = ("address", "status", "community")


@dataclass(frozen=True, slots=True)
class RegisterRead:
    """A facility register as read.

    Attributes
    ----------
    facilities
        EPSG:4326 points passing :func:`planner.schema.validate_facilities`: ``facility_id, name,
        type, capacity, type_raw, source_row`` plus ``address, beds, nursing_beds, meal_capacity,
        day_places, floor_area_m2, land_area_m2, status, community`` when the file has them.
    problems
        One row per problem: ``row`` (1-based file row), ``facility_id``, ``problem``, ``value``.
    encoding
        CSV encoding used (``utf-8``, ``utf-8-sig``, ``gbk``, ``gb18030``), else ``None``.
    coords
        Coordinate system of the file (converted to WGS-84).
    """

    facilities: gpd.GeoDataFrame
    problems: pd.DataFrame
    encoding: str | None
    coords: str


def stable_facility_id(name: str, type_key: str, lon: float, lat: float) -> str:
    """Generated id for a record without one: a hash of name, type and rounded position."""
    key = f"{name}|{type_key}|{lon:.6f}|{lat:.6f}".encode()
    return "F" + hashlib.sha1(key, usedforsecurity=False).hexdigest()[:10]


def _lonlat(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    if "geometry" in frame.columns and isinstance(frame, gpd.GeoDataFrame):
        geo = frame if frame.crs is None or frame.crs.to_epsg() == 4326 else frame.to_crs(WGS84)
        cent = geo.geometry.apply(lambda g: None if g is None or g.is_empty else g.centroid)
        lon = np.array([np.nan if c is None else c.x for c in cent], dtype=float)
        lat = np.array([np.nan if c is None else c.y for c in cent], dtype=float)
        return lon, lat
    if "lon" not in frame.columns or "lat" not in frame.columns:
        msg = (
            f"file has no longitude/latitude columns (has: {', '.join(map(str, frame.columns))}); "
            "name them 经度/纬度 or lon/lat, or add your spelling to data/columns.toml"
        )
        raise InputDataError(msg)
    lon = frame["lon"].map(parse_number).to_numpy(dtype=float)
    lat = frame["lat"].map(parse_number).to_numpy(dtype=float)
    return lon, lat


def _capacity(row: pd.Series, type_key: str) -> float:
    def get(field: str) -> float:
        return float(row[field]) if field in row.index else float("nan")

    explicit = get("capacity")
    if not np.isnan(explicit):
        return explicit
    if type_key == "meal_point":
        return get("meal_capacity")
    if type_key == "nursing_home":
        return get("beds")
    places = get("day_places")
    return places if not np.isnan(places) else get("beds")


def _problem(rows: list[dict[str, object]], row: int, fid: str, problem: str, value: object) -> None:
    rows.append({"row": int(row), "facility_id": fid, "problem": problem, "value": str(value)})


def _clean_rows(
    frame: pd.DataFrame,
    catalogue: Catalogue,
    lon: np.ndarray,
    lat: np.ndarray,
    study_area: BaseGeometry | None,
) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    good: list[dict[str, object]] = []
    problems: list[dict[str, object]] = []
    seen: set[str] = set()
    for pos, (_, rec) in enumerate(frame.iterrows()):
        row = int(rec[SOURCE_ROW])
        name = cell_text(rec.get("name"))
        raw_type = cell_text(rec.get("type"))
        fid = cell_text(rec.get("facility_id"))
        for field in NUMERIC_FIELDS:
            if field in frame.columns:
                text = cell_text(rec[field])
                rec[field] = parse_number(text)
                if text and np.isnan(rec[field]):
                    _problem(problems, row, fid, f"{field} is not a number (kept as missing)", text)
        type_key = match_type_name(raw_type, catalogue) if raw_type else None
        if type_key is None:
            what = "no facility type" if not raw_type else "unknown facility type"
            fix = "; add the spelling to data/facility_types.toml synonyms or fix the cell"
            _problem(problems, row, fid, what + fix, raw_type)
            continue
        x, y = float(lon[pos]), float(lat[pos])
        if not (np.isfinite(x) and np.isfinite(y)):
            _problem(problems, row, fid, "no coordinates; fill 经度/纬度 (lon/lat)", f"{x}, {y}")
            continue
        if study_area is not None and not study_area.covers(points(x, y)):
            _problem(problems, row, fid, "outside the study area; check the coordinates or the "
                     "--coords system", f"{x:.6f}, {y:.6f}")
            continue
        fid = fid or stable_facility_id(name, type_key, x, y)
        if fid in seen:
            _problem(problems, row, fid, "duplicate facility_id; the first row is kept", fid)
            continue
        seen.add(fid)
        out = {"facility_id": fid, "name": name or fid, "type": type_key, "type_raw": raw_type,
               "capacity": _capacity(rec, type_key), "lon": x, "lat": y, SOURCE_ROW: row}
        out.update({f: rec[f] for f in NUMERIC_FIELDS[1:] if f in frame.columns})
        out.update({f: cell_text(rec[f]) for f in TEXT_FIELDS if f in frame.columns})
        good.append(out)
    return good, problems


def read_facility_register(
    path: Path | str,
    *,
    catalogue: Catalogue,
    coords: str = "wgs84",
    study_area: BaseGeometry | None = None,
    columns: ColumnMap | None = None,
) -> RegisterRead:
    """Read a facility register and report its bad rows.

    Parameters
    ----------
    path
        CSV (UTF-8/GBK/GB18030, detected), XLSX, GeoJSON or GeoPackage. Headers are Chinese or
        English (see ``data/columns.toml``); ``facility_id, name, type, lon, lat, capacity`` works.
    catalogue
        Facility-type catalogue; type cells are matched with
        :func:`planner.facilities.match_type_name`, unknown spellings are reported, not guessed.
    coords
        Coordinate system of the file: ``wgs84``, ``gcj02`` (Amap/Tencent), ``bd09`` (Baidu) or
        ``cgcs2000`` (treated as WGS-84).
    study_area
        Polygon in WGS-84 degrees; records outside it are reported and dropped.
    columns
        Header mapping (default ``data/columns.toml``).

    Returns
    -------
    RegisterRead
        Facilities, per-row problems, encoding and coordinate system.

    Raises
    ------
    InputDataError
        Unreadable file, projected coordinates, no lon/lat columns, or no usable row.
    """
    table = read_table(Path(path), table="facilities", columns=columns)
    frame = table.frame.reset_index(drop=True)
    lon_raw, lat_raw = _lonlat(frame)
    lon, lat = to_wgs84(lon_raw, lat_raw, coords=coords)
    good, problems = _clean_rows(frame, catalogue, lon, lat, study_area)
    problem_frame = pd.DataFrame(problems, columns=list(PROBLEM_COLUMNS))
    if not good:
        first = problems[0]["problem"] if problems else "the file has no records"
        msg = f"no usable facility in {path} ({len(problems)} problem(s), first: {first})"
        raise InputDataError(msg)
    records = pd.DataFrame(good)
    geometry = points(records.pop("lon").to_numpy(), records.pop("lat").to_numpy())
    facilities = validate_facilities(gpd.GeoDataFrame(records, geometry=geometry, crs=WGS84))
    logger.info("register %s: %d facilities, %d problem(s)", Path(path).name, len(facilities),
                len(problem_frame))
    return RegisterRead(facilities=facilities, problems=problem_frame, encoding=table.encoding,
                        coords=str(coords).lower())
