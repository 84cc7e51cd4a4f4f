"""Read administrative units with older-adult population (polygons or points) and their hierarchy.

Level rules
-----------
A unit's level is one of ``city, district, street, town, community, village``. It comes from the
level column (区县 / 街道 / 乡镇 / 镇街 / 社区 / 村 / 村（社区） ..., generic names resolved by the name's
suffix), else from the 12-digit 统计用区划代码 (digits 1-2 province, 3-4 city, 5-6 county, 7-9
township: 001-099 街道, 100-399 镇/乡; 10-12 village-level: 001-199 居委会 = community, 200-399
村委会 = village), else from the name's suffix (…街道, …镇/乡, …社区, …村), else ``community``.
Only community- and village-level rows become units; upper-level rows only feed the hierarchy.

Settlement rules
----------------
``urban``/``suburban``/``rural`` from the settlement column (urban, suburban, rural, 城镇, 城市, 城区,
郊区, 农村, 乡村), else the zone name through the profile's ``zone_settlement`` map (e.g. 中心城区 ->
urban, 郊区新城 -> suburban), else the level (community -> urban, village -> rural). A 村 (village)
stays rural whatever its zone unless the profile sets ``villages_follow_zones``. A settlement or
zone name the profile does not know does not reject the unit: it is recorded as a problem naming
the name and the profile, and the unit's level decides.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely import points

from planner.errors import InputDataError
from planner.io.table import SOURCE_ROW, ColumnMap, cell_text, parse_number, read_table
from planner.network.coords import check_lonlat, to_wgs84
from planner.schema import WGS84, validate_units

logger = logging.getLogger(__name__)

BOTTOM_LEVELS = ("community", "village")
PROBLEM_COLUMNS = ("row", "unit_id", "problem", "value")
POP_FIELDS = ("pop_65", "pop_80", "pop_disabled", "pop_alone", "total_pop", "older_pop_hukou")
_LEVEL_WORDS = {
    "city": ("市", "city", "地级市"),
    "district": ("区县", "区", "县", "县级市", "区(市)县", "县(市、区)", "district", "county"),
    "street": ("街道", "street", "subdistrict"),
    "town": ("乡镇", "镇", "乡", "town", "township"),
    "tier2": ("镇街", "街道·乡镇", "乡镇(街道)", "镇(街道)", "街镇"),
    "community": ("社区", "居委会", "居", "community"),
    "village": ("村", "行政村", "village"),
    "tier3": ("村(社区)", "社区·村", "村居", "居(村)", "村社区"),
}
_SETTLEMENT_WORDS = {"urban": "urban", "城镇": "urban", "城市": "urban", "城区": "urban",
                     "suburban": "suburban", "郊区": "suburban",
                     "rural": "rural", "农村": "rural", "乡村": "rural"}
_CODE = re.compile(r"^\d{12}$")


@dataclass(frozen=True, slots=True)
class UnitsRead:
    """Units as read.

    Attributes
    ----------
    units
        Community/village units in EPSG:4326 passing :func:`planner.schema.validate_units`:
        ``unit_id, name, older_pop, settlement, parent_id, parent_name, level, zone, source_row``
        plus ``pop_65, pop_80, pop_disabled, pop_alone, total_pop`` when given.
    hierarchy
        Every level: ``unit_id, name, level, parent_id`` (``parent_id`` empty at the top).
    problems
        ``row`` (1-based file row), ``unit_id``, ``problem``, ``value``.
    encoding
        CSV encoding used, else ``None``.
    """

    units: gpd.GeoDataFrame
    hierarchy: pd.DataFrame
    problems: pd.DataFrame
    encoding: str | None


def _norm(text: str) -> str:
    return text.replace("（", "(").replace("）", ")").replace(" ", "").strip().lower()


def level_of(raw_level: str, name: str, code: str) -> str:
    """Canonical level of a unit from its level cell, 12-digit code or name (see module doc)."""
    word = _norm(raw_level)
    for level, words in _LEVEL_WORDS.items():
        if word and word in {_norm(w) for w in words}:
            if level == "tier2":
                return "town" if name.endswith(("镇", "乡")) else "street"
            if level == "tier3":
                return "village" if name.endswith("村") else "community"
            return level
    if _CODE.match(code):
        if code[4:] == "0" * 8:
            return "city"
        if code[6:] == "0" * 6:
            return "district"
        if code[9:] == "000":
            return "street" if int(code[6:9]) < 100 else "town"
        return "community" if int(code[9:]) < 200 else "village"
    for suffix, level in (("街道", "street"), ("镇", "town"), ("乡", "town"), ("社区", "community"),
                          ("居委会", "community"), ("村", "village")):
        if name.endswith(suffix):
            return level
    return "community"


def _settlement(raw: str, zone: str, level: str, zone_settlement: Mapping[str, str],
                villages_follow_zones: bool) -> tuple[str, str]:
    """The unit's settlement class and the unknown name ('' when known) that made it fall back."""
    by_level = "rural" if level == "village" else "urban"
    if raw:
        known = _SETTLEMENT_WORDS.get(raw.lower()) or zone_settlement.get(raw)
        return (known, "") if known else (by_level, raw)
    if zone:
        if zone not in zone_settlement:
            return by_level, zone
        if level == "village" and not villages_follow_zones:
            return "rural", ""
        return zone_settlement[zone], ""
    return by_level, ""


