"""Read walkable ways, care facilities and residential areas from OSM files, or download by place."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmium
import pandas as pd
import shapely
from shapely.geometry import Point, box
from shapely.geometry.base import BaseGeometry

from planner.errors import InputDataError, SourceUnavailableError
from planner.facilities import Catalogue, classify_osm_tags
from planner.network.walkable import is_walkable
from planner.schema import WGS84, RawNetwork

logger = logging.getLogger(__name__)

OSM_SUFFIXES = (".osm", ".osm.bz2", ".osm.gz", ".osm.pbf", ".pbf", ".xml")
RESIDENTIAL_BUILDINGS = frozenset({"residential", "apartments", "house", "dormitory", "detached"})


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


class _Collector:
    """Accumulates ways, POIs and areas during one pass."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self.seg_u: list[int] = []
        self.seg_v: list[int] = []
        self.seg_way: list[int] = []
        self.seg_highway: list[str] = []
        self.node_xy: dict[int, tuple[float, float]] = {}
        self.pois: list[dict[str, object]] = []
        self.residential: list[dict[str, object]] = []
        self.wkb = osmium.geom.WKBFactory()

    def way(self, way: osmium.osm.Way) -> None:
        tags = {t.k: t.v for t in way.tags}
        if not is_walkable(tags):
            return
        refs = []
        for node in way.nodes:
            if not node.location.valid():
                continue
            refs.append(node.ref)
            self.node_xy[node.ref] = (node.location.lon, node.location.lat)
        for a, b in zip(refs[:-1], refs[1:], strict=True):
            if a != b:
                self.seg_u.append(a)
                self.seg_v.append(b)
                self.seg_way.append(way.id)
                self.seg_highway.append(tags["highway"])

    def node(self, node: osmium.osm.Node) -> None:
        if not node.tags or not node.location.valid():
            return
        tags = {t.k: t.v for t in node.tags}
        ftype = classify_osm_tags(tags, self.catalogue)
        if ftype is not None:
            geom = Point(node.location.lon, node.location.lat)
            self._add_poi(f"osm_n{node.id}", tags, ftype, geom)

    def area(self, area: osmium.osm.Area) -> None:
        tags = {t.k: t.v for t in area.tags}
        ftype = classify_osm_tags(tags, self.catalogue)
        is_landuse = tags.get("landuse") == "residential"
        is_building = tags.get("building") in RESIDENTIAL_BUILDINGS
        if ftype is None and not (is_landuse or is_building):
            return
        try:
            geom = shapely.from_wkb(self.wkb.create_multipolygon(area))
        except RuntimeError:
            return
        kind = "w" if area.from_way() else "r"
        if ftype is not None:
            self._add_poi(f"osm_{kind}{area.orig_id()}", tags, ftype, geom.representative_point())
        if is_landuse or is_building:
            self.residential.append(
                {
                    "osm_id": f"{kind}{area.orig_id()}",
                    "name": tags.get("name", ""),
                    "kind": "landuse" if is_landuse else "building",
                    "geometry": geom,
                }
            )

    def _add_poi(self, fid: str, tags: dict[str, str], ftype: str, geom: BaseGeometry) -> None:
        keep = {k: v for k, v in tags.items() if k in ("amenity", "healthcare", "social_facility")}
        self.pois.append(
            {
                "facility_id": fid,
                "name": tags.get("name:zh") or tags.get("name") or fid,
                "type": ftype,
                "capacity": float(tags["capacity"]) if tags.get("capacity", "").isdigit() else np.nan,
                "osm_tags": ";".join(f"{k}={v}" for k, v in sorted(keep.items())),
                "geometry": geom,
            }
        )


def _file_bounds(path: Path) -> BaseGeometry | None:
    header = osmium.io.Reader(str(path), osmium.osm.osm_entity_bits.NOTHING).header()
    bbox = header.box()
    if not bbox.valid():
        return None
    return box(bbox.bottom_left.lon, bbox.bottom_left.lat, bbox.top_right.lon, bbox.top_right.lat)


def _to_raw_network(col: _Collector, study_area: BaseGeometry | None) -> RawNetwork:
    seg_u = np.asarray(col.seg_u, dtype=np.int64)
    seg_v = np.asarray(col.seg_v, dtype=np.int64)
    ids = np.unique(np.concatenate([seg_u, seg_v]))
    xy = np.array([col.node_xy[i] for i in ids], dtype=np.float64).reshape(-1, 2)
    u_pos = np.searchsorted(ids, seg_u)
    v_pos = np.searchsorted(ids, seg_v)
    keep = np.ones(seg_u.shape[0], dtype=bool)
    if study_area is not None and ids.size:
        inside = shapely.contains_xy(study_area, xy[:, 0], xy[:, 1])
        keep = inside[u_pos] | inside[v_pos]
    highway = np.asarray(col.seg_highway, dtype=str)
    way = np.asarray(col.seg_way, dtype=np.int64)
    used = np.unique(np.concatenate([u_pos[keep], v_pos[keep]]))
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
    col = _Collector(catalogue)
    try:
        area = study_area if study_area is not None else _file_bounds(path)
        processor = osmium.FileProcessor(str(path)).with_locations().with_areas().with_filter(
            osmium.filter.EmptyTagFilter())  # untagged nodes stay in C++ (locations only)
        for obj in processor:
            if isinstance(obj, osmium.osm.Way):
                col.way(obj)
            elif isinstance(obj, osmium.osm.Node):
                col.node(obj)
            elif isinstance(obj, osmium.osm.Area):
                col.area(obj)
    except RuntimeError as exc:
        msg = f"cannot read OSM file {path} ({exc}); check that it is a valid, complete OSM file"
        raise InputDataError(msg) from exc
    network = _to_raw_network(col, area)
    if network.n_edges == 0:
        msg = f"no walkable way inside the study area of {path}; check the file or the area"
        raise InputDataError(msg)
    pois = gpd.GeoDataFrame(
        pd.DataFrame(col.pois, columns=["facility_id", "name", "type", "capacity", "osm_tags", "geometry"]),
        geometry="geometry",
        crs=WGS84,
    )
    if area is not None and len(pois):
        pois = pois[pois.within(area)].reset_index(drop=True)
    pois = pois.drop_duplicates("facility_id").reset_index(drop=True)
    residential = gpd.GeoDataFrame(
        pd.DataFrame(col.residential, columns=["osm_id", "name", "kind", "geometry"]),
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
