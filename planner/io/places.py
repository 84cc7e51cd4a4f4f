"""Named places of an OSM extract for the finder: everyday services and searchable names.

One offline pass over the file: every named node, way or area becomes a place (name, OSM kind
tag, point in WGS-84); those whose tags or name match the ``[everyday.*]`` catalogue (老年大学,
hospitals, pharmacies, supermarkets) carry that key in ``everyday``. Streets are one place per
name (the point of their first way).
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmium
import pandas as pd
from shapely.geometry import Point

from planner.errors import InputDataError
from planner.facilities import Catalogue, build_catalogue, classify_osm_tags
from planner.io.catalogue import DATA_DIR
from planner.schema import WGS84

PLACE_COLUMNS = ("place_id", "name", "kind", "everyday", "geometry")
_KIND_KEYS = ("amenity", "shop", "healthcare", "highway", "building", "landuse", "place",
              "leisure", "office", "tourism")


def read_everyday_catalogue(path: Path | None = None) -> Catalogue:
    """The ``[everyday.*]`` section of the facility catalogue (default data/facility_types.toml)."""
    path = path or DATA_DIR / "facility_types.toml"
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        msg = f"facility catalogue {path} is unreadable ({exc}); reinstall careplan"
        raise InputDataError(msg) from exc
    return build_catalogue(raw, section="everyday", allowed=None)


def _kind(tags: dict[str, str]) -> str:
    for key in _KIND_KEYS:
        if key in tags:
            return f"{key}={tags[key]}"
    return ""


def read_places(path: Path, everyday: Catalogue) -> gpd.GeoDataFrame:
    """Named places of an OSM file (columns :data:`PLACE_COLUMNS`, WGS-84 points).

    Raises
    ------
    InputDataError
        The file is missing or unreadable.
    """
    if not Path(path).is_file():
        msg = f"OSM file {path} not found; give an existing .osm or .osm.pbf file"
        raise InputDataError(msg)
    rows: list[dict[str, object]] = []
    streets: set[str] = set()
    try:
        for obj in osmium.FileProcessor(str(path)).with_locations():
            tags = {t.k: t.v for t in obj.tags}
            name = tags.get("name:zh") or tags.get("name")
            if not name:
                continue
            if isinstance(obj, osmium.osm.Node):
                point, pid = Point(obj.location.lon, obj.location.lat), f"n{obj.id}"
            elif isinstance(obj, osmium.osm.Way):
                locs = [n.location for n in obj.nodes if n.location.valid()]
                if not locs or ("highway" in tags and name in streets):
                    continue
                streets.update([name] if "highway" in tags else [])
                mid = locs[len(locs) // 2]
                point, pid = Point(mid.lon, mid.lat), f"w{obj.id}"
            else:
                continue
            rows.append({"place_id": pid, "name": name, "kind": _kind(tags),
                         "everyday": classify_osm_tags(tags, everyday) or "", "geometry": point})
    except RuntimeError as exc:
        msg = f"cannot read OSM file {path} ({exc}); check that it is a complete OSM file"
        raise InputDataError(msg) from exc
    frame = pd.DataFrame(rows, columns=list(PLACE_COLUMNS))
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=WGS84)


def read_register_everyday(path: Path, everyday: Catalogue, coords: str = "wgs84"
                           ) -> gpd.GeoDataFrame:
    """Rows of a facility register whose type is an everyday service (老年大学, 超市, 药店 ...).

    The care-facility reader reports such rows as unknown types and drops them; the finder
    shows them in the everyday group. Card fields are kept. Rows without coordinates are skipped.
    """
    from planner.facilities import match_type_name
    from planner.io.table import cell_text, parse_number, read_table
    from planner.network.coords import to_wgs84

    frame = read_table(Path(path), table="facilities").frame
    if "type" not in frame.columns or "lon" not in frame.columns or "lat" not in frame.columns:
        return gpd.GeoDataFrame({"place_id": [], "name": [], "type": []}, geometry=[], crs=WGS84)
    kinds = frame["type"].map(lambda v: match_type_name(cell_text(v), everyday) or "")
    rows = frame.loc[kinds != ""].copy()
    lon, lat = to_wgs84(rows["lon"].map(parse_number).to_numpy(float),
                        rows["lat"].map(parse_number).to_numpy(float), coords=coords)
    rows["type"] = kinds[kinds != ""]
    rows["place_id"] = [cell_text(v) if "facility_id" in rows else "" for v in
                        rows.get("facility_id", rows["source_row"])]
    rows["place_id"] = [p or f"R{r}" for p, r in zip(rows["place_id"], rows["source_row"],
                                                     strict=True)]
    keep = rows.drop(columns=["lon", "lat"]).map(cell_text)
    out = gpd.GeoDataFrame(keep, geometry=gpd.points_from_xy(lon, lat), crs=WGS84)
    return out[np.isfinite(lon) & np.isfinite(lat)].reset_index(drop=True)