def _code_ancestors(code: str) -> list[tuple[str, str]]:
    """(id, level) of the township, county and city of a 12-digit village-level code."""
    town = code[:9] + "000"
    return [(town, "street" if int(code[6:9]) < 100 else "town"),
            (code[:6] + "000000", "district"), (code[:4] + "00000000", "city")]


def _geometry(frame: pd.DataFrame, coords: str) -> gpd.GeoSeries:
    if isinstance(frame, gpd.GeoDataFrame) and "geometry" in frame.columns:
        geo = frame.geometry
        if geo.crs is not None and not geo.crs.is_geographic:
            return geo.to_crs(WGS84)
        xy = shapely.get_coordinates(geo.to_numpy())
        check_lonlat(xy[:, 0], xy[:, 1], what="unit coordinates")
        conv = shapely.transform(geo.to_numpy(), lambda a: np.column_stack(to_wgs84(
            a[:, 0], a[:, 1], coords=coords)))
        return gpd.GeoSeries(conv, crs=WGS84, index=frame.index)
    if "lon" not in frame.columns or "lat" not in frame.columns:
        msg = "units file has no geometry and no 经度/纬度 (lon/lat) columns; add point coordinates"
        raise InputDataError(msg)
    lon, lat = to_wgs84(frame["lon"].map(parse_number).to_numpy(float),
                        frame["lat"].map(parse_number).to_numpy(float), coords=coords)
    geoms = [None if np.isnan(x) or np.isnan(y) else points(x, y) for x, y in zip(lon, lat, strict=True)]
    return gpd.GeoSeries(geoms, crs=WGS84, index=frame.index)


def _records(frame: pd.DataFrame) -> pd.DataFrame:
    """Per row: code, name, level, parent id/name, district name (all text)."""
    def col(field: str) -> pd.Series:
        if field not in frame.columns:
            return pd.Series([""] * len(frame), index=frame.index)
        return frame[field].map(cell_text)

    out = pd.DataFrame({"unit_id": col("unit_id"), "name": col("name"),
                        "parent_id": col("parent_id"), "parent_name": col("parent_name"),
                        "district_name": col("district_name"), "zone": col("zone"),
                        "settlement_raw": col("settlement"), "level_raw": col("level")})
    out["unit_id"] = out["unit_id"].where(out["unit_id"] != "", out["name"])
    out["level"] = [level_of(lv, n, c) for lv, n, c in
                    zip(out["level_raw"], out["name"], out["unit_id"], strict=True)]
    derived = [(_code_ancestors(c)[0][0] if _CODE.match(c) and lv in BOTTOM_LEVELS else "")
               for c, lv in zip(out["unit_id"], out["level"], strict=True)]
    out["parent_id"] = out["parent_id"].where(out["parent_id"] != "", pd.Series(derived,
                                                                               index=out.index))
    out["parent_id"] = out["parent_id"].where(out["parent_id"] != "", out["parent_name"])
    return out


def _build_hierarchy(rec: pd.DataFrame) -> pd.DataFrame:
    """unit_id, name, level, parent_id for the rows and every derivable ancestor."""
    nodes: dict[str, dict[str, str]] = {}

    def add(uid: str, name: str, level: str, parent: str) -> None:
        node = nodes.setdefault(uid, {"unit_id": uid, "name": "", "level": level, "parent_id": ""})
        node["name"] = node["name"] or name
        node["parent_id"] = node["parent_id"] or parent

    for r in rec.itertuples(index=False):
        parent = r.parent_id
        if not parent and _CODE.match(r.unit_id) and r.level not in ("city",):
            parent = {"district": r.unit_id[:4] + "0" * 8,
                      "street": r.unit_id[:6] + "0" * 6, "town": r.unit_id[:6] + "0" * 6,
                      }.get(r.level, "")
        add(r.unit_id, r.name, r.level, parent)
        if r.level in BOTTOM_LEVELS and _CODE.match(r.unit_id):
            chain = _code_ancestors(r.unit_id)
            names = [r.parent_name, r.district_name, ""]
            for k, (uid, level) in enumerate(chain):
                add(uid, names[k], level, chain[k + 1][0] if k + 1 < len(chain) else "")
        elif r.level in BOTTOM_LEVELS and r.parent_id:
            level = "town" if r.parent_name.endswith(("镇", "乡")) else "street"
            add(r.parent_id, r.parent_name or r.parent_id, level, r.district_name)
            if r.district_name:
                add(r.district_name, r.district_name, "district", "")
    out = pd.DataFrame(list(nodes.values()), columns=["unit_id", "name", "level", "parent_id"])
    out["name"] = out["name"].where(out["name"] != "", out["unit_id"])
    return out


