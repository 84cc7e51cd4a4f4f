"""Read walkable ways, care facilities and residential areas from OSM files; download by place."""

from __future__ import annotations

import hashlib
import logging
import zlib
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmium
import pandas as pd
import shapely
from shapely.geometry import box
from shapely.geometry.base import BaseGeometry

from planner.errors import InputDataError, SourceUnavailableError
from planner.facilities import Catalogue
from planner.io.osm_collect import Collected, Collector, filtered_processor, unique_inverse
from planner.io.pbf_blocks import PbfUnsupportedError
from planner.io.pbf_read import read_pbf
from planner.schema import WGS84, RawNetwork

logger = logging.getLogger(__name__)

OSM_SUFFIXES = (".osm", ".osm.bz2", ".osm.gz", ".osm.pbf", ".pbf", ".xml")
#: Read by the numpy PBF reader (:mod:`planner.io.pbf_read`), the rest by pyosmium.
PBF_SUFFIXES = (".osm.pbf", ".pbf")


@dataclass(frozen=True, slots=True)
class OsmExtract:
    """What careplan takes from one OSM file.

    Attributes
    ----------
    network
        Walkable segments (clipped to ``study_area`` when given).
    pois
        Care facilities found by tags and names: ``facility_id`` (``osm_<kind><id>``), ``name``,
        ``type``, ``capacity`` (NaN), ``osm_tags`` (text), point geometry (WGS-84).
    residential
        ``landuse=residential`` areas and residential buildings: ``osm_id``, ``name``, ``kind``
        (``landuse`` or ``building``), polygon geometry (WGS-84).
    study_area
        The file's ``<bounds>`` box, or the requested study area.
    """

    network: RawNetwork
    pois: gpd.GeoDataFrame
    residential: gpd.GeoDataFrame
    study_area: BaseGeometry


def file_bounds(path: Path) -> BaseGeometry | None:
    """The box in the file's header (``None`` when it has none: such a PBF cannot be cut in
    pieces, :mod:`planner.io.osm_split`)."""
    header = osmium.io.Reader(str(path), osmium.osm.osm_entity_bits.NOTHING).header()
    bbox = header.box()
    if not bbox.valid():
        return None
    return box(bbox.bottom_left.lon, bbox.bottom_left.lat, bbox.top_right.lon, bbox.top_right.lat)


def _to_raw_network(col: Collected, study_area: BaseGeometry | None) -> RawNetwork:
    seg_u, seg_v, lon, lat, way, highway = col.segments()
    ids, first, inverse = unique_inverse(np.concatenate([seg_u, seg_v]))
    xy = np.column_stack([lon[first], lat[first]])
    u_pos, v_pos = inverse[:seg_u.shape[0]], inverse[seg_u.shape[0]:]
    keep = np.ones(seg_u.shape[0], dtype=bool)
    if study_area is not None and ids.size:
        inside = shapely.contains_xy(study_area, xy[:, 0], xy[:, 1])
        keep = inside[u_pos] | inside[v_pos]
    if keep.all():  # every node is used: no copies of the long arrays
        return RawNetwork(node_id=ids, lon=xy[:, 0].copy(), lat=xy[:, 1].copy(), edge_u=u_pos,
                          edge_v=v_pos, edge_highway=highway, edge_way_id=way)
    in_use = np.zeros(ids.shape[0], dtype=bool)
    in_use[u_pos[keep]] = True
    in_use[v_pos[keep]] = True
    used = np.flatnonzero(in_use)
    remap = np.full(ids.shape[0], -1, dtype=np.int64)
    remap[used] = np.arange(used.shape[0])
    return RawNetwork(
        node_id=ids[used],
        lon=xy[used, 0].copy(),
        lat=xy[used, 1].copy(),
        edge_u=remap[u_pos[keep]],
        edge_v=remap[v_pos[keep]],
        edge_highway=highway[keep],
        edge_way_id=way[keep],
    )


def read_osm_file(
    path: Path, catalogue: Catalogue, *, study_area: BaseGeometry | None = None
) -> OsmExtract:
    """Read an .osm, .osm.bz2 or .osm.pbf file offline.

    PBF files are decoded with numpy (:func:`planner.io.pbf_read.read_pbf`); a PBF that reader
    cannot decode (lzma/zstd/lz4 blocks, an unknown required feature, damage) and every other
    format are read with pyosmium (:func:`read_osm_pyosmium`). Both give the same extract.

    Parameters
    ----------
    path
        OSM XML (optionally bz2/gz-compressed) or PBF file.
    catalogue
        Facility-type catalogue used to classify POIs by tags and names.
    study_area
        WGS-84 polygon to clip to; default the file's ``<bounds>`` (all data when it has none).
        Segments with at least one end inside are kept whole.

    Raises
    ------
    InputDataError
        Missing or unreadable file, or no walkable way inside the study area.
    """
    if not path.is_file():
        msg = f"OSM file {path} not found; give an existing .osm, .osm.bz2 or .osm.pbf file"
        raise InputDataError(msg)
    if not path.name.lower().endswith(OSM_SUFFIXES):
        msg = f"{path.name} is not an OSM file; give an .osm, .osm.bz2 or .osm.pbf file"
        raise InputDataError(msg)
    if path.name.lower().endswith(PBF_SUFFIXES):
        parsed = _read_pbf_fast(path, catalogue)
        if parsed is not None:
            return assemble(path, parsed, _study_area(path, study_area))
    return read_osm_pyosmium(path, catalogue, study_area=study_area)


