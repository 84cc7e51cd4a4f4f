"""Batch input I/O: read the whole area once, write and read the per-region part files."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import geopandas as gpd
import pandas as pd
from shapely.geometry.base import BaseGeometry

from planner.batch.parts import RegionPart
from planner.coverage.demand import derive_units_from_residential
from planner.errors import InputDataError
from planner.io.catalogue import read_catalogue
from planner.io.folder import hash_file
from planner.io.osm import OsmExtract, read_osm_file
from planner.network.crs import choose_utm_crs
from planner.params import PlanParams
from planner.schema import WGS84, RawNetwork

T = TypeVar("T")

#: Region id columns tried in order when ``--region-id-column`` is not given.
REGION_ID_COLUMNS = ("region_id", "code", "unit_id", "id", "区划代码", "统计用区划代码", "adcode")


@dataclass(frozen=True, slots=True)
class WholeArea:
    """The whole area's data, read once before cutting.

    Attributes
    ----------
    network, facilities, residential
        As read from the OSM file (facilities from the register when one is given).
    units
        The units file's units (WGS-84), or units derived from residential land (projected).
    units_given
        True when a units file was given.
    hierarchy
        The units file's hierarchy, or ``None``.
    crs
        The whole area's projected CRS.
    """

    network: RawNetwork
    facilities: gpd.GeoDataFrame
    residential: gpd.GeoDataFrame
    units: gpd.GeoDataFrame
    units_given: bool
    hierarchy: pd.DataFrame | None
    crs: str


def read_regions(path: Path, id_column: str | None) -> gpd.GeoDataFrame:
    """Regions as ``region_id, region_name, geometry`` (WGS-84) from any geodata file.

    Raises
    ------
    InputDataError
        Missing file, no id column, duplicate ids or no polygon.
    """
    if not path.is_file():
        msg = f"--regions {path} not found; give a GeoPackage/GeoJSON/Shapefile of region polygons"
        raise InputDataError(msg)
    try:
        frame = gpd.read_file(path, engine="pyogrio")
    except Exception as exc:  # pyogrio raises its own error types for unreadable files
        msg = f"cannot read --regions {path} ({exc}); give a GeoPackage, GeoJSON or Shapefile"
        raise InputDataError(msg) from exc
    names = [id_column] if id_column else [c for c in REGION_ID_COLUMNS if c in frame.columns]
    if not names or names[0] not in frame.columns:
        msg = (f"--regions {path} has no id column {id_column or REGION_ID_COLUMNS}; "
               f"name it with --region-id-column (columns: {', '.join(map(str, frame.columns))})")
        raise InputDataError(msg)
    ids = frame[names[0]].astype(str)
    if ids.duplicated().any():
        dup = ids[ids.duplicated()].tolist()[:5]
        msg = f"--regions {path}: duplicate region ids {dup}; make them unique"
        raise InputDataError(msg)
    if frame.crs is not None:
        frame = frame.to_crs(WGS84)
    name_col = next((c for c in ("region_name", "name", "名称") if c in frame.columns), names[0])
    out = gpd.GeoDataFrame({"region_id": ids, "region_name": frame[name_col].astype(str)},
                           geometry=frame.geometry.to_numpy(), crs=WGS84)
    out = out[~out.geometry.is_empty & out.geometry.notna()].reset_index(drop=True)
    if out.empty:
        msg = f"--regions {path} holds no polygon; give region polygons"
        raise InputDataError(msg)
    return out


@dataclass(frozen=True, slots=True)
class SideInputs:
    """The register's facilities (``None``: OSM POIs), the units file's units and hierarchy."""

    facilities: gpd.GeoDataFrame | None
    units: gpd.GeoDataFrame | None
    hierarchy: pd.DataFrame | None


def read_side_inputs(study_area: BaseGeometry | None, *, facilities: Path | None = None,
                     coords: str = "wgs84", units: Path | None = None,
                     units_coords: str = "wgs84",
                     zone_settlement: Mapping[str, str] | None = None) -> SideInputs:
    """Read the facility register and the units file (independent of the OSM read)."""
    from planner.io.registers import read_facility_register
    from planner.io.units import read_units

    fac = None
    if facilities is not None:
        fac = read_facility_register(facilities, catalogue=read_catalogue(), coords=coords,
                                     study_area=study_area).facilities
    if units is None:
        return SideInputs(fac, None, None)
    read = read_units(units, coords=units_coords, zone_settlement=zone_settlement)
    return SideInputs(fac, read.units, read.hierarchy)


def whole_area(extract: OsmExtract, side: SideInputs, params: PlanParams) -> WholeArea:
    """The whole area from the OSM extract and the side inputs."""
    crs = choose_utm_crs(extract.network.lon, extract.network.lat)
    fac = side.facilities if side.facilities is not None else extract.pois.drop(
        columns=["osm_tags"], errors="ignore")
    units = side.units if side.units is not None else derive_units_from_residential(
        extract.residential, params.demand, crs)
    return WholeArea(extract.network, fac, extract.residential, units, side.units is not None,
                     side.hierarchy, crs)


def read_whole_area(osm: Path, params: PlanParams, *, facilities: Path | None = None,
                    coords: str = "wgs84", units: Path | None = None, units_coords: str = "wgs84",
                    zone_settlement: Mapping[str, str] | None = None) -> WholeArea:
    """Read the OSM file, the register and the units file once for the whole batch."""
    extract = read_osm_file(osm, read_catalogue())
    side = read_side_inputs(extract.study_area, facilities=facilities, coords=coords, units=units,
                            units_coords=units_coords, zone_settlement=zone_settlement)
    return whole_area(extract, side, params)


def dump_atomically(obj: object, path: Path) -> str:
    """Pickle ``obj`` to ``path`` via a temporary file and a rename (never half-written);
    return the file's sha256 (of the bytes written, so the file is not read again)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    fd, tmp = tempfile.mkstemp(prefix=".part.", dir=path.parent)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)
    return hashlib.sha256(data).hexdigest()


def load_own(path: Path, kind: type[T]) -> T:
    """Read a file written by :func:`dump_atomically` in this run's folder, of type ``kind``."""
    with path.open("rb") as handle:
        obj = pickle.load(handle)  # noqa: S301 - written by this run in its own folder
    if not isinstance(obj, kind):
        msg = f"{path} is not a careplan {kind.__name__}; delete the run's _parts folder and rerun"
        raise InputDataError(msg)
    return obj


def write_part(part: RegionPart, path: Path) -> str:
    """Write a part file atomically; return its sha256."""
    return dump_atomically(part, path)


def read_part(path: Path) -> RegionPart:
    """Read a part file written by :func:`write_part` (a file of this run's own making)."""
    return load_own(path, RegionPart)


def inputs_digest(files: Mapping[str, Path | None], extra: Mapping[str, object]) -> str:
    """sha256 over the input files' hashes and the run's parameters (the resume key)."""
    digest = hashlib.sha256()
    for name, path in sorted(files.items()):
        digest.update(f"{name}={hash_file(path) if path is not None else '-'};".encode())
    digest.update(json.dumps(extra, sort_keys=True, default=str).encode())
    return digest.hexdigest()