def read_units(
    path: Path | str,
    *,
    coords: str = "wgs84",
    zone_settlement: Mapping[str, str] | None = None,
    columns: ColumnMap | None = None,
    villages_follow_zones: bool = False,
    profile_name: str = "",
) -> UnitsRead:
    """Read a units file (GeoJSON/GPKG/Shapefile polygons, or CSV/XLSX points) with population.

    Parameters
    ----------
    path
        The file; headers Chinese or English (``data/columns.toml``).
    coords
        Coordinate system of the file (``wgs84``, ``gcj02``, ``bd09``, ``cgcs2000``); projected
        geodata files are reprojected from their own CRS.
    zone_settlement
        Zone name -> ``urban``/``suburban``/``rural`` (a rule profile's ``zone_settlement``).
    columns
        Header mapping (default ``data/columns.toml``).
    villages_follow_zones
        True applies the zone map to villages too (default: a 村 is rural).
    profile_name
        The profile the zones come from, named in the unknown-zone problem rows.

    Returns
    -------
    UnitsRead
        Units, hierarchy, problems and encoding.

    Raises
    ------
    InputDataError
        Unreadable file, no population column, projected lon/lat, or no usable unit.
    """
    table = read_table(Path(path), table="units", columns=columns)
    frame = table.frame.reset_index(drop=True)
    if "older_pop" not in frame.columns:
        msg = f"units file {path} has no older-population column; name it 60岁以上人口 or older_pop"
        raise InputDataError(msg)
    rec = _records(frame)
    hierarchy = _build_hierarchy(rec)
    geometry = _geometry(frame, coords)
    zones = dict(zone_settlement or {})
    problems: list[dict[str, object]] = []
    keep: list[int] = []
    seen: set[str] = set()
    settlements: list[str] = []
    for i, r in rec.iterrows():
        row = int(frame.at[i, SOURCE_ROW])
        if r["level"] not in BOTTOM_LEVELS:
            continue
        pop = parse_number(frame.at[i, "older_pop"])
        settle, unknown = _settlement(r["settlement_raw"], r["zone"], r["level"], zones,
                                      villages_follow_zones)
        issue = None
        if np.isnan(pop) or pop < 0:
            issue = ("older_pop missing or negative", frame.at[i, "older_pop"])
        elif geometry.iloc[i] is None or geometry.iloc[i].is_empty:
            issue = ("no geometry or coordinates", "")
        elif r["unit_id"] in seen:
            issue = ("duplicate unit_id; the first row is kept", r["unit_id"])
        if issue is None and unknown:
            problems.append({"row": row, "unit_id": r["unit_id"], "value": unknown, "problem": (
                f"zone/settlement {unknown!r} unknown to profile {profile_name or '(none)'}; "
                f"used the unit's level ({settle}); map it in the profile's [zones]")})
        if issue:
            problems.append({"row": row, "unit_id": r["unit_id"], "problem": issue[0],
                             "value": str(issue[1])})
            continue
        seen.add(r["unit_id"])
        keep.append(int(str(i)))
        settlements.append(str(settle))
    if not keep:
        msg = f"no usable unit in {path} ({len(problems)} problem(s)); check population and levels"
        raise InputDataError(msg)
    sub = rec.loc[keep]
    names = dict(zip(hierarchy["unit_id"], hierarchy["name"], strict=True))
    units = pd.DataFrame({
        "unit_id": sub["unit_id"], "name": sub["name"].where(sub["name"] != "", sub["unit_id"]),
        "older_pop": frame.loc[keep, "older_pop"].map(parse_number), "settlement": settlements,
        "parent_id": sub["parent_id"],
        "parent_name": [n or names.get(p, p) for n, p in zip(sub["parent_name"], sub["parent_id"], strict=True)],
        "level": sub["level"], "zone": sub["zone"], SOURCE_ROW: frame.loc[keep, SOURCE_ROW]})
    for field in POP_FIELDS:
        if field in frame.columns:
            units[field] = frame.loc[keep, field].map(parse_number)
    gdf = validate_units(gpd.GeoDataFrame(units, geometry=geometry.loc[keep], crs=WGS84))
    logger.info("units %s: %d units, %d hierarchy nodes, %d problem(s)", Path(path).name,
                len(gdf), len(hierarchy), len(problems))
    return UnitsRead(units=gdf.reset_index(drop=True), hierarchy=hierarchy,
                     problems=pd.DataFrame(problems, columns=list(PROBLEM_COLUMNS)),
                     encoding=table.encoding)
