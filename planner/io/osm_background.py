"""Water, green space and land use of an OSM extract: the offline care map's light background.

Only polygons (``natural=water``, ``waterway=riverbank``, parks and woods, built-up land use)
are read, clipped to the study area and simplified (~1 m): they are drawn, not analysed.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Final

import geopandas as gpd
import osmium
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from planner.errors import InputDataError
from planner.schema import WGS84

logger = logging.getLogger(__name__)

#: (tag key, values) -> background kind; the first match wins.
KINDS: Final[tuple[tuple[str, frozenset[str], str], ...]] = (
    ("natural", frozenset({"water"}), "water"),
    ("waterway", frozenset({"riverbank", "dock", "canal"}), "water"),
    ("landuse", frozenset({"reservoir", "basin"}), "water"),
    ("leisure", frozenset({"park", "garden", "pitch", "playground"}), "green"),
    ("landuse", frozenset({"grass", "forest", "meadow", "recreation_ground", "village_green",
                           "cemetery", "farmland", "orchard"}), "green"),
    ("natural", frozenset({"wood", "scrub", "grassland"}), "green"),
    ("landuse", frozenset({"residential", "commercial", "retail", "industrial"}), "built"),
)
#: Simplification tolerance in degrees (about 1 m).
SIMPLIFY_DEG: Final = 1e-5


def background_kind(tags: dict[str, str]) -> str | None:
    """``water``, ``green``, ``built`` or ``None`` for an area's tags.

    Examples
    --------
    >>> background_kind({"natural": "water", "water": "river"})
    'water'
    >>> background_kind({"landuse": "residential"}), background_kind({"building": "yes"})
    ('built', None)
    """
    for key, values, kind in KINDS:
        if tags.get(key) in values:
            return kind
    return None


def _area_processor(path: Path) -> osmium.FileProcessor:
    """Only areas with a key of :data:`KINDS` (libosmium drops the rest, and assembles only such
    multipolygon relations): an area without one has no background kind."""
    keys = sorted({key for key, _, _ in KINDS})
    return (osmium.FileProcessor(str(path))
            .with_areas(osmium.filter.KeyFilter(*keys))
            .with_filter(osmium.filter.EntityFilter(osmium.osm.AREA))
            .with_filter(osmium.filter.KeyFilter(*keys)))


def read_background_areas(path: Path, study_area: BaseGeometry | None = None) -> gpd.GeoDataFrame:
    """Background polygons of an OSM file: ``kind`` (water/green/built) and geometry (WGS-84).

    Parameters
    ----------
    path
        ``.osm``, ``.osm.bz2`` or ``.osm.pbf`` file.
    study_area
        Clip to this polygon (lon/lat); the whole file when ``None``.

    Raises
    ------
    InputDataError
        The file is missing or unreadable.
    """
    if not path.is_file():
        raise InputDataError(f"OSM file {path} not found; give an existing OSM file")
    wkb = osmium.geom.WKBFactory()
    rows: list[tuple[str, BaseGeometry]] = []
    try:
        for area in _area_processor(path):
            assert isinstance(area, osmium.osm.Area)  # the entity filter passes areas only
            kind = background_kind({t.k: t.v for t in area.tags})
            if kind is None:
                continue
            try:
                rows.append((kind, shapely.from_wkb(wkb.create_multipolygon(area))))
            except RuntimeError:
                continue  # an incomplete multipolygon at the edge of the extract
    except RuntimeError as exc:
        raise InputDataError(f"cannot read OSM file {path} ({exc}); check the file") from exc
    frame = gpd.GeoDataFrame(pd.DataFrame(rows, columns=["kind", "geometry"]),
                             geometry="geometry", crs=WGS84)
    if study_area is not None and len(frame):
        frame = frame[frame.intersects(study_area)].copy()
        frame["geometry"] = frame.geometry.intersection(study_area)
    frame["geometry"] = frame.geometry.simplify(SIMPLIFY_DEG)
    frame = frame[~frame.geometry.is_empty].reset_index(drop=True)
    logger.info("read %d background areas from %s", len(frame), path.name)
    return frame
