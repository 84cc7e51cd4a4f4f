"""Canonical column names, the data contracts between steps, and validate_* contract checks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from planner.errors import InputDataError
from planner.params import FACILITY_TYPES, SETTLEMENTS

WGS84 = "EPSG:4326"

# facilities
FACILITY_ID = "facility_id"
NAME = "name"
FACILITY_TYPE = "type"
CAPACITY = "capacity"
FACILITY_COLUMNS = (FACILITY_ID, NAME, FACILITY_TYPE, CAPACITY)

# units (社区/村)
UNIT_ID = "unit_id"
UNIT_NAME = "name"
OLDER_POP = "older_pop"
SETTLEMENT = "settlement"
PARENT_ID = "parent_id"
PARENT_NAME = "parent_name"
UNIT_COLUMNS = (UNIT_ID, UNIT_NAME, OLDER_POP, SETTLEMENT)


@dataclass(frozen=True, slots=True)
class RawNetwork:
    """Walkable OSM way segments before projection, as parallel arrays.

    Each edge is one straight segment between two consecutive way nodes, so its geometry is the
    line between its end nodes. Walking is two-way on every edge.

    Attributes
    ----------
    node_id
        OSM node ids, int64, shape (n,).
    lon, lat
        WGS-84 degrees, shape (n,).
    edge_u, edge_v
        Positions into the node arrays, int64, shape (m,).
    edge_highway
        The ``highway`` tag of each segment's way (``"steps"`` gets the steps penalty), shape (m,).
    edge_way_id
        OSM way id of each segment, int64, shape (m,).
    """

    node_id: NDArray[np.int64]
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    edge_u: NDArray[np.int64]
    edge_v: NDArray[np.int64]
    edge_highway: NDArray[np.str_]
    edge_way_id: NDArray[np.int64]

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return int(self.node_id.shape[0])

    @property
    def n_edges(self) -> int:
        """Number of segments."""
        return int(self.edge_u.shape[0])


Transform = tuple[float, float, float, float, float, float]


@dataclass(frozen=True, slots=True)
class RasterWindow:
    """One raster band window (people per cell, or elevation) on an affine grid.

    Attributes
    ----------
    values
        People per cell (population) or metres (DEM), shape (rows, cols); NaN where the raster
        has no data.
    transform
        Affine ``(a, b, c, d, e, f)``: ``x = a*col + b*row + c``, ``y = d*col + e*row + f`` at a
        cell's upper-left corner (rasterio/GDAL order).
    crs
        The raster's CRS (WKT or an authority string).
    name
        File name and band, for messages and the manifest.
    outside_pop
        People of the raster outside the window that was read (0 when the whole raster was read).
    """

    values: NDArray[np.float64]
    transform: Transform
    crs: str
    name: str
    outside_pop: float = 0.0


#: A population raster window (people per cell).
PopulationGrid = RasterWindow


@dataclass(frozen=True, slots=True)
class PopulationInput:
    """Population rasters as demand (``careplan analyze --population``).

    Attributes
    ----------
    grids
        The study-area windows of every band read.
    older_share
        Share of older adults when the rasters count everybody (an assumption stated in every
        output), ``None`` when they count older adults already.
    grid_m
        Size of the generated aggregation grid without units (250 or 1000 m).
    files
        File name -> sha256, for the manifest.
    bands
        The band numbers read from every file.
    """

    grids: tuple[PopulationGrid, ...]
    older_share: float | None = None
    grid_m: int = 250
    files: Mapping[str, str] = field(default_factory=dict)
    bands: tuple[int, ...] = (1,)


@dataclass(frozen=True, slots=True)
class DemInput:
    """A terrain model for slope-aware walking (``--dem``).

    Attributes
    ----------
    window
        Elevation in metres over the study area (NaN nodata).
    path, sha256
        The file and its checksum, for summary.json.
    """

    window: RasterWindow
    path: str
    sha256: str


@dataclass(frozen=True, slots=True)
class PlanInputs:
    """Everything the I/O layer loaded for one run (all geometry in WGS-84).

    Attributes
    ----------
    network
        Walkable segments.
    facilities
        GeoDataFrame with ``facility_id, name, type, capacity`` and point geometry.
    units
        GeoDataFrame with ``unit_id, name, older_pop, settlement`` (optional ``parent_id,
        parent_name``) and polygon or point geometry; ``None`` to derive demand from
        ``residential`` with the default density.
    residential
        Residential buildings / land-use polygons used to place demand inside units, or ``None``.
    study_area
        Polygon the network was clipped to, or ``None``.
    label
        Human name of the study area.
    is_synthetic
        True for the generated demo district: every output says so.
    sources
        Input name -> sha256 checksum (or a description), for the run manifest.
    population
        Population rasters giving the demand (with units: the pattern inside each unit).
    dem
        Terrain model: walking times then depend on slope and direction.
    """

    network: RawNetwork
    facilities: gpd.GeoDataFrame
    units: gpd.GeoDataFrame | None = None
    residential: gpd.GeoDataFrame | None = None
    study_area: BaseGeometry | None = None
    label: str = "study area"
    is_synthetic: bool = False
    sources: Mapping[str, str] = field(default_factory=dict)
    population: PopulationInput | None = None
    dem: DemInput | None = None


def _require_columns(frame: pd.DataFrame, columns: tuple[str, ...], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        msg = (
            f"{what} lacks column(s) {', '.join(missing)} (has: {', '.join(map(str, frame.columns))});"
            f" rename your columns or see the README section on input files"
        )
        raise InputDataError(msg)


def _require_wgs84(frame: gpd.GeoDataFrame, what: str) -> None:
    if frame.crs is None or frame.crs.to_epsg() != 4326:
        msg = f"{what} CRS is {frame.crs}; give WGS-84 lon/lat (EPSG:4326) or reproject first"
        raise InputDataError(msg)


def validate_facilities(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Check a facilities frame against the contract; return it with canonical dtypes.

    Raises
    ------
    InputDataError
        Missing columns, unknown types, duplicate ids or non-point geometry.
    """
    _require_columns(frame, (FACILITY_ID, FACILITY_TYPE), "facilities")
    _require_wgs84(frame, "facilities")
    out = frame.copy()
    out[FACILITY_ID] = out[FACILITY_ID].astype(str)
    if NAME not in out.columns:
        out[NAME] = out[FACILITY_ID]
    if CAPACITY not in out.columns:
        out[CAPACITY] = np.nan
    out[CAPACITY] = pd.to_numeric(out[CAPACITY], errors="coerce")
    unknown = sorted(set(out[FACILITY_TYPE].astype(str)) - set(FACILITY_TYPES))
    if unknown:
        msg = f"unknown facility type(s) {unknown}; use one of {', '.join(FACILITY_TYPES)}"
        raise InputDataError(msg)
    dup = out[FACILITY_ID][out[FACILITY_ID].duplicated()].unique().tolist()
    if dup:
        msg = f"duplicate facility_id(s) {dup[:5]}; make facility ids unique"
        raise InputDataError(msg)
    if len(out) and not (out.geometry.geom_type == "Point").all():
        msg = "facilities must be points; use polygon centroids or a lon/lat CSV"
        raise InputDataError(msg)
    return out