def read_osm_pyosmium(path: Path, catalogue: Catalogue, *,
                      study_area: BaseGeometry | None = None) -> OsmExtract:
    """:func:`read_osm_file` with pyosmium for every format (XML and compressed XML always go
    this way; the numpy PBF reader is tested against it)."""
    col = Collector(catalogue)
    area = collect(path, col, filtered_processor(str(path), catalogue), study_area)
    return assemble(path, col, area)


def _read_pbf_fast(path: Path, catalogue: Catalogue) -> Collected | None:
    """The numpy PBF reader's parts, or ``None`` (logged) when the file needs pyosmium."""
    try:
        return read_pbf(path, catalogue)
    except PbfUnsupportedError as exc:
        reason = str(exc)
    except (ValueError, IndexError, OverflowError, UnicodeDecodeError, zlib.error) as exc:
        reason = f"cannot decode it ({type(exc).__name__}: {exc})"
    logger.info("%s: %s; reading it with pyosmium", path.name, reason)
    return None


def _unreadable(path: Path, exc: Exception) -> InputDataError:
    return InputDataError(f"cannot read OSM file {path} ({exc}); check that it is a valid, "
                          "complete OSM file")


def _study_area(path: Path, study_area: BaseGeometry | None) -> BaseGeometry | None:
    try:
        return study_area if study_area is not None else file_bounds(path)
    except RuntimeError as exc:
        raise _unreadable(path, exc) from exc


def collect(path: Path, col: Collector, processor: osmium.FileProcessor,
            study_area: BaseGeometry | None) -> BaseGeometry | None:
    """Feed every object of ``processor`` to ``col``; return the study area (or file bounds)."""
    area = _study_area(path, study_area)
    try:
        for obj in processor:
            if isinstance(obj, osmium.osm.Way):
                col.way(obj)
            elif isinstance(obj, osmium.osm.Node):
                col.node(obj)
            elif isinstance(obj, osmium.osm.Area):
                col.area(obj)
    except RuntimeError as exc:
        raise _unreadable(path, exc) from exc
    return area


def assemble(path: Path, col: Collected, area: BaseGeometry | None) -> OsmExtract:
    """The extract from what ``col`` collected, clipped to ``area``."""
    network = _to_raw_network(col, area)
    if network.n_edges == 0:
        msg = f"no walkable way inside the study area of {path}; check the file or the area"
        raise InputDataError(msg)
    columns = ["facility_id", "name", "type", "capacity", "osm_tags", "geometry"]
    pois = gpd.GeoDataFrame(pd.DataFrame(col.pois, columns=columns), geometry="geometry",
                            crs=WGS84)
    if area is not None and len(pois):
        pois = pois[pois.within(area)].reset_index(drop=True)
    pois = pois.drop_duplicates("facility_id").reset_index(drop=True)
    residential = gpd.GeoDataFrame(
        pd.DataFrame(col.residential_columns(), columns=["osm_id", "name", "kind", "geometry"]),
        geometry="geometry",
        crs=WGS84,
    )
    if area is not None and len(residential):
        residential = residential[residential.intersects(area)].reset_index(drop=True)
    logger.info(
        "read %s: %d walkable segments, %d nodes, %d care/health POIs, %d residential areas",
        path.name, network.n_edges, network.n_nodes, len(pois), len(residential),
    )
    return OsmExtract(network, pois, residential, area if area is not None else shapely.box(
        network.lon.min(), network.lat.min(), network.lon.max(), network.lat.max()))


def download_place(place: str, catalogue: Catalogue, cache_dir: Path) -> Path:
    """Download the OSM data of a named place with osmnx into ``cache_dir``; return the file path.

    The downloaded XML is cached under ``cache_dir`` by place name, so a second call is offline.

    Raises
    ------
    SourceUnavailableError
        The place cannot be geocoded or Overpass cannot be reached (offline).
    """
    import osmnx as ox

    key = hashlib.sha256(place.encode("utf-8")).hexdigest()[:16]
    target = cache_dir / f"place_{key}.osm"
    if target.is_file():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    ox.settings.use_cache = True
    ox.settings.cache_folder = str(cache_dir / "osmnx")
    ox.settings.all_oneway = True
    try:
        graph = ox.graph_from_place(place, network_type="all", simplify=False, retain_all=True)
        tmp = target.with_suffix(".part")
        ox.io.save_graph_xml(graph, filepath=tmp)
        tmp.replace(target)
    except Exception as exc:  # osmnx raises many types (HTTP, geocoder, JSON)
        msg = (
            f"cannot download OSM data for {place!r} ({type(exc).__name__}: {exc}); "
            "check the place name and the internet connection, or pass --osm FILE"
        )
        raise SourceUnavailableError(msg) from exc
    del catalogue  # place downloads carry no POIs; pass a facilities register
    return target
