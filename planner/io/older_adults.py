"""Read an older-adult register (老年人动态管理数据库): personal data for the protected view only.

Each row is a person: an id, a location (lon/lat; else an address or building name matched to a
named place of the extract; else only a community code, placed at the community's centre) and
optional age / birth year and needs columns (Chinese headers in ``data/columns.toml``
``[older_adults]``). Yes/no cells accept 是/否, 有/无, Y/N, 1/0, true/false; 失能等级 counts as a
need unless it says 能力完好/完好/无/0. Bad rows are reported by row number and reason only --
never the person's name, id or address -- and dropped. Nothing here logs personal values.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely import points

from planner.errors import InputDataError
from planner.io.table import SOURCE_ROW, cell_text, parse_number, read_table
from planner.needs.people import FLAGS, NEEDS, PEOPLE_COLUMNS
from planner.network.coords import to_wgs84
from planner.schema import WGS84

logger = logging.getLogger(__name__)
_YES = {"是", "有", "y", "yes", "1", "true", "√", "✓", "需要"}
_NOT_DISABLED = {"", "能力完好", "完好", "无", "0", "否", "自理", "能自理"}


@dataclass(frozen=True, slots=True)
class OlderAdultsRead:
    """The register as read: people (WGS-84 points) and per-row problems (row, problem)."""

    people: gpd.GeoDataFrame
    problems: pd.DataFrame


def _yes(value: object) -> bool:
    return cell_text(value).lower() in _YES


def _age(rec: pd.Series, this_year: int) -> float:
    age = parse_number(rec.get("age"))
    if np.isnan(age):
        born = parse_number(rec.get("birth_year"))
        age = this_year - born if 1890 <= born <= this_year else np.nan
    return float(age)


def _locate(rec: pd.Series, places: dict[str, tuple[float, float]],
            units: dict[str, tuple[float, float]]) -> tuple[float, float, str]:
    lon, lat = parse_number(rec.get("lon")), parse_number(rec.get("lat"))
    if np.isfinite(lon) and np.isfinite(lat):
        return lon, lat, "point"
    address = cell_text(rec.get("address"))
    if address:
        for name in sorted(places, key=len, reverse=True):
            if name and name in address:
                return (*places[name], "address")
    code = cell_text(rec.get("unit_id"))
    if code in units:
        return (*units[code], "unit")
    return np.nan, np.nan, ""


def read_older_adults(path: Path | str, *, units: gpd.GeoDataFrame,
                      places: gpd.GeoDataFrame | None = None, coords: str = "wgs84",
                      this_year: int = 2026) -> OlderAdultsRead:
    """Read the register; see the module docstring.

    Parameters
    ----------
    path
        CSV or XLSX.
    units
        The analysis's units (``unit_id``, geometry): persons are assigned to the unit they
        fall in (or the one their community code names).
    places
        Named places (``name``, points) for address matching, or None.
    coords
        Coordinate system of lon/lat columns.

    Raises
    ------
    InputDataError
        Unreadable file, no id column, or no usable row.
    """
    frame = read_table(Path(path), table="older_adults").frame.reset_index(drop=True)
    if "person_id" not in frame.columns:
        msg = (f"older-adult register {Path(path).name} has no id column; name it 编号 or "
               "person_id (or add the spelling to data/columns.toml [older_adults])")
        raise InputDataError(msg)
    if "lon" in frame.columns and "lat" in frame.columns:
        lon, lat = to_wgs84(frame["lon"].map(parse_number).to_numpy(float),
                            frame["lat"].map(parse_number).to_numpy(float), coords=coords)
        frame["lon"], frame["lat"] = lon, lat
    wgs_units = units.to_crs(WGS84)
    centre = wgs_units.geometry.representative_point()
    unit_xy = {str(u): (p.x, p.y) for u, p in zip(wgs_units["unit_id"], centre, strict=True)}
    place_xy = ({} if places is None else
                {str(n): (p.x, p.y) for n, p in zip(places["name"], places.geometry.to_crs(WGS84),
                                                     strict=True)})
    rows, problems = _people_rows(frame, place_xy, unit_xy, this_year)
    if not rows:
        msg = f"no usable person in {Path(path).name} ({len(problems)} problem(s))"
        raise InputDataError(msg)
    people = pd.DataFrame(rows)
    geo = gpd.GeoDataFrame(people.drop(columns=["lon", "lat"]),
                           geometry=points(people["lon"], people["lat"]), crs=WGS84)
    geo = _assign_units(geo, wgs_units)
    logger.info("older-adult register: %d people read, %d rows with problems", len(geo),
                len(problems))
    return OlderAdultsRead(geo[[c for c in PEOPLE_COLUMNS if c in geo.columns] + ["geometry"]],
                           pd.DataFrame(problems, columns=["row", "problem"]))


def _people_rows(frame: pd.DataFrame, place_xy: dict[str, tuple[float, float]],
                 unit_xy: dict[str, tuple[float, float]], this_year: int
                 ) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """One record per usable row; problems name the row and the reason, never its values."""
    rows: list[dict[str, object]] = []
    problems: list[dict[str, object]] = []
    for _, rec in frame.iterrows():
        row = int(rec[SOURCE_ROW])
        pid = cell_text(rec.get("person_id"))
        if not pid:
            problems.append({"row": row, "problem": "no id"})
            continue
        x, y, how = _locate(rec, place_xy, unit_xy)
        if not how:
            problems.append({"row": row, "problem": "no location: give 经度/纬度, an address "
                             "matching a named place, or the community code"})
            continue
        age = _age(rec, this_year)
        out: dict[str, object] = {
            "person_id": pid, "name": cell_text(rec.get("name")), "age": age,
            "located_by": how, "unit_hint": cell_text(rec.get("unit_id")), "lon": x, "lat": y}
        out.update({f: _yes(rec.get(f)) for f in (*FLAGS, *NEEDS) if f != "disability"})
        out["disability"] = cell_text(rec.get("disability")) not in _NOT_DISABLED
        out["oldest_old"] = bool(out["oldest_old"]) or bool(age >= 80)
        rows.append(out)
    return rows, problems


def _assign_units(people: gpd.GeoDataFrame, units: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    joined = gpd.sjoin(people, units[["unit_id", "geometry"]], how="left", predicate="within")
    joined = joined[~joined.index.duplicated()]
    unit = joined["unit_id"].astype(object)
    known = set(units["unit_id"].astype(str))
    hint = people["unit_hint"].where(people["unit_hint"].isin(known))
    people = people.copy()
    people["unit_id"] = unit.where(unit.notna(), hint).astype(object)
    return people.drop(columns="unit_hint")