def validate_units(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Check a units frame against the contract; return it with canonical dtypes.

    Raises
    ------
    InputDataError
        Missing columns, bad settlement class, negative population or duplicate ids.
    """
    _require_columns(frame, (UNIT_ID, OLDER_POP), "units")
    _require_wgs84(frame, "units")
    out = frame.copy()
    out[UNIT_ID] = out[UNIT_ID].astype(str)
    if UNIT_NAME not in out.columns:
        out[UNIT_NAME] = out[UNIT_ID]
    if SETTLEMENT not in out.columns:
        out[SETTLEMENT] = "urban"
    out[SETTLEMENT] = out[SETTLEMENT].astype(str).str.strip().str.lower()
    bad = sorted(set(out[SETTLEMENT]) - set(SETTLEMENTS))
    if bad:
        msg = f"unknown settlement class(es) {bad}; use 'urban', 'suburban' or 'rural'"
        raise InputDataError(msg)
    pop = pd.to_numeric(out[OLDER_POP], errors="coerce")
    if pop.isna().any() or (pop < 0).any():
        rows = out.loc[pop.isna() | (pop < 0), UNIT_ID].tolist()[:5]
        msg = f"older_pop is missing or negative for unit(s) {rows}; give a count >= 0"
        raise InputDataError(msg)
    out[OLDER_POP] = pop.astype(float)
    dup = out[UNIT_ID][out[UNIT_ID].duplicated()].unique().tolist()
    if dup:
        msg = f"duplicate unit_id(s) {dup[:5]}; make unit ids unique"
        raise InputDataError(msg)
    return out
